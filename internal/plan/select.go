package plan

import (
	"fmt"
	"strings"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/sortop"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/weirpb"
)

func planInsert(cat *catalog, st *sql.Insert, params map[string]string) (*Job, error) {
	sink := cat.table(st.Table)
	if sink == nil {
		return nil, errAt(st.At, "unknown table %s; declare it with CREATE TABLE %s (...) WITH ('connector' = ...)", st.Table, st.Table)
	}
	if sink.ProcTime != "" {
		return nil, errAt(st.At, "table %s has a processing-time column (%s AS PROCTIME()), which weir cannot write yet; insert into a table declared without it", sink.Name, sink.ProcTime)
	}
	if st.Overwrite && sink.Connector() != "filesystem" {
		// Flink: the sink must implement SupportsOverwrite; of weir's, only filesystem does.
		return nil, errAt(st.At, "INSERT OVERWRITE needs a table whose connector can replace its rows ('filesystem'); table %s uses '%s': use INSERT INTO", st.Table, sink.Connector())
	}
	if len(st.Partition) > 0 {
		return planStaticPartition(cat, st, sink, params) // partitions.go
	}
	job, err := planQuery(cat, st, sink, params)
	if err != nil {
		return nil, err
	}
	job.Overwrite = st.Overwrite
	return job, nil
}

// planSelect plans a bare SELECT: its rows are printed, as by a table WITH
// ('connector' = 'print') whose columns are the query's.
func planSelect(cat *catalog, st *sql.SelectStmt, params map[string]string) (*Job, error) {
	return planQuery(cat, &sql.Insert{At: st.Query.At, Query: st.Query}, nil, params)
}

