"""weir.types: Flink SQL spelling (as Go's types.T.String()), parse_type, validation."""

import pickle


import pytest

from weir.types import (
    MAX_LENGTH,
    ArrayType,
    BigIntType,
    BinaryType,
    BooleanType,
    CharType,
    DataType,
    DataTypes,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntType,
    LocalZonedTimestampType,
    MapType,
    RowField,
    RowType,
    SmallIntType,
    TimestampType,
    TimeType,
    TinyIntType,
    VarBinaryType,
    VarCharType,
    parse_type,
)

T = DataTypes

# (type, the Go spelling)
SPELLINGS = [
    (T.TINYINT(), "TINYINT"),
    (T.SMALLINT(), "SMALLINT"),
    (T.INT(), "INT"),
    (T.INT(nullable=False), "INT NOT NULL"),
    (T.BIGINT(), "BIGINT"),
    (T.BOOLEAN(), "BOOLEAN"),
    (T.FLOAT(), "FLOAT"),
    (T.DOUBLE(False), "DOUBLE NOT NULL"),
    (T.DECIMAL(10, 2), "DECIMAL(10, 2)"),
    (T.DECIMAL(38, 38, nullable=False), "DECIMAL(38, 38) NOT NULL"),
    (T.DECIMAL(1, 0), "DECIMAL(1, 0)"),
    (T.CHAR(5), "CHAR(5)"),
    (T.VARCHAR(10), "VARCHAR(10)"),
    (T.STRING(), "STRING"),
    (T.VARCHAR(MAX_LENGTH), "STRING"),
    (T.STRING(False), "STRING NOT NULL"),
    (T.BINARY(3), "BINARY(3)"),
    (T.VARBINARY(8), "VARBINARY(8)"),
    (T.BYTES(), "BYTES"),
    (T.VARBINARY(MAX_LENGTH), "BYTES"),
    (T.DATE(), "DATE"),
    (T.TIME(), "TIME(0)"),
    (T.TIME(3), "TIME(3)"),
    (T.TIMESTAMP(), "TIMESTAMP(6)"),
    (T.TIMESTAMP(0), "TIMESTAMP(0)"),
    (T.TIMESTAMP(9, nullable=False), "TIMESTAMP(9) NOT NULL"),
    (T.TIMESTAMP_LTZ(3), "TIMESTAMP_LTZ(3)"),
    (T.TIMESTAMP_LTZ(), "TIMESTAMP_LTZ(6)"),
    (T.TIMESTAMP_WITH_LOCAL_TIME_ZONE(2), "TIMESTAMP_LTZ(2)"),
    (T.ARRAY(T.INT(False)), "ARRAY<INT NOT NULL>"),
    (T.ARRAY(T.STRING(), nullable=False), "ARRAY<STRING> NOT NULL"),
    (T.MAP(T.STRING(), T.BIGINT()), "MAP<STRING, BIGINT>"),
    (T.MAP(T.INT(False), T.ARRAY(T.DOUBLE(False)), False), "MAP<INT NOT NULL, ARRAY<DOUBLE NOT NULL>> NOT NULL"),
    (T.ROW([T.FIELD("a", T.INT()), T.FIELD("b", T.STRING())], nullable=False), "ROW<`a` INT, `b` STRING> NOT NULL"),
    (T.ROW([]), "ROW<>"),
    (T.ROW([T.FIELD("we`ird name", T.INT())]), "ROW<`we``ird name` INT>"),
    (
        T.ROW([T.FIELD("a", T.ROW([T.FIELD("b", T.ARRAY(T.MAP(T.STRING(False), T.DECIMAL(5, 1, False))))], False))]),
        "ROW<`a` ROW<`b` ARRAY<MAP<STRING NOT NULL, DECIMAL(5, 1) NOT NULL>>> NOT NULL>",
    ),
]


@pytest.mark.parametrize("t,spelling", SPELLINGS, ids=[s for _, s in SPELLINGS])
def test_str_is_go_spelling(t, spelling):
    assert str(t) == spelling


