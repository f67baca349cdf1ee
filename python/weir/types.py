"""SQL data types of weir, shaped like PyFlink's ``pyflink.table.types``.

Every type prints (``str(t)``) in the Flink SQL spelling that the Go engine
uses (``internal/types.T.String()``), e.g. ``INT NOT NULL``, ``STRING``,
``DECIMAL(10, 2)``, ``TIMESTAMP_LTZ(3)`` or ``ROW<`a` INT, `b` STRING>``;
:func:`parse_type` reads that spelling (and Flink's usual aliases) back.

Two types are equal when they print the same, nullability included; the
optional description of a :class:`RowField` is not part of the type.

Unlike PyFlink, ``nullable`` is a plain attribute, not a method; use
:meth:`DataType.not_null` / :meth:`DataType.with_nullable` for copies.
"""

from __future__ import annotations

import copy as _copy
from typing import Iterator, List, Optional, Sequence, Tuple, Union

__all__ = [
    "MAX_LENGTH",
    "DataType",
    "TinyIntType",
    "SmallIntType",
    "IntType",
    "BigIntType",
    "BooleanType",
    "FloatType",
    "DoubleType",
    "DecimalType",
    "CharType",
    "VarCharType",
    "BinaryType",
    "VarBinaryType",
    "DateType",
    "TimeType",
    "TimestampType",
    "LocalZonedTimestampType",
    "ArrayType",
    "MapType",
    "ListViewType",
    "MapViewType",
    "RowField",
    "RowType",
    "DataTypes",
    "parse_type",
]

#: Length of STRING (= VARCHAR(MAX_LENGTH)) and BYTES (= VARBINARY(MAX_LENGTH)), as in Flink.
MAX_LENGTH = 2147483647

MAX_DECIMAL_PRECISION = 38
MAX_TIME_PRECISION = 9