// planQuery plans st's query into sink, or into standard output when sink
// is nil.
func planQuery(cat *catalog, st *sql.Insert, sink *Table, params map[string]string) (*Job, error) {
	job := &Job{Sink: sink}
	p := &pipeline{params: params}
	q := pushTopN(st.Query) // over.go
	// flat_aggregate joins a grouped subquery with a table function (udtaf.go).
	q, err := rewriteUDTAFs(cat, q)
	if err != nil {
		return nil, err
	}
	sc, err := planFrom(cat, q.From, job, p)
	if err != nil {
		return nil, err
	}
	// Python aggregate functions become calls over collected arguments (udaf.go).
	if q, err = rewriteUDAFs(cat, q); err != nil {
		return nil, err
	}
	// IN (query) and EXISTS in WHERE are semi and anti joins (semijoin.go).
	if q, err = planSemiJoins(cat, q, sc, p); err != nil {
		return nil, err
	}
	// (SELECT ...) values are joined in as hidden columns (scalarquery.go).
	if q, sc, err = planScalarQueries(cat, q, sc, p); err != nil {
		return nil, err
	}
	st = &sql.Insert{At: st.At, Table: st.Table, Overwrite: st.Overwrite, Query: q}
	if err := noAggregates(q.Where, "WHERE; filter groups with HAVING"); err != nil {
		return nil, err
	}
	for _, x := range selectExprs(q) {
		if err := noStrayFilter(x); err != nil {
			return nil, err
		}
	}
	if err := checkModeInput(cat, q, job, p); err != nil { // streaming.go
		return nil, err
	}
	if isAggregateQuery(q) {
		// The rest of the query runs over the aggregation's output, with
		// HAVING as its WHERE.
		if q, sc, err = planAggregate(cat, q, sc, p, job); err != nil {
			return nil, err
		}
		st = &sql.Insert{At: st.At, Table: st.Table, Overwrite: st.Overwrite, Query: q}
	}
	// Window functions run over the rows so far (over.go).
	if q, sc, err = planWindows(cat, q, sc, p); err != nil {
		return nil, err
	}
	st = &sql.Insert{At: st.At, Table: st.Table, Overwrite: st.Overwrite, Query: q}
	b := &binder{cat: cat, scope: sc}
	var filter expr.Expr
	if st.Query.Where != nil {
		if filter, err = b.bind(st.Query.Where); err != nil {
			return nil, err
		}
		if err := wantBool(st.Query.Where.Pos(), "WHERE", filter); err != nil {
			return nil, err
		}
	}
	var outs []expr.Expr
	var pos []sql.Pos
	var labels []string // the name of each output column
	for _, item := range st.Query.Items {
		if item.Star {
			for i, c := range sc {
				if item.StarQualifier != "" && !strings.EqualFold(item.StarQualifier, c.qual) || strings.HasPrefix(c.name, scalarPrefix) {
					continue
				}
				outs = append(outs, &expr.Column{Index: i, Name: c.name, T: c.t})
				pos = append(pos, item.At)
				labels = append(labels, c.name)
			}
			continue
		}
		x, err := b.bind(item.Expr)
		if err != nil {
			return nil, err
		}
		label := item.Alias
		if c, ok := x.(*expr.Column); ok && label == "" {
			label = c.Name
		}
		if label == "" {
			label = fmt.Sprintf("EXPR$%d", len(outs))
		}
		outs = append(outs, x)
		pos = append(pos, item.At)
		labels = append(labels, label)
	}
	for i, o := range outs {
		if err := checkGoNested(pos[i], o); err != nil {
			return nil, err
		}
		if outs[i], err = foldNestedConstants(o); err != nil {
			return nil, errAt(pos[i], "%v", err)
		}
	}
	if filter != nil {
		if err := checkGoNested(st.Query.Where.Pos(), filter); err != nil {
			return nil, err
		}
	}
	if sink == nil {
		sink = &Table{Name: "stdout", Options: map[string]string{"connector": "print"}}
		for i, o := range outs {
			t := o.Type()
			if t.Kind == types.Null {
				t = types.STRING
			}
			sink.Schema = append(sink.Schema, types.Field{Name: labels[i], Type: t})
		}
		job.Sink = sink
	}
	if len(outs) != len(sink.Schema) {
		return nil, errAt(st.At, "INSERT INTO %s: the query gives %d column(s) but %s has %d (%s)", sink.Name, len(outs), sink.Name, len(sink.Schema), schemaString(sink.Schema))
	}
	names := make([]string, len(outs))
	for i, o := range outs {
		want := sink.Schema[i].Type
		got := o.Type()
		if !assignable(got, want) {
			return nil, errAt(pos[i], "INSERT INTO %s: column %d (%s) is %s, which cannot be stored in %s %s", sink.Name, i+1, o, got, sink.Schema[i].Name, want)
		}
		if !got.SameShape(want) {
			outs[i] = coerce(o, want)
		}
		names[i] = sink.Schema[i].Name
	}
	if q.OrderBy != nil && q.Offset > 0 && q.Limit < 0 {
		// Flink's batch sort needs an end when it skips rows.
		return nil, errAt(q.LimitAt, "ORDER BY with OFFSET needs a LIMIT (or FETCH FIRST n ROWS ONLY), as in Flink")
	}
	var keys []sortop.Key
	if q.OrderBy != nil {
		var extra []expr.Expr
		if keys, extra, err = orderKeys(q, b, outs, labels); err != nil {
			return nil, err
		}
		// Keys that are not output columns ride along as hidden columns.
		for i, x := range extra {
			outs = append(outs, x)
			names = append(names, fmt.Sprintf("$order%d", i))
		}
	}
	visible := len(sink.Schema)
	if q.Distinct && len(outs) > visible {
		return nil, errAt(q.OrderBy[0].X.Pos(), "with SELECT DISTINCT, ORDER BY may use only the selected columns")
	}
	outs, filter = p.pruneLateral(outs, filter)
	if err := p.finish(outs, names, filter); err != nil {
		return nil, err
	}
	if q.Distinct {
		// SELECT DISTINCT over groups: group the output rows by all of their
		// columns.
		if err := p.addDistinct(cat, q.At, job); err != nil {
			return nil, err
		}
	}
	if keys != nil || q.Limit >= 0 || q.Offset > 0 {
		p.materialize()
		p.steps = append(p.steps, Step{Op: &sortop.Op{Keys: keys, Limit: q.Limit, Offset: q.Offset, Schema: p.schema}})
		if len(p.schema) > visible {
			p.addCalc(nil, identity(p.schema[:visible]), p.schema[:visible])
		}
	}
	job.Steps = p.steps
	job.Streaming, job.Updating, job.RowKinds = cat.streaming, p.changes, p.hasRowKind()
	if err := checkSink(st, sink, job); err != nil {
		return nil, err
	}
	pushPartitionFilter(job) // partitions.go
	pushProjection(job)      // projection.go
	return job, nil
}