@pytest.mark.parametrize("t,spelling", SPELLINGS, ids=[s for _, s in SPELLINGS])
def test_parse_round_trip(t, spelling):
    back = parse_type(str(t))
    assert back == t
    assert type(back) is type(t)
    assert str(back) == spelling
    assert hash(back) == hash(t)


def test_classes_and_attributes():
    assert isinstance(T.TINYINT(), TinyIntType)
    assert isinstance(T.SMALLINT(), SmallIntType)
    assert isinstance(T.INT(), IntType)
    assert isinstance(T.BIGINT(), BigIntType)
    assert isinstance(T.BOOLEAN(), BooleanType)
    assert isinstance(T.FLOAT(), FloatType)
    assert isinstance(T.DOUBLE(), DoubleType)
    d = T.DECIMAL(12, 4)
    assert isinstance(d, DecimalType) and (d.precision, d.scale) == (12, 4)
    assert isinstance(T.CHAR(2), CharType) and T.CHAR(2).length == 2
    assert isinstance(T.STRING(), VarCharType) and T.STRING().length == MAX_LENGTH
    assert isinstance(T.BINARY(2), BinaryType)
    assert isinstance(T.BYTES(), VarBinaryType) and T.BYTES().length == MAX_LENGTH
    assert isinstance(T.DATE(), DateType)
    assert isinstance(T.TIME(2), TimeType) and T.TIME(2).precision == 2
    assert isinstance(T.TIMESTAMP(), TimestampType) and T.TIMESTAMP().precision == 6
    assert isinstance(T.TIMESTAMP_LTZ(), LocalZonedTimestampType)
    a = T.ARRAY(T.INT())
    assert isinstance(a, ArrayType) and a.element_type == T.INT()
    m = T.MAP(T.STRING(), T.INT())
    assert isinstance(m, MapType) and m.key_type == T.STRING() and m.value_type == T.INT()
    r = T.ROW([T.FIELD("a", T.INT()), T.FIELD("b", T.STRING(), "the b")])
    assert isinstance(r, RowType)
    assert r.field_names() == ["a", "b"] == r.names
    assert r.field_types() == [T.INT(), T.STRING()]
    assert isinstance(r.fields[1], RowField) and r.fields[1].description == "the b"
    assert r["b"].data_type == T.STRING() and r[0].name == "a" and len(r) == 2
    for t in (a, m, r, d):
        assert isinstance(t, DataType) and t.nullable


def test_equality_and_nullability():
    assert T.INT() == T.INT()
    assert T.INT() != T.INT(False)
    assert T.INT() != T.BIGINT()
    assert T.CHAR(3) != T.VARCHAR(3)
    assert T.BINARY(3) != T.CHAR(3)
    assert T.ARRAY(T.INT()) != T.ARRAY(T.INT(False))
    assert T.ROW([T.FIELD("a", T.INT())]) != T.ROW([T.FIELD("b", T.INT())])
    # descriptions are not part of the type
    assert T.ROW([T.FIELD("a", T.INT(), "x")]) == T.ROW([T.FIELD("a", T.INT())])
    assert T.INT() != "INT"
    nn = T.ARRAY(T.INT()).not_null()
    assert str(nn) == "ARRAY<INT> NOT NULL" and nn.with_nullable(True) == T.ARRAY(T.INT())
    assert {T.INT(), T.INT(), T.INT(False)} == {T.INT(), T.INT(False)}


def test_repr():
    assert repr(T.INT()) == "IntType()"
    assert repr(T.DECIMAL(10, 2, False)) == "DecimalType(10, 2, nullable=False)"
    assert repr(T.ARRAY(T.STRING())) == "ArrayType(VarCharType(2147483647))"
    assert "RowField('a', IntType())" in repr(T.ROW([T.FIELD("a", T.INT())]))


def test_pickle():
    t = parse_type("ROW<`a` INT NOT NULL, `b` MAP<STRING, ARRAY<DECIMAL(5, 2)>>>")
    assert pickle.loads(pickle.dumps(t)) == t


