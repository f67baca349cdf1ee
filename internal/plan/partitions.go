package plan

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// Partitioned filesystem tables, as Flink has them: CREATE TABLE ...
// PARTITIONED BY (k, ...) and INSERT ... PARTITION (k = 'v', ...).
//
// The connector learns a table's partition keys, and an INSERT its static
// partition, from two options the planner adds to the table's options
// (internal/connector/filesystem_partition.go reads them); a user cannot set
// them, as WITH keys starting with '$' are refused.
const (
	// PartitionKeysOption holds the partition keys, URL-encoded as
	// "key=k1&key=k2" (in PARTITIONED BY order).
	PartitionKeysOption = "$partition-keys"
	// StaticPartitionOption holds an INSERT's static partition, URL-encoded
	// as "k1=v1&k2=v2": each value as the statement spells it, which is
	// what its directory is named after, as in Flink.
	StaticPartitionOption = "$static-partition"
)

// addPartitionKeys checks PARTITIONED BY and records its keys on t.
func addPartitionKeys(t *Table, st *sql.CreateTable) error {
	for k := range t.Options {
		if strings.HasPrefix(k, "$") {
			return errAt(st.At, "table %s: option '%s': keys starting with '$' are weir's own; remove it", st.Name, k)
		}
	}
	if len(st.PartitionKeys) == 0 {
		return nil
	}
	if t.Connector() != "filesystem" {
		return errAt(st.PartitionAt, "table %s: PARTITIONED BY needs the 'filesystem' connector ('%s' tables are not partitioned in directories)", st.Name, t.Connector())
	}
	seen := map[string]bool{}
	var keys []string
	for _, k := range st.PartitionKeys {
		i := t.Schema.Index(k)
		if i < 0 {
			return errAt(st.PartitionAt, "partition column '%s' is not a column of table %s (%s)", k, st.Name, schemaString(t.Schema))
		}
		name := t.Schema[i].Name
		if seen[strings.ToLower(name)] {
			return errAt(st.PartitionAt, "partition column '%s' is listed twice in PARTITIONED BY", k)
		}
		seen[strings.ToLower(name)] = true
		switch t.Schema[i].Type.Kind {
		case types.Array, types.Map, types.Row, types.Null, types.Binary, types.Varbinary, types.IntervalYearMonth, types.IntervalDayTime:
			return errAt(st.PartitionAt, "partition column '%s' is %s; partition values are directory names: use a column of a scalar type (string, number, date, time, boolean)", name, t.Schema[i].Type)
		}
		keys = append(keys, name)
	}
	if len(keys) == len(t.Schema) {
		return errAt(st.PartitionAt, "table %s: every column is a partition column; the files of a partition need at least one column of their own", st.Name)
	}
	t.PartitionKeys = keys
	t.Options[PartitionKeysOption] = url.Values{"key": keys}.Encode()
	return nil
}

// planStaticPartition plans INSERT ... PARTITION (k = v, ...): the query
// gives the other columns, in the table's order, and each static column is
// the value given, cast to the column's type.
func planStaticPartition(cat *catalog, st *sql.Insert, sink *Table, params map[string]string) (*Job, error) {
	if len(sink.PartitionKeys) == 0 {
		return nil, errAt(st.Partition[0].At, "table %s is not partitioned; remove PARTITION (...), or declare the table with PARTITIONED BY (...)", sink.Name)
	}
	static := map[int]expr.Expr{}
	var spec []string
	for _, pv := range st.Partition {
		i := sink.Schema.Index(pv.Name)
		if i < 0 || !isPartitionKey(sink, sink.Schema[i].Name) {
			return nil, errAt(pv.At, "'%s' is not a partition column of table %s; its partition columns are %s", pv.Name, sink.Name, strings.Join(sink.PartitionKeys, ", "))
		}
		if _, dup := static[i]; dup {
			return nil, errAt(pv.At, "partition column '%s' is given twice", pv.Name)
		}
		col := sink.Schema[i]
		x, err := (&binder{cat: cat}).bind(pv.Value)
		if err != nil {
			return nil, err
		}
		if !assignable(x.Type(), col.Type) && !(x.Type().IsString() && exec.CanCast(x.Type(), col.Type)) {
			return nil, errAt(pv.At, "partition value %s is %s, which cannot be stored in %s %s", x, x.Type(), col.Name, col.Type)
		}
		v, err := fold(coerce(x, col.Type))
		if err != nil {
			return nil, errAt(pv.Value.Pos(), "partition value for %s %s: %v", col.Name, col.Type, err)
		}
		static[i] = &expr.Literal{Value: v, T: col.Type.WithNullable(v == nil)}
		spec = append(spec, url.QueryEscape(col.Name)+"="+url.QueryEscape(literalText(pv.Value)))
	}
	// The query fills the other columns.
	rest := &Table{Name: sink.Name, Options: sink.Options}
	var from []int // the table's column of each of rest's
	for i, f := range sink.Schema {
		if _, ok := static[i]; !ok {
			rest.Schema = append(rest.Schema, f)
			from = append(from, i)
		}
	}
	job, err := planQuery(cat, st, rest, params)
	if err != nil {
		return nil, err
	}
	outs := make([]expr.Expr, len(sink.Schema))
	for i, x := range static {
		outs[i] = x
	}
	for k, i := range from {
		outs[i] = &expr.Column{Index: k, Name: rest.Schema[k].Name, T: rest.Schema[k].Type}
	}
	job.Steps = append(job.Steps, Step{Calc: &exec.Calc{Projections: outs, Schema: sink.Schema}})
	withSpec := *sink
	withSpec.Options = make(map[string]string, len(sink.Options)+1)
	for k, v := range sink.Options {
		withSpec.Options[k] = v
	}
	withSpec.Options[StaticPartitionOption] = strings.Join(spec, "&")
	job.Sink = &withSpec
	job.Overwrite = st.Overwrite
	return job, nil
}