// assignable reports whether a value of type from may be written to a
// column of type to (with an implicit cast where needed).
func assignable(from, to types.T) bool {
	switch {
	case from.Kind == types.Null:
		return true
	case from.EqualIgnoringNull(to):
		return true
	case from.WithNullable(to.Nullable).StoresIn(to):
		return true
	case isNested(from) && pythonTransparent(from, to):
		// The same values, with strings of a longer type inside
		// (MAP<CHAR(1), INT> into MAP<STRING, INT>): the Arrow data
		// stays as it is.
		return true
	case from.IsNumeric() && to.IsNumeric():
		return true
	case from.IsString() && to.IsString(), from.IsBinary() && to.IsBinary():
		return true
	case (from.Kind == types.Timestamp || from.Kind == types.TimestampLTZ) && from.Kind == to.Kind:
		return true
	case from.Kind == types.Time && to.Kind == types.Time:
		return true
	}
	return false
}

// planFrom plans the FROM clause into the job's source and first steps, and
// returns the columns the SELECT can name.
func planFrom(cat *catalog, f sql.From, job *Job, p *pipeline) (scope, error) {
	switch f := f.(type) {
	case *sql.TableRef:
		if v := cat.view(f.Name); v != nil {
			return planView(cat, v, f, job, p) // view.go
		}
		t := cat.table(f.Name)
		if t == nil {
			return nil, errAt(f.At, "unknown table %s; declare it with CREATE TABLE %s (...) WITH ('connector' = ...)", f.Name, f.Name)
		}
		job.Source = Source{Table: t, Schema: t.Schema}
		p.schema = t.Schema
		if phys, at := t.physical(); at >= 0 { // proctime.go
			job.Source.Schema = phys
			p.steps = append(p.steps, Step{Op: &ProcTime{At: at, Schema: t.Schema}})
		}
		qual := f.Alias
		if qual == "" {
			qual = t.Name
		}
		sc := make(scope, len(t.Schema))
		for i, c := range t.Schema {
			sc[i] = column{qual: qual, name: c.Name, t: c.Type}
		}
		return sc, nil
	case *sql.Values:
		return planValues(cat, f, job, p)
	case *sql.WindowTVF:
		return planWindowTVF(cat, f, job, p) // window.go
	case *sql.Lateral:
		left, err := planFrom(cat, f.Left, job, p)
		if err != nil {
			return nil, err
		}
		if err := lateralInput(p, f); err != nil { // streaming.go
			return nil, err
		}
		return planLateral(cat, f, left, p)
	case *sql.Subquery:
		return planSubquery(cat, f, job, p)
	case *sql.Join:
		if err := refuseWindowJoin(cat, f); err != nil { // window.go
			return nil, err
		}
		return planJoin(cat, f, job, p) // join.go
	case *sql.SetOp:
		return planSetOp(cat, f, job, p) // setop.go
	case nil:
		// SELECT without FROM reads one row of no columns.
		job.Source = Source{Values: [][]any{{}}, Schema: types.Schema{}}
		p.schema = types.Schema{}
		return scope{}, nil
	}
	return nil, errAt(f.Pos(), "this FROM clause is not supported")
}

