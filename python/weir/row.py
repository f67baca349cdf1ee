"""``Row``: the value of a SQL ROW, shaped like PyFlink's ``pyflink.common.Row``.

A Row is a tuple of values with optional field names and a :class:`RowKind`::

    Row(1, "a")              # positional
    Row(a=1, b="a")          # named, in the given order
    Row("a", "b")(1, 2)      # a factory: Row(a=1, b=2)

Named fields read as attributes (``row.a``) or by key (``row["a"]``); rows
compare equal to tuples holding the same values. As in PyFlink, ``x in row``
looks for ``x`` among the field names of a named row (among the values of a
positional one). Rows are read-only.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Dict, Iterable, Optional, Tuple

__all__ = ["Row", "RowKind"]


class RowKind(Enum):
    """The change a row describes in a changelog stream."""

    INSERT = 0
    UPDATE_BEFORE = 1
    UPDATE_AFTER = 2
    DELETE = 3

    def short_string(self) -> str:
        """``+I``, ``-U``, ``+U`` or ``-D``, as Flink prints them."""
        return _SHORT[self.value]

    def __str__(self) -> str:
        # PyFlink's RowKind prints as its short string.
        return self.short_string()


_SHORT = ("+I", "-U", "+U", "-D")
_KINDS = (RowKind.INSERT, RowKind.UPDATE_BEFORE, RowKind.UPDATE_AFTER, RowKind.DELETE)

_new = tuple.__new__


def _make_row(values: Iterable[Any], fields: Optional[Tuple[str, ...]] = None, kind: RowKind = RowKind.INSERT) -> "Row":
    """Build a Row without argument processing (used by the coders and by pickle)."""
    row = _new(Row, values)
    d = row.__dict__
    d["_fields"] = fields
    d["_row_kind"] = kind
    return row


class Row(tuple):
    """A row of values, optionally with field names; see the module docstring."""

    def __new__(cls, *args: Any, **kwargs: Any) -> "Row":
        if args and kwargs:
            raise ValueError("Row takes either positional values or named values, not both")
        if kwargs:
            row = _new(cls, kwargs.values())
            fields: Optional[Tuple[str, ...]] = tuple(kwargs)
        else:
            row = _new(cls, args)
            fields = None
        d = row.__dict__
        d["_fields"] = fields
        d["_row_kind"] = RowKind.INSERT
        return row

    # -- field access -------------------------------------------------------

    def _index_of(self, name: str) -> int:
        fields = self.__dict__.get("_fields")
        if fields is not None:
            try:
                return fields.index(name)
            except ValueError:
                pass
        return -1

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        i = self._index_of(name)
        if i < 0:
            raise AttributeError(f"Row has no field {name!r}")
        return tuple.__getitem__(self, i)

    def __getitem__(self, item):
        if isinstance(item, str):
            i = self._index_of(item)
            if i < 0:
                raise KeyError(item)
            return tuple.__getitem__(self, i)
        return tuple.__getitem__(self, item)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Row is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Row is read-only")

    def __contains__(self, item: Any) -> bool:
        fields = self.__dict__.get("_fields")
        if fields is not None:
            return item in fields
        return tuple.__contains__(self, item)

    def as_dict(self, recursive: bool = False) -> Dict[str, Any]:
        """The named fields as a dict; with ``recursive``, nested Rows (also in lists and dicts) too."""
        fields = self.__dict__.get("_fields")
        if fields is None:
            raise TypeError("cannot convert a Row without field names to a dict")
        if not recursive:
            return dict(zip(fields, self))

        def conv(v: Any) -> Any:
            if isinstance(v, Row):
                return v.as_dict(True) if v._fields is not None else tuple(conv(x) for x in v)
            if isinstance(v, list):
                return [conv(x) for x in v]
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            return v

        return {k: conv(v) for k, v in zip(fields, self)}

    # -- row kind -----------------------------------------------------------

    def get_row_kind(self) -> RowKind:
        return self.__dict__["_row_kind"]

    def set_row_kind(self, row_kind: RowKind) -> None:
        if not isinstance(row_kind, RowKind):
            raise TypeError(f"row kind must be a RowKind, got {type(row_kind).__name__} {row_kind!r}")
        self.__dict__["_row_kind"] = row_kind

    # -- factory ------------------------------------------------------------

    def __call__(self, *args: Any) -> "Row":
        """``Row("a", "b")(1, 2)`` == ``Row(a=1, b=2)``."""
        if self.__dict__.get("_fields") is not None or not all(isinstance(n, str) for n in self):
            raise TypeError("only a Row of field names, e.g. Row('a', 'b'), can be called to make a Row")
        if len(args) != len(self):
            raise ValueError(f"expected {len(self)} values for fields {tuple(self)!r}, got {len(args)}")
        return _make_row(args, tuple(self))

    # -- comparison, hashing, pickling ----------------------------------------

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, tuple):
            return NotImplemented
        if not tuple.__eq__(self, other):
            return False
        if isinstance(other, Row):
            f1 = self.__dict__["_fields"]
            f2 = other.__dict__["_fields"]
            if f1 is not None and f2 is not None and f1 != f2:
                return False
            return self.__dict__["_row_kind"] is other.__dict__["_row_kind"]
        return True

    def __ne__(self, other: Any) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = tuple.__hash__

    def __reduce__(self):
        return (_make_row, (tuple(self), self.__dict__["_fields"], self.__dict__["_row_kind"]))

    def __repr__(self) -> str:
        fields = self.__dict__.get("_fields")
        if fields is not None:
            parts = [f"{k}={v!r}" for k, v in zip(fields, self)]
        else:
            parts = [repr(v) for v in self]
        kind = self.__dict__.get("_row_kind", RowKind.INSERT)
        if kind is not RowKind.INSERT:
            parts.append(f"row_kind=RowKind.{kind.name}")
        return "Row(" + ", ".join(parts) + ")"

    __str__ = __repr__
