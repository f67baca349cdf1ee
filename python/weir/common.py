"""``Row`` and ``RowKind`` where ``pyflink.common`` has them, so that
``from pyflink.common import Row`` moves to weir by its import alone."""

from weir.row import Row, RowKind

__all__ = ["Row", "RowKind"]