func planValues(cat *catalog, v *sql.Values, job *Job, p *pipeline) (scope, error) {
	if len(v.Rows) == 0 {
		return nil, errAt(v.At, "VALUES needs at least one row")
	}
	width := len(v.Rows[0])
	b := &binder{cat: cat}
	cols := make([][]expr.Expr, width)
	for r, row := range v.Rows {
		if len(row) != width {
			return nil, errAt(v.At, "VALUES row %d has %d values, the first has %d", r+1, len(row), width)
		}
		for c, x := range row {
			e, err := b.bind(x)
			if err != nil {
				return nil, err
			}
			if !isConstant(e) {
				return nil, errAt(x.Pos(), "VALUES may hold only constants")
			}
			cols[c] = append(cols[c], e)
		}
	}
	names := v.Columns
	if len(names) == 0 {
		for i := 0; i < width; i++ {
			names = append(names, fmt.Sprintf("EXPR$%d", i))
		}
	}
	if len(names) != width {
		return nil, errAt(v.At, "VALUES has %d columns but %d names", width, len(names))
	}
	schema := make(types.Schema, width)
	for c := range cols {
		t, err := commonType(v.At, cols[c])
		if err != nil {
			return nil, err
		}
		if t.Kind == types.Null {
			t = types.STRING
		}
		schema[c] = types.Field{Name: names[c], Type: t}
	}
	rows := make([][]any, len(v.Rows))
	for r := range v.Rows {
		rows[r] = make([]any, width)
		for c := range cols {
			val, err := fold(coerce(cols[c][r], schema[c].Type))
			if err != nil {
				return nil, errAt(v.Rows[r][c].Pos(), "%v", err)
			}
			rows[r][c] = val
		}
	}
	for c, f := range schema {
		vals := make([]any, len(rows))
		for r := range rows {
			vals[r] = rows[r][c]
		}
		if err := goCanBuild(f.Type, vals); err != nil {
			at := v.At
			for r := range rows {
				if rows[r][c] != nil {
					at = v.Rows[r][c].Pos()
					break
				}
			}
			return nil, errAt(at, "VALUES column %s of type %s: the Go engine cannot build %s values yet; pass ARRAY[...], MAP[...] and ROW(...) as constant arguments of Python functions, or build the values in a Python function", f.Name, f.Type, f.Type.Kind)
		}
	}
	job.Source = Source{Values: rows, Schema: schema}
	p.schema = schema
	sc := make(scope, width)
	for i, f := range schema {
		sc[i] = column{qual: v.Alias, name: f.Name, t: f.Type}
	}
	return sc, nil
}

