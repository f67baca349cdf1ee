package pyexec

// KeyedTableAggregateURN is the worker's transform of a keyed stage that
// runs a Python table aggregate function (python/weir/_state_table_aggregate.py).
// The stage runs as any keyed stage (keyed.go): same input rows, state
// requests and output rows (key, row kind, the function's columns), of
// which a group may have any number per bundle: the rows it emitted
// before as -D, then its rows now as +I.
const KeyedTableAggregateURN = "weir:transform:keyed_table_aggregate:v1"