@pytest.mark.parametrize(
    "text,expected",
    [
        ("INTEGER", "INT"),
        ("integer not null", "INT NOT NULL"),
        ("int NULL", "INT"),
        ("DEC", "DECIMAL(10, 0)"),
        ("DECIMAL", "DECIMAL(10, 0)"),
        ("NUMERIC(7)", "DECIMAL(7, 0)"),
        ("NUMERIC(7, 3)", "DECIMAL(7, 3)"),
        ("DEC(5,1)", "DECIMAL(5, 1)"),
        ("DOUBLE PRECISION", "DOUBLE"),
        ("double precision NOT NULL", "DOUBLE NOT NULL"),
        ("CHAR", "CHAR(1)"),
        ("VARCHAR", "VARCHAR(1)"),
        ("BINARY", "BINARY(1)"),
        ("VARBINARY", "VARBINARY(1)"),
        ("VARCHAR(2147483647)", "STRING"),
        ("VARBINARY(2147483647)", "BYTES"),
        ("TIME", "TIME(0)"),
        ("TIME(3) WITHOUT TIME ZONE", "TIME(3)"),
        ("TIMESTAMP", "TIMESTAMP(6)"),
        ("TIMESTAMP(3) WITHOUT TIME ZONE", "TIMESTAMP(3)"),
        ("TIMESTAMP(3) WITH LOCAL TIME ZONE", "TIMESTAMP_LTZ(3)"),
        ("TIMESTAMP WITH LOCAL TIME ZONE", "TIMESTAMP_LTZ(6)"),
        ("TIMESTAMP_LTZ", "TIMESTAMP_LTZ(6)"),
        ("timestamp_ltz(9) not null", "TIMESTAMP_LTZ(9) NOT NULL"),
        ("ROW(a INT, b STRING)", "ROW<`a` INT, `b` STRING>"),
        ("ROW(a INT NOT NULL 'the a', `b c` ARRAY<STRING>) NOT NULL", "ROW<`a` INT NOT NULL, `b c` ARRAY<STRING>> NOT NULL"),
        ("ROW<a INT>", "ROW<`a` INT>"),
        ("ROW()", "ROW<>"),
        ("INT ARRAY", "ARRAY<INT>"),
        ("INT NOT NULL ARRAY NOT NULL", "ARRAY<INT NOT NULL> NOT NULL"),
        ("  MAP < STRING , INT >  ", "MAP<STRING, INT>"),
        ("ARRAY<ARRAY<INT NOT NULL> NOT NULL>", "ARRAY<ARRAY<INT NOT NULL> NOT NULL>"),
    ],
)
def test_parse_aliases(text, expected):
    assert str(parse_type(text)) == expected


@pytest.mark.parametrize(
    "text,position",
    [
        ("", 0),
        ("INTT", 0),
        ("ARRAY<INT", 9),
        ("ARRAY<INT>>", 10),
        ("MAP<STRING>", 10),
        ("DECIMAL(10, 2", 13),
        ("DECIMAL(x)", 8),
        ("ROW<`a` INT,>", 12),
        ("ROW<`a INT>", 4),
        ("INT NOT", 7),
        ("INT NOT NUL", 8),
        ("TIMESTAMP(3) WITH TIME ZONE", 18),
        ("INT MULTISET", 4),
        ("INT;", 3),
        ("DECIMAL(39, 0)", 8),
        ("TIME(10)", 5),
    ],
)
def test_parse_errors_name_the_position(text, position):
    with pytest.raises(ValueError, match=f"at position {position}$"):
        parse_type(text)