func isPartitionKey(t *Table, name string) bool {
	for _, k := range t.PartitionKeys {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// literalText is a static partition value as Flink names its directory:
// a string's value, a number as written.
func literalText(x sql.Expr) string {
	switch x := x.(type) {
	case *sql.Literal:
		if x.Kind == sql.LitBool {
			return strings.ToLower(x.Text)
		}
		return x.Text
	case *sql.Unary:
		if x.Op == "-" {
			return "-" + literalText(x.X)
		}
		return literalText(x.X)
	}
	return fmt.Sprint(x)
}

// StreamingSinkOption marks the sink of a streaming job for the filesystem
// connector, which then rolls part files and commits them on checkpoints
// (internal/connector/filesystem_rolling.go).
const StreamingSinkOption = "$streaming"

// markStreamingSink gives a streaming job's filesystem sink the option.
func markStreamingSink(job *Job) {
	if !job.Streaming || job.Sink == nil || job.Sink.Connector() != "filesystem" {
		return
	}
	t := *job.Sink
	t.Options = make(map[string]string, len(job.Sink.Options)+1)
	for k, v := range job.Sink.Options {
		t.Options[k] = v
	}
	t.Options[StreamingSinkOption] = "true"
	job.Sink = &t
}

// PartitionFilterOption holds the partition values a query's filter allows,
// URL-encoded as "k1=v1&k1=v2&k2=v3" (each value CAST to STRING): the
// source reads only the partition directories whose values are among them
// (for every key named). The filter still runs over the rows read.
const PartitionFilterOption = "$partition-filter"

// pushPartitionFilter finds, among the AND-ed conditions of the first
// step's WHERE, those of the form key = constant or key IN (constants) over
// a partition key, and gives them to the source: partition pruning.
func pushPartitionFilter(job *Job) {
	t := job.Source.Table
	if t == nil || len(t.PartitionKeys) == 0 || len(job.Steps) == 0 || job.Steps[0].Calc == nil || job.Steps[0].Calc.Filter == nil {
		return
	}
	schema := job.Source.Schema
	seen := map[string]bool{}
	var spec []string
	for _, c := range conjuncts(job.Steps[0].Calc.Filter) {
		key, vals, ok := keyValues(c, schema, t)
		if !ok || seen[key] {
			continue // another condition on the key: the first one prunes enough
		}
		seen[key] = true
		for _, v := range vals {
			spec = append(spec, url.QueryEscape(key)+"="+url.QueryEscape(v))
		}
	}
	if len(spec) == 0 {
		return
	}
	pruned := *t
	pruned.Options = make(map[string]string, len(t.Options)+1)
	for k, v := range t.Options {
		pruned.Options[k] = v
	}
	pruned.Options[PartitionFilterOption] = strings.Join(spec, "&")
	job.Source.Table = &pruned
}

// keyValues reads key = c1 OR key = c2 ... over one partition key; the
// constants as text.
func keyValues(x expr.Expr, schema types.Schema, t *Table) (string, []string, bool) {
	var terms []expr.Expr
	var flatten func(e expr.Expr)
	flatten = func(e expr.Expr) {
		if c, ok := e.(*expr.Call); ok && c.Name == "OR" {
			flatten(c.Args[0])
			flatten(c.Args[1])
			return
		}
		terms = append(terms, e)
	}
	flatten(x)
	key := ""
	var vals []string
	for _, term := range terms {
		eq, ok := term.(*expr.Call)
		if !ok || eq.Name != "=" || len(eq.Args) != 2 {
			return "", nil, false
		}
		col, ok := eq.Args[0].(*expr.Column)
		other := eq.Args[1]
		if !ok {
			col, ok = eq.Args[1].(*expr.Column)
			other = eq.Args[0]
		}
		if !ok || col.Index >= len(schema) || !isPartitionKey(t, schema[col.Index].Name) || !isConstant(other) {
			return "", nil, false
		}
		name := schema[col.Index].Name
		if key != "" && key != name {
			return "", nil, false
		}
		key = name
		v, err := fold(coerce(other, col.T))
		if err != nil {
			return "", nil, false
		}
		if v == nil {
			continue // = NULL matches nothing
		}
		s, err := exec.CastValue(v, col.T, types.STRING)
		if err != nil || s == nil {
			return "", nil, false
		}
		vals = append(vals, s.(string))
	}
	return key, vals, key != ""
}