def _check_int(what: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an int between {lo} and {hi}, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{what} must be between {lo} and {hi} (both inclusive), got {value}")
    return int(value)


class DataType:
    """Base class of the SQL data types; ``nullable`` tells whether NULL is allowed."""

    #: The SQL keyword of the type (without parameters).
    _keyword = ""

    def __init__(self, nullable: bool = True):
        self.nullable = bool(nullable)

    # -- spelling ---------------------------------------------------------

    def _body(self) -> str:
        """The spelling without the nullability suffix."""
        return self._keyword

    def __str__(self) -> str:
        body = self._body()
        return body if self.nullable else body + " NOT NULL"

    def _args(self) -> List[str]:
        """Constructor arguments (besides ``nullable``) for ``repr``."""
        return []

    def __repr__(self) -> str:
        args = self._args()
        if not self.nullable:
            args.append("nullable=False")
        return f"{type(self).__name__}({', '.join(args)})"

    # -- identity ---------------------------------------------------------

    def __eq__(self, other) -> bool:
        if not isinstance(other, DataType):
            return NotImplemented
        return type(self) is type(other) and str(self) == str(other)

    def __ne__(self, other) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash(str(self))

    # -- copies -----------------------------------------------------------

    def with_nullable(self, nullable: bool) -> "DataType":
        """A copy of this type with the given nullability (inner types unchanged)."""
        t = _copy.copy(self)
        t.nullable = bool(nullable)
        return t

    def not_null(self) -> "DataType":
        """A copy of this type declared NOT NULL."""
        return self.with_nullable(False)

    def type_name(self) -> str:
        """The SQL keyword of the type, e.g. ``"DECIMAL"`` (``"VARCHAR"`` for STRING)."""
        return self._keyword


class _AtomicType(DataType):
    pass


class TinyIntType(_AtomicType):
    """TINYINT: 1-byte signed integer."""

    _keyword = "TINYINT"


class SmallIntType(_AtomicType):
    """SMALLINT: 2-byte signed integer."""

    _keyword = "SMALLINT"


class IntType(_AtomicType):
    """INT: 4-byte signed integer."""

    _keyword = "INT"


class BigIntType(_AtomicType):
    """BIGINT: 8-byte signed integer."""

    _keyword = "BIGINT"


class BooleanType(_AtomicType):
    """BOOLEAN."""

    _keyword = "BOOLEAN"


class FloatType(_AtomicType):
    """FLOAT: 4-byte IEEE-754 floating point."""

    _keyword = "FLOAT"


class DoubleType(_AtomicType):
    """DOUBLE: 8-byte IEEE-754 floating point."""

    _keyword = "DOUBLE"


class DecimalType(_AtomicType):
    """DECIMAL(precision, scale): precision 1..38, scale 0..precision."""

    _keyword = "DECIMAL"

    def __init__(self, precision: int = 10, scale: int = 0, nullable: bool = True):
        super().__init__(nullable)
        self.precision = _check_int("DECIMAL precision", precision, 1, MAX_DECIMAL_PRECISION)
        self.scale = _check_int("DECIMAL scale", scale, 0, self.precision)

    def _body(self) -> str:
        return f"DECIMAL({self.precision}, {self.scale})"

    def _args(self) -> List[str]:
        return [str(self.precision), str(self.scale)]


class _LengthType(_AtomicType):
    def __init__(self, length: int = 1, nullable: bool = True):
        super().__init__(nullable)
        self.length = _check_int(f"{self._keyword} length", length, 1, MAX_LENGTH)

    def _body(self) -> str:
        return f"{self._keyword}({self.length})"

    def _args(self) -> List[str]:
        return [str(self.length)]


class CharType(_LengthType):
    """CHAR(length): fixed-length character string, length 1..2147483647."""

    _keyword = "CHAR"


class VarCharType(_LengthType):
    """VARCHAR(length): variable-length character string; STRING is VARCHAR(2147483647)."""

    _keyword = "VARCHAR"

    def _body(self) -> str:
        return "STRING" if self.length == MAX_LENGTH else super()._body()


class BinaryType(_LengthType):
    """BINARY(length): fixed-length binary string, length 1..2147483647."""

    _keyword = "BINARY"


class VarBinaryType(_LengthType):
    """VARBINARY(length): variable-length binary string; BYTES is VARBINARY(2147483647)."""

    _keyword = "VARBINARY"

    def _body(self) -> str:
        return "BYTES" if self.length == MAX_LENGTH else super()._body()


class DateType(_AtomicType):
    """DATE: a day of the Gregorian calendar."""

    _keyword = "DATE"


class _PrecisionType(_AtomicType):
    _default_precision = 0

    def __init__(self, precision: Optional[int] = None, nullable: bool = True):
        super().__init__(nullable)
        if precision is None:
            precision = self._default_precision
        self.precision = _check_int(f"{self._keyword} precision", precision, 0, MAX_TIME_PRECISION)

    def _body(self) -> str:
        return f"{self._keyword}({self.precision})"

    def _args(self) -> List[str]:
        return [str(self.precision)]


class TimeType(_PrecisionType):
    """TIME(precision): a time of day without time zone, precision 0..9 (default 0).

    The wire carries milliseconds of the day whatever the precision."""

    _keyword = "TIME"
    _default_precision = 0


class TimestampType(_PrecisionType):
    """TIMESTAMP(precision): date and time without time zone, precision 0..9 (default 6)."""

    _keyword = "TIMESTAMP"
    _default_precision = 6


class LocalZonedTimestampType(_PrecisionType):
    """TIMESTAMP_LTZ(precision) (TIMESTAMP(p) WITH LOCAL TIME ZONE): an instant, precision 0..9 (default 6)."""

    _keyword = "TIMESTAMP_LTZ"
    _default_precision = 6


def _check_type(what: str, t) -> "DataType":
    if not isinstance(t, DataType):
        raise TypeError(f"{what} must be a DataType, got {type(t).__name__} {t!r}")
    return t


class ArrayType(DataType):
    """ARRAY<element_type>."""

    _keyword = "ARRAY"

    def __init__(self, element_type: DataType, nullable: bool = True):
        super().__init__(nullable)
        self.element_type = _check_type("ARRAY element type", element_type)

    def _body(self) -> str:
        return f"ARRAY<{self.element_type}>"

    def _args(self) -> List[str]:
        return [repr(self.element_type)]


class MapType(DataType):
    """MAP<key_type, value_type>."""

    _keyword = "MAP"

    def __init__(self, key_type: DataType, value_type: DataType, nullable: bool = True):
        super().__init__(nullable)
        self.key_type = _check_type("MAP key type", key_type)
        self.value_type = _check_type("MAP value type", value_type)

    def _body(self) -> str:
        return f"MAP<{self.key_type}, {self.value_type}>"

    def _args(self) -> List[str]:
        return [repr(self.key_type), repr(self.value_type)]


class _ViewType(DataType):
    """The type of a ListView or MapView in an accumulator, as PyFlink's
    view types: it may appear only in an aggregate function's
    accumulator_type (alone or in a ROW), never as a column, argument or
    result type. Views are NOT NULL, as in PyFlink. The spelling is weir's
    own (no SQL has it), so ``parse_type`` does not read it back."""

    def __init__(self):
        super().__init__(False)

    def with_nullable(self, nullable: bool) -> "DataType":
        if nullable:
            raise ValueError(f"{self} cannot be nullable: a view in an accumulator is never NULL")
        return self


class ListViewType(_ViewType):
    """LIST_VIEW<element_type>: a :class:`weir.ListView` in an accumulator."""

    _keyword = "LIST_VIEW"

    def __init__(self, element_type: DataType):
        super().__init__()
        self.element_type = _check_type("LIST_VIEW element type", element_type)

    def _body(self) -> str:
        return f"LIST_VIEW<{self.element_type}>"

    def __str__(self) -> str:
        return self._body()

    def _args(self) -> List[str]:
        return [repr(self.element_type)]

    def __repr__(self) -> str:
        return f"ListViewType({repr(self.element_type)})"


class MapViewType(_ViewType):
    """MAP_VIEW<key_type, value_type>: a :class:`weir.MapView` in an accumulator."""

    _keyword = "MAP_VIEW"

    def __init__(self, key_type: DataType, value_type: DataType):
        super().__init__()
        self.key_type = _check_type("MAP_VIEW key type", key_type)
        self.value_type = _check_type("MAP_VIEW value type", value_type)

    def _body(self) -> str:
        return f"MAP_VIEW<{self.key_type}, {self.value_type}>"

    def __str__(self) -> str:
        return self._body()

    def __repr__(self) -> str:
        return f"MapViewType({repr(self.key_type)}, {repr(self.value_type)})"


def find_view(t: DataType) -> Optional[DataType]:
    """The first LIST_VIEW or MAP_VIEW in t (t itself, or inside a ROW,
    ARRAY or MAP), or None."""
    if isinstance(t, _ViewType):
        return t
    inner: List[DataType] = []
    if isinstance(t, ArrayType):
        inner = [t.element_type]
    elif isinstance(t, MapType):
        inner = [t.key_type, t.value_type]
    elif isinstance(t, RowType):
        inner = t.field_types()
    for i in inner:
        v = find_view(i)
        if v is not None:
            return v
    return None


def check_no_view(t: Optional[DataType], what: str) -> Optional[DataType]:
    """t, or a ValueError when t holds a view type, which only an
    accumulator_type may."""
    v = None if t is None else find_view(t)
    if v is not None:
        raise ValueError(f"{what} {t} holds {v}: LIST_VIEW and MAP_VIEW can only be used in the "
                         "accumulator_type of an aggregate function (a ListView / MapView in its accumulator); "
                         "declare a column or result as ARRAY or MAP instead")
    return t


def _quote_name(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class RowField:
    """A named field of a ROW type; ``description`` is kept but is not part of the type."""

    __slots__ = ("name", "data_type", "description")

    def __init__(self, name: str, data_type: DataType, description: Optional[str] = None):
        if not isinstance(name, str):
            raise TypeError(f"ROW field name must be a str, got {type(name).__name__} {name!r}")
        self.name = name
        self.data_type = _check_type(f"type of ROW field {name!r}", data_type)
        self.description = description

    def __str__(self) -> str:
        return f"{_quote_name(self.name)} {self.data_type}"

    def __repr__(self) -> str:
        desc = f", {self.description!r}" if self.description is not None else ""
        return f"RowField({self.name!r}, {self.data_type!r}{desc})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, RowField):
            return NotImplemented
        return self.name == other.name and self.data_type == other.data_type

    def __ne__(self, other) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash((self.name, self.data_type))


class RowType(DataType):
    """ROW<`name` type, ...>: an ordered list of :class:`RowField`."""

    _keyword = "ROW"

    def __init__(self, fields: Optional[Sequence[RowField]] = None, nullable: bool = True):
        super().__init__(nullable)
        fs = list(fields) if fields is not None else []
        for f in fs:
            if not isinstance(f, RowField):
                raise TypeError(
                    f"ROW fields must be RowField (see DataTypes.FIELD), got {type(f).__name__} {f!r}"
                )
        self.fields: List[RowField] = fs

    @property
    def names(self) -> List[str]:
        return [f.name for f in self.fields]

    def field_names(self) -> List[str]:
        return [f.name for f in self.fields]

    def field_types(self) -> List[DataType]:
        return [f.data_type for f in self.fields]

    def __iter__(self) -> Iterator[RowField]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __getitem__(self, key: Union[int, str]) -> RowField:
        if isinstance(key, str):
            for f in self.fields:
                if f.name == key:
                    return f
            raise KeyError(key)
        return self.fields[key]

    def _body(self) -> str:
        return "ROW<" + ", ".join(str(f) for f in self.fields) + ">"

    def _args(self) -> List[str]:
        return ["[" + ", ".join(repr(f) for f in self.fields) + "]"]

    def with_nullable(self, nullable: bool) -> "RowType":
        t = _copy.copy(self)
        t.fields = list(self.fields)
        t.nullable = bool(nullable)
        return t


class DataTypes:
    """Factory of data types, with PyFlink's names and signatures."""

    @staticmethod
    def TINYINT(nullable: bool = True) -> TinyIntType:
        return TinyIntType(nullable)

    @staticmethod
    def SMALLINT(nullable: bool = True) -> SmallIntType:
        return SmallIntType(nullable)

    @staticmethod
    def INT(nullable: bool = True) -> IntType:
        return IntType(nullable)

    @staticmethod
    def BIGINT(nullable: bool = True) -> BigIntType:
        return BigIntType(nullable)

    @staticmethod
    def BOOLEAN(nullable: bool = True) -> BooleanType:
        return BooleanType(nullable)

    @staticmethod
    def FLOAT(nullable: bool = True) -> FloatType:
        return FloatType(nullable)

    @staticmethod
    def DOUBLE(nullable: bool = True) -> DoubleType:
        return DoubleType(nullable)

    @staticmethod
    def DECIMAL(precision: int, scale: int, nullable: bool = True) -> DecimalType:
        return DecimalType(precision, scale, nullable)

    @staticmethod
    def CHAR(length: int, nullable: bool = True) -> CharType:
        return CharType(length, nullable)

    @staticmethod
    def VARCHAR(length: int, nullable: bool = True) -> VarCharType:
        return VarCharType(length, nullable)

    @staticmethod
    def STRING(nullable: bool = True) -> VarCharType:
        return VarCharType(MAX_LENGTH, nullable)

    @staticmethod
    def BINARY(length: int, nullable: bool = True) -> BinaryType:
        return BinaryType(length, nullable)

    @staticmethod
    def VARBINARY(length: int, nullable: bool = True) -> VarBinaryType:
        return VarBinaryType(length, nullable)

    @staticmethod
    def BYTES(nullable: bool = True) -> VarBinaryType:
        return VarBinaryType(MAX_LENGTH, nullable)

    @staticmethod
    def DATE(nullable: bool = True) -> DateType:
        return DateType(nullable)

    @staticmethod
    def TIME(precision: int = 0, nullable: bool = True) -> TimeType:
        return TimeType(precision, nullable)

    @staticmethod
    def TIMESTAMP(precision: int = 6, nullable: bool = True) -> TimestampType:
        return TimestampType(precision, nullable)

    @staticmethod
    def TIMESTAMP_LTZ(precision: int = 6, nullable: bool = True) -> LocalZonedTimestampType:
        return LocalZonedTimestampType(precision, nullable)

    @staticmethod
    def TIMESTAMP_WITH_LOCAL_TIME_ZONE(precision: int = 6, nullable: bool = True) -> LocalZonedTimestampType:
        return LocalZonedTimestampType(precision, nullable)

    @staticmethod
    def ARRAY(element_type: DataType, nullable: bool = True) -> ArrayType:
        return ArrayType(element_type, nullable)

    @staticmethod
    def MAP(key_type: DataType, value_type: DataType, nullable: bool = True) -> MapType:
        return MapType(key_type, value_type, nullable)

    @staticmethod
    def LIST_VIEW(element_type: DataType) -> ListViewType:
        """The type of a :class:`weir.ListView`, only for accumulator types."""
        return ListViewType(element_type)

    @staticmethod
    def MAP_VIEW(key_type: DataType, value_type: DataType) -> MapViewType:
        """The type of a :class:`weir.MapView`, only for accumulator types."""
        return MapViewType(key_type, value_type)

    @staticmethod
    def ROW(row_fields: Optional[Sequence[RowField]] = None, nullable: bool = True) -> RowType:
        return RowType(row_fields if row_fields is not None else [], nullable)

    @staticmethod
    def FIELD(name: str, data_type: DataType, description: Optional[str] = None) -> RowField:
        return RowField(name, data_type, description)


# ---------------------------------------------------------------------------
# parse_type


class _Tok:
    __slots__ = ("kind", "text", "value", "pos")

    # kind: "word" (identifier/keyword), "quoted" (`name`), "int", "str" ('...'), "sym", "end"
    def __init__(self, kind: str, text: str, value, pos: int):
        self.kind = kind
        self.text = text
        self.value = value
        self.pos = pos


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = self._lex(text)
        self.i = 0

    def fail(self, msg: str, pos: Optional[int] = None):
        if pos is None:
            pos = self.peek().pos
        raise ValueError(f"cannot parse type {self.text!r}: {msg} at position {pos}")

    def _lex(self, s: str) -> List[_Tok]:
        toks: List[_Tok] = []
        i, n = 0, len(s)
        while i < n:
            c = s[i]
            if c.isspace():
                i += 1
            elif c.isalpha() or c == "_":
                j = i + 1
                while j < n and (s[j].isalnum() or s[j] in "_$"):
                    j += 1
                toks.append(_Tok("word", s[i:j], s[i:j].upper(), i))
                i = j
            elif c.isdigit():
                j = i + 1
                while j < n and s[j].isdigit():
                    j += 1
                if not s[i:j].isascii():
                    self.fail("expected an ASCII number", i)
                toks.append(_Tok("int", s[i:j], int(s[i:j]), i))
                i = j
            elif c == "`" or c == "'":
                j = i + 1
                buf = []
                while True:
                    if j >= n:
                        self.fail(f"unterminated {c}", i)
                    if s[j] == c:
                        if j + 1 < n and s[j + 1] == c:
                            buf.append(c)
                            j += 2
                            continue
                        break
                    buf.append(s[j])
                    j += 1
                toks.append(_Tok("quoted" if c == "`" else "str", s[i : j + 1], "".join(buf), i))
                i = j + 1
            elif c in "<>(),":
                toks.append(_Tok("sym", c, c, i))
                i += 1
            else:
                self.fail(f"unexpected character {c!r}", i)
        toks.append(_Tok("end", "", None, n))
        return toks

    def peek(self, k: int = 0) -> _Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> _Tok:
        t = self.peek()
        if t.kind != "end":
            self.i += 1
        return t

    def at_word(self, *words: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t.kind == "word" and t.value in words

    def accept_word(self, word: str) -> bool:
        if self.at_word(word):
            self.i += 1
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.accept_word(word):
            self.fail(f"expected {word}, found {self.describe(self.peek())}")

    def at_sym(self, sym: str) -> bool:
        t = self.peek()
        return t.kind == "sym" and t.value == sym

    def accept_sym(self, sym: str) -> bool:
        if self.at_sym(sym):
            self.i += 1
            return True
        return False

    def expect_sym(self, sym: str) -> None:
        if not self.accept_sym(sym):
            self.fail(f"expected {sym!r}, found {self.describe(self.peek())}")

    @staticmethod
    def describe(t: _Tok) -> str:
        return "the end of the text" if t.kind == "end" else repr(t.text)

    def expect_int(self) -> Tuple[int, int]:
        t = self.next()
        if t.kind != "int":
            self.fail(f"expected a number, found {self.describe(t)}", t.pos)
        return t.value, t.pos

    def build(self, pos: int, ctor, *args):
        try:
            return ctor(*args)
        except ValueError as e:
            self.fail(str(e), pos)

    # type := base nullability ("ARRAY" nullability)*
    def parse_type(self) -> DataType:
        t = self.parse_base()
        t = self.parse_nullability(t)
        while self.at_word("ARRAY", "MULTISET"):
            tok = self.next()
            if tok.value == "MULTISET":
                self.fail("MULTISET is not supported", tok.pos)
            t = self.parse_nullability(ArrayType(t))
        return t

    def parse_nullability(self, t: DataType) -> DataType:
        if self.at_word("NOT"):
            self.next()
            self.expect_word("NULL")
            return t.with_nullable(False)
        if self.accept_word("NULL"):
            return t.with_nullable(True)
        return t

    def opt_params(self, maxn: int) -> Tuple[List[int], int]:
        """Optional "(a[, b])"; returns the numbers and the position of the first."""
        if not self.accept_sym("("):
            return [], self.peek().pos
        v, pos = self.expect_int()
        vals = [v]
        while len(vals) < maxn and self.accept_sym(","):
            vals.append(self.expect_int()[0])
        self.expect_sym(")")
        return vals, pos

    def parse_base(self) -> DataType:
        tok = self.next()
        if tok.kind != "word":
            self.fail(f"expected a type, found {self.describe(tok)}", tok.pos)
        w = tok.value
        simple = {
            "TINYINT": TinyIntType,
            "SMALLINT": SmallIntType,
            "INT": IntType,
            "INTEGER": IntType,
            "BIGINT": BigIntType,
            "BOOLEAN": BooleanType,
            "FLOAT": FloatType,
            "DATE": DateType,
        }
        if w in simple:
            return simple[w]()
        if w == "DOUBLE":
            self.accept_word("PRECISION")
            return DoubleType()
        if w in ("DECIMAL", "DEC", "NUMERIC"):
            vals, pos = self.opt_params(2)
            p = vals[0] if vals else 10
            s = vals[1] if len(vals) > 1 else 0
            return self.build(pos, DecimalType, p, s)
        if w in ("CHAR", "VARCHAR", "BINARY", "VARBINARY"):
            vals, pos = self.opt_params(1)
            n = vals[0] if vals else 1
            ctor = {"CHAR": CharType, "VARCHAR": VarCharType, "BINARY": BinaryType, "VARBINARY": VarBinaryType}[w]
            return self.build(pos, ctor, n)
        if w == "STRING":
            return VarCharType(MAX_LENGTH)
        if w == "BYTES":
            return VarBinaryType(MAX_LENGTH)
        if w == "TIME":
            vals, pos = self.opt_params(1)
            t = self.build(pos, TimeType, vals[0] if vals else 0)
            if self.at_word("WITHOUT"):
                self.next()
                self.expect_word("TIME")
                self.expect_word("ZONE")
            elif self.at_word("WITH"):
                self.fail("TIME WITH TIME ZONE is not supported")
            return t
        if w == "TIMESTAMP":
            vals, pos = self.opt_params(1)
            p = vals[0] if vals else 6
            if self.at_word("WITHOUT"):
                self.next()
                self.expect_word("TIME")
                self.expect_word("ZONE")
            elif self.at_word("WITH"):
                self.next()
                if not self.at_word("LOCAL"):
                    self.fail("TIMESTAMP WITH TIME ZONE is not supported (use WITH LOCAL TIME ZONE)")
                self.next()
                self.expect_word("TIME")
                self.expect_word("ZONE")
                return self.build(pos, LocalZonedTimestampType, p)
            return self.build(pos, TimestampType, p)
        if w == "TIMESTAMP_LTZ":
            vals, pos = self.opt_params(1)
            return self.build(pos, LocalZonedTimestampType, vals[0] if vals else 6)
        if w == "ARRAY":
            self.expect_sym("<")
            e = self.parse_type()
            self.expect_sym(">")
            return ArrayType(e)
        if w == "MAP":
            self.expect_sym("<")
            k = self.parse_type()
            self.expect_sym(",")
            v = self.parse_type()
            self.expect_sym(">")
            return MapType(k, v)
        if w == "ROW":
            if self.accept_sym("<"):
                close = ">"
            elif self.accept_sym("("):
                close = ")"
            else:
                self.fail(f"expected '<' or '(' after ROW, found {self.describe(self.peek())}")
            fields: List[RowField] = []
            if not self.accept_sym(close):
                while True:
                    nt = self.next()
                    if nt.kind not in ("word", "quoted"):
                        self.fail(f"expected a field name, found {self.describe(nt)}", nt.pos)
                    name = nt.text if nt.kind == "word" else nt.value
                    ft = self.parse_type()
                    desc = None
                    if self.peek().kind == "str":
                        desc = self.next().value
                    fields.append(RowField(name, ft, desc))
                    if self.accept_sym(close):
                        break
                    self.expect_sym(",")
            return RowType(fields)
        if w == "MULTISET":
            self.fail("MULTISET is not supported", tok.pos)
        self.fail(f"unknown type {tok.text!r}", tok.pos)


def parse_type(text: str) -> DataType:
    """Parse a Flink SQL type, e.g. ``"ROW<`a` INT NOT NULL, `b` ARRAY<STRING>>"``.

    Reads everything ``str(DataType)`` prints plus the aliases INTEGER,
    DEC / NUMERIC, DOUBLE PRECISION, ``TIMESTAMP(p) WITH LOCAL TIME ZONE``,
    ``TIMESTAMP(p) WITHOUT TIME ZONE``, ``ROW(a INT, ...)``, unquoted field
    names, field descriptions (``'...'``) and the suffix form ``t ARRAY``.
    Keywords are case-insensitive. Raises ValueError naming the position of
    the problem.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_type expects a str, got {type(text).__name__}")
    p = _Parser(text)
    t = p.parse_type()
    if p.peek().kind != "end":
        p.fail(f"unexpected {p.describe(p.peek())} after the type")
    return t
