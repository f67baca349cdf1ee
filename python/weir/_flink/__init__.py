"""weir on a Flink cluster: the client that submits a SQL script through
PyFlink (``python -m weir.flink``, started by ``weir sql --target
flink://...``), weir's functions as PyFlink functions, and the Table API's
Flink target. Nothing here is imported by weir's own engine or workers."""