def test_parse_rejects_non_str():
    with pytest.raises(TypeError):
        parse_type(5)


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: T.DECIMAL(0, 0), "DECIMAL precision must be between 1 and 38"),
        (lambda: T.DECIMAL(39, 0), "DECIMAL precision must be between 1 and 38"),
        (lambda: T.DECIMAL(5, 6), "DECIMAL scale must be between 0 and 5"),
        (lambda: T.DECIMAL(5, -1), "DECIMAL scale must be between 0 and 5"),
        (lambda: T.DECIMAL(5.0, 1), "DECIMAL precision must be an int"),
        (lambda: T.TIME(10), "TIME precision must be between 0 and 9"),
        (lambda: T.TIME(-1), "TIME precision must be between 0 and 9"),
        (lambda: T.TIMESTAMP(10), "TIMESTAMP precision must be between 0 and 9"),
        (lambda: T.TIMESTAMP_LTZ(-1), "TIMESTAMP_LTZ precision must be between 0 and 9"),
        (lambda: T.CHAR(0), "CHAR length must be between 1 and 2147483647"),
        (lambda: T.VARCHAR(2147483648), "VARCHAR length must be between 1 and 2147483647"),
        (lambda: T.BINARY(True), "BINARY length must be an int"),
        (lambda: T.VARBINARY(-3), "VARBINARY length must be between 1 and 2147483647"),
    ],
)
def test_parameter_validation(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_nested_types_must_be_data_types():
    with pytest.raises(TypeError):
        T.ARRAY("INT")
    with pytest.raises(TypeError):
        T.MAP(T.INT(), int)
    with pytest.raises(TypeError):
        T.ROW([("a", T.INT())])
    with pytest.raises(TypeError):
        T.FIELD(1, T.INT())


# ---------------------------------------------------------------------------
# weir.row.Row, the value of a ROW (and of a row of a table function)

from weir.row import Row, RowKind  # noqa: E402


def test_row_positional_and_named():
    r = Row(1, "a")
    assert r == (1, "a") and (1, "a") == r and r[1] == "a" and r._fields is None
    n = Row(b=1, a="x")  # keeps the given order
    assert tuple(n) == (1, "x") and n._fields == ("b", "a")
    assert n.b == 1 and n["a"] == "x" and n[0] == 1 and n[-1] == "x"
    assert n.as_dict() == {"b": 1, "a": "x"}
    assert repr(n) == "Row(b=1, a='x')" and repr(r) == "Row(1, 'a')" and str(n) == repr(n)
    with pytest.raises(AttributeError):
        n.c
    with pytest.raises(KeyError):
        n["c"]
    with pytest.raises(AttributeError):
        n.b = 2
    with pytest.raises(TypeError):
        r.as_dict()
    with pytest.raises(ValueError):
        Row(1, a=2)
    assert "a" in n and 1 not in n  # named rows: `in` looks at the names, as in PyFlink
    assert 1 in r


def test_row_factory():
    Person = Row("name", "age")
    p = Person("Ann", 33)
    assert p == Row(name="Ann", age=33) and p.age == 33
    with pytest.raises(ValueError):
        Person("Ann")
    with pytest.raises(TypeError):
        Row(1, 2)(3, 4)


def test_row_equality_and_hash():
    assert Row(a=1) == Row(1) == (1,)
    assert Row(a=1) != Row(b=1)
    assert Row(a=1) != Row(a=2)
    assert Row(a=1) != [1]
    assert hash(Row(a=1, b=2)) == hash((1, 2))
    d = Row(a=1)
    d.set_row_kind(RowKind.DELETE)
    assert d != Row(a=1) and d == (1,)
    assert repr(d) == "Row(a=1, row_kind=RowKind.DELETE)"


def test_row_kind():
    r = Row(1)
    assert r.get_row_kind() is RowKind.INSERT
    r.set_row_kind(RowKind.UPDATE_BEFORE)
    assert r.get_row_kind() is RowKind.UPDATE_BEFORE
    with pytest.raises(TypeError):
        r.set_row_kind(1)
    assert [k.value for k in RowKind] == [0, 1, 2, 3]
    assert [k.short_string() for k in RowKind] == ["+I", "-U", "+U", "-D"]


def test_row_as_dict_recursive_and_pickle():
    import copy

    r = Row(a=Row(b=1), c=[Row(d=2)], e={"k": Row(f=3)})
    assert r.as_dict(recursive=True) == {"a": {"b": 1}, "c": [{"d": 2}], "e": {"k": {"f": 3}}}
    r.set_row_kind(RowKind.UPDATE_AFTER)
    for back in (pickle.loads(pickle.dumps(r)), copy.copy(r), copy.deepcopy(r)):
        assert back == r and back._fields == r._fields and back.get_row_kind() is RowKind.UPDATE_AFTER
    c = copy.copy(r)
    c.set_row_kind(RowKind.DELETE)
    assert r.get_row_kind() is RowKind.UPDATE_AFTER