// planLateral adds a table-function stage joining each row of the left side
// with the rows the function returns for it.
func planLateral(cat *catalog, l *sql.Lateral, left scope, p *pipeline) (scope, error) {
	fn := cat.functions[strings.ToLower(l.Call.Name)]
	if fn == nil {
		return nil, errAt(l.Call.At, "unknown table function %s; declare it with CREATE TEMPORARY FUNCTION %s AS 'module.%s' LANGUAGE PYTHON", l.Call.Name, l.Call.Name, l.Call.Name)
	}
	if !fn.Table {
		return nil, errAt(l.Call.At, "%s is a scalar function; LATERAL TABLE(...) needs a table function declared with @udtf", fn.Name)
	}
	if l.On != nil {
		if lit, ok := l.On.(*sql.Literal); !ok || lit.Kind != sql.LitBool || !strings.EqualFold(lit.Text, "TRUE") {
			return nil, errAt(l.On.Pos(), "a join with LATERAL TABLE supports only ON TRUE")
		}
	}
	if l.Kind == sql.LeftJoin && l.On == nil {
		return nil, errAt(l.At, "LEFT JOIN LATERAL TABLE(...) needs ON TRUE")
	}
	b := &binder{cat: cat, scope: left}
	args := make([]expr.Expr, len(l.Call.Args))
	for i, a := range l.Call.Args {
		x, err := b.bind(a)
		if err != nil {
			return nil, err
		}
		args[i] = x
	}
	args, err := b.checkArgs(l.Call, fn, args)
	if err != nil {
		return nil, err
	}
	// Python calls inside Go expressions of the arguments are computed by
	// scalar stages first; per-row Python calls that are arguments
	// themselves fuse into the table function's stage (vectorized ones run
	// in a stage of their own before it).
	width := len(left)
	for {
		var pending []expr.Expr
		for _, a := range args {
			if pc, ok := a.(*expr.PyCall); (ok && (!ready(pc) || vectorized(pc))) || (!ok && expr.HasPyCall(a)) {
				pending = append(pending, a)
			}
		}
		trees := sameCallKind(readyTrees(pending))
		if len(trees) == 0 {
			break
		}
		all := append(identity(p.schema[:width]), args...)
		rewritten, err := p.addStage(trees, all)
		if err != nil {
			return nil, err
		}
		args = rewritten[width:]
	}
	call := &expr.PyCall{Func: fn, Args: args, T: fn.ResultTypes[0]}
	names := l.Columns
	if len(names) == 0 {
		for i := range fn.ResultTypes {
			names = append(names, fmt.Sprintf("f%d", i))
		}
	}
	if len(names) != len(fn.ResultTypes) {
		return nil, errAt(l.At, "table function %s returns %d column(s) but AS %s(...) names %d", fn.Name, len(fn.ResultTypes), l.Alias, len(names))
	}
	sb := newStageBuilder(weirpb.Stage_TABLE, p.params)
	e, err := sb.call(call)
	if err != nil {
		return nil, err
	}
	sb.spec.Outputs = []*weirpb.Expr{e}
	sb.spec.Name = "PythonTableFunction[" + call.String() + "]"
	results := make(types.Schema, len(names))
	for i, n := range names {
		t := fn.ResultTypes[i]
		if l.Kind == sql.LeftJoin {
			t = t.WithNullable(true)
		}
		results[i] = types.Field{Name: n, Type: t}
	}
	// The left side's columns are the first ones (scalar stages above keep
	// them in front of their results, which are not needed any further).
	forward := make([]int, width)
	for i := range forward {
		forward[i] = i
	}
	st := p.stage(sb, forward, results)
	st.LeftJoin = l.Kind == sql.LeftJoin
	sc := append(scope(nil), left...)
	for _, r := range results {
		sc = append(sc, column{qual: l.Alias, name: r.Name, t: r.Type})
	}
	return sc, nil
}

// pruneLateral drops from a final table-function stage the forwarded
// columns that nothing after it uses: they would be copied once per result
// row only to be discarded. It returns outs and filter over the pruned
// stage's output.
func (p *pipeline) pruneLateral(outs []expr.Expr, filter expr.Expr) ([]expr.Expr, expr.Expr) {
	if len(p.steps) == 0 || p.steps[len(p.steps)-1].Python == nil || !p.steps[len(p.steps)-1].Python.Table() {
		return outs, filter
	}
	st := p.steps[len(p.steps)-1].Python
	nf := len(st.Forward)
	used := map[int]bool{}
	for _, x := range append(append([]expr.Expr(nil), outs...), filter) {
		expr.Walk(x, func(e expr.Expr) bool {
			if c, ok := e.(*expr.Column); ok {
				used[c.Index] = true
			}
			return true
		})
	}
	newIndex := map[int]int{}
	var forward []int
	var output types.Schema
	for i := 0; i < nf; i++ {
		if used[i] {
			newIndex[i] = len(forward)
			forward = append(forward, st.Forward[i])
			output = append(output, st.Output[i])
		}
	}
	for k := range st.Results {
		newIndex[nf+k] = len(forward) + k
	}
	st.Forward = forward
	st.Output = append(output, st.Results...)
	p.schema = st.Output
	remap := func(x expr.Expr) expr.Expr {
		return rewrite(x, func(e expr.Expr) expr.Expr {
			if c, ok := e.(*expr.Column); ok {
				return &expr.Column{Index: newIndex[c.Index], Name: c.Name, T: c.T}
			}
			return nil
		})
	}
	for i := range outs {
		outs[i] = remap(outs[i])
	}
	return outs, remap(filter)
}
