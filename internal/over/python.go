package over

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// Python aggregate functions over a window run in three steps (the planner
// puts a Python stage between the two Go ones):
//
//  1. the Op sorts its input and computes its built-in calls as usual, then
//     sends the rows in chunks, one row per chunk ("pack"): the chunk's rows
//     as one ARRAY per column (forwarded past Python, never sent to it) and,
//     per Python call, the arguments its frames cover as one ARRAY per
//     argument and its runs of frames;
//  2. the Python stage calls the function once per run of rows that share a
//     frame (one call per partition for a whole-partition frame) and returns
//     one ARRAY per call, a value per run;
//  3. Unpack flattens the rows again and repeats each run's value over its
//     rows.
//
// A chunk is one row of a scalar Python stage, so a bundle replayed after a
// worker died recomputes its chunks whole: nothing is lost or doubled.

// chunkRows is the number of rows after which a chunk closes where the
// frames move on (the next chunk re-sends at most the frames' overlap).
// Frames that all start with the partition (or equal ones) keep one chunk.
var chunkRows = 4096 // a variable for tests

// Pack is the layout of the batches an Op with Python calls sends.
type Pack struct {
	// Rows are the columns [0, Rows): the ARRAY of each output column of the
	// rows of the chunk, except the Python calls' (the input's columns,
	// then the built-in calls' in call order).
	Rows int
	// Runs[k] is the column of the runs of Python call k (in call order
	// among the Python calls): ARRAY<INT> of triples (rows, start, end), a
	// frame [start, end) over Args's lists for that many rows in a row.
	Runs []int
	// Args[k] are the columns of the arguments of Python call k: ARRAY of
	// the values of the positions its chunk's frames cover, in window order.
	Args [][]int
	// Base[k] is the column (INT) of the position in its partition of the
	// first value of Args[k]'s lists (pandas' index of the frames).
	Base []int
	// First is the column (INT) of the position in its partition of the
	// chunk's first row; Keys are the columns of the partition's keys. Both
	// are for errors.
	First int
	Keys  []int
}

// HasPython reports whether o has Python calls (and so sends packs).
func (o *Op) HasPython() bool {
	for _, c := range o.Calls {
		if c.Func == PythonAgg {
			return true
		}
	}
	return false
}

// pythonCalls returns the indexes of o's Python calls.
func (o *Op) pythonCalls() []int {
	var out []int
	for i, c := range o.Calls {
		if c.Func == PythonAgg {
			out = append(out, i)
		}
	}
	return out
}

// ResultSchema is the schema of o's rows with the calls' values: the input's
// columns and then one column per call. (Unpack's output when o has Python
// calls.)
func (o *Op) ResultSchema() types.Schema {
	s := append(types.Schema(nil), o.Schema...)
	for i, c := range o.Calls {
		s = append(s, types.Field{Name: fmt.Sprintf("w%d$%d", i, len(o.Schema)+i), Type: c.Out})
	}
	return s
}

// PackLayout returns the layout of o's packs and their schema.
func (o *Op) PackLayout() (Pack, types.Schema) {
	var p Pack
	var s types.Schema
	list := func(name string, t types.T) int {
		s = append(s, types.Field{Name: name, Type: types.ARRAY(t).NotNull()})
		return len(s) - 1
	}
	for _, f := range o.Schema {
		list(f.Name, f.Type)
	}
	for i, c := range o.Calls {
		if c.Func != PythonAgg {
			list(fmt.Sprintf("w%d$%d", i, len(o.Schema)+i), c.Out)
		}
	}
	p.Rows = len(s)
	for _, i := range o.pythonCalls() {
		p.Runs = append(p.Runs, list(fmt.Sprintf("$runs%d", i), types.INT.NotNull()))
	}
	for _, i := range o.pythonCalls() {
		var args []int
		for j, a := range o.Calls[i].Args {
			args = append(args, list(fmt.Sprintf("$arg%d_%d", i, j), o.Schema[a].Type.WithNullable(true)))
		}
		p.Args = append(p.Args, args)
		s = append(s, types.Field{Name: fmt.Sprintf("$base%d", i), Type: types.INT.NotNull()})
		p.Base = append(p.Base, len(s)-1)
	}
	s = append(s, types.Field{Name: "$first", Type: types.INT.NotNull()})
	p.First = len(s) - 1
	for _, c := range o.Partition {
		s = append(s, types.Field{Name: "$key" + o.Schema[c].Name, Type: o.Schema[c].Type})
		p.Keys = append(p.Keys, len(s)-1)
	}
	return p, s
}

// chunk is a run of positions [a, b) of one partition.
type chunk struct{ a, b int }

// frameRange returns the positions [fs, fe) of p's frame, fs == fe when
// empty.
func (w *window) frameRange(f Frame, p int) (int, int) {
	fs, fe := w.bounds(f, p)
	if fs > fe {
		return fs, fs
	}
	return fs, fe + 1
}

// chunks splits the partitions of w into chunks: a chunk closes after
// chunkRows rows where every Python call's frame moves on from the row
// before and the next chunk would re-send fewer than chunkRows values.
func (o *Op) chunks(w *window, py []int) []chunk {
	var out []chunk
	for p := 0; p < w.n; {
		lo, hi := int(w.partLo[p]), int(w.partHi[p])
		a := lo
		ends := make([]int, len(py)) // the largest frame end so far per call
		for q := lo; q < hi; q++ {
			split := q-a >= chunkRows
			for k, i := range py {
				fs, fe := w.frameRange(o.Calls[i].Frame, q)
				if split && q > a {
					ps, pe := w.frameRange(o.Calls[i].Frame, q-1)
					if (ps == fs && pe == fe) || (fs < fe && ends[k]-fs >= chunkRows) {
						split = false
					}
				}
				if fe > ends[k] {
					ends[k] = fe
				}
			}
			if split {
				out = append(out, chunk{a, q})
				a = q
				for k, i := range py {
					_, ends[k] = w.frameRange(o.Calls[i].Frame, q)
				}
			}
		}
		out = append(out, chunk{a, hi})
		p = hi
	}
	return out
}

// pack builds the packs of the rows in window order: sorted are the input's
// columns in window order, results the calls' (nil for Python calls).
func (o *Op) pack(ctx context.Context, mem memory.Allocator, w *window, sorted []arrow.Array, results []arrow.Array) (arrow.RecordBatch, error) {
	layout, schema := o.PackLayout()
	py := o.pythonCalls()
	chunks := o.chunks(w, py)
	cols := make([]arrow.Array, len(schema))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	// The rows: each chunk's slice of the columns in window order.
	offs := make([]int32, len(chunks)+1)
	for i, c := range chunks {
		offs[i+1] = int32(c.b)
	}
	rowCols := append([]arrow.Array(nil), sorted...)
	for i, r := range results {
		if o.Calls[i].Func != PythonAgg {
			rowCols = append(rowCols, r)
		}
	}
	for j, v := range rowCols {
		cols[j] = listOf(schema[j].Type, v, offs)
	}
	// The arguments and runs of each Python call.
	for k, i := range py {
		f := o.Calls[i].Frame
		var take []int32
		argOffs := make([]int32, 1, len(chunks)+1)
		runs := array.NewInt32Builder(mem)
		runOffs := make([]int32, 1, len(chunks)+1)
		bases := make([]int32, len(chunks))
		for ci, c := range chunks {
			lo, hi := c.b, c.a
			for q := c.a; q < c.b; q++ {
				if fs, fe := w.frameRange(f, q); fs < fe {
					lo, hi = min(lo, fs), max(hi, fe)
				}
			}
			if lo > hi {
				lo, hi = c.a, c.a
			}
			for q := lo; q < hi; q++ {
				take = append(take, int32(q))
			}
			argOffs = append(argOffs, int32(len(take)))
			bases[ci] = int32(lo) - w.partLo[c.a]
			n := 0
			ps, pe := -1, -1
			for q := c.a; q < c.b; q++ {
				fs, fe := w.frameRange(f, q)
				if fs >= fe {
					fs, fe = lo, lo
				}
				if q > c.a && fs == ps && fe == pe {
					n++
					continue
				}
				if q > c.a {
					runs.AppendValues([]int32{int32(n), int32(ps - lo), int32(pe - lo)}, nil)
				}
				n, ps, pe = 1, fs, fe
			}
			runs.AppendValues([]int32{int32(n), int32(ps - lo), int32(pe - lo)}, nil)
			runOffs = append(runOffs, int32(runs.Len()))
		}
		rv := runs.NewArray()
		runs.Release()
		cols[layout.Runs[k]] = listOf(schema[layout.Runs[k]].Type, rv, runOffs)
		rv.Release()
		for j, a := range o.Calls[i].Args {
			v, err := takeArray(ctx, mem, sorted[a], take)
			if err != nil {
				return nil, err
			}
			if err := o.checkArgBytes(v, argOffs, chunks, o.Calls[i], sorted, w); err != nil {
				v.Release()
				return nil, err
			}
			col := layout.Args[k][j]
			cols[col] = listOf(schema[col].Type, v, argOffs)
			v.Release()
		}
		bb := array.NewInt32Builder(mem)
		bb.AppendValues(bases, nil)
		cols[layout.Base[k]] = bb.NewArray()
		bb.Release()
	}
	firsts := make([]int32, len(chunks))
	starts := make([]int32, len(chunks))
	for i, c := range chunks {
		firsts[i] = int32(c.a) - w.partLo[c.a]
		starts[i] = int32(c.a)
	}
	fb := array.NewInt32Builder(mem)
	fb.AppendValues(firsts, nil)
	cols[layout.First] = fb.NewArray()
	fb.Release()
	for j, c := range o.Partition {
		v, err := takeArray(ctx, mem, sorted[c], starts)
		if err != nil {
			return nil, err
		}
		cols[layout.Keys[j]] = v
	}
	return array.NewRecordBatch(schema.Arrow(), cols, int64(len(chunks))), nil
}

// checkArgBytes refuses a chunk whose values v[argOffs[ci], argOffs[ci+1])
// of an argument of c are over MaxArgBytes.
func (o *Op) checkArgBytes(v arrow.Array, argOffs []int32, chunks []chunk, c Call, sorted []arrow.Array, w *window) error {
	if o.MaxArgBytes <= 0 {
		return nil
	}
	width := 0
	if fw, ok := v.DataType().(arrow.FixedWidthDataType); ok {
		width = max(1, fw.BitWidth()/8)
	}
	offsets, varLen := v.(interface{ ValueOffsets() []int32 })
	for ci, ch := range chunks {
		lo, hi := int64(argOffs[ci]), int64(argOffs[ci+1])
		size := (hi - lo) * int64(width)
		if varLen && hi > lo {
			offs := offsets.ValueOffsets()
			size = int64(offs[hi]-offs[lo]) + 4*(hi-lo)
		}
		if size <= o.MaxArgBytes {
			continue
		}
		var key []string
		for _, k := range o.Partition {
			key = append(key, fmt.Sprint(sorted[k].GetOneForMarshal(int(ch.a))))
		}
		return fmt.Errorf("over: the frames of %s over rows %d to %d of partition (%s) cover %d values, %d MiB of one argument: over weir's limit of %d MiB for the values one call of a Python aggregate function gets (they are sent to the worker in one message); use a frame of fewer rows (ROWS or RANGE ... PRECEDING), partition the window finer, or aggregate the values before the window",
			c.Label, ch.a-int(w.partLo[ch.a])+1, ch.b-int(w.partLo[ch.a]), strings.Join(key, ", "), hi-lo, size>>20, o.MaxArgBytes>>20)
	}
	return nil
}

// listOf makes the list array of type t (an ARRAY) whose row i holds the
// values [offs[i], offs[i+1]) of v.
func listOf(t types.T, v arrow.Array, offs []int32) arrow.Array {
	buf := memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs))
	data := array.NewData(t.Arrow(), len(offs)-1, []*memory.Buffer{nil, buf}, []arrow.ArrayData{v.Data()}, 0, 0)
	defer data.Release()
	return array.NewListData(data)
}

// Unpack turns the output of the Python stage after an Op with Python
// calls back into rows: its input is the pack's Rows and Runs columns
// (forwarded by the stage), then one ARRAY per Python call with a value per
// run; its output has Op's ResultSchema.
type Unpack struct {
	Op *Op
}

// String describes the step for EXPLAIN.
func (u *Unpack) String() string {
	var calls []string
	for _, i := range u.Op.pythonCalls() {
		calls = append(calls, u.Op.Calls[i].Label)
	}
	return "OverAggregate (Python results): select=[" + strings.Join(calls, ", ") + "]"
}

// Run unpacks each batch of in to out.
func (u *Unpack) Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	defer drain(in)
	for b := range in {
		if ctx.Err() != nil {
			b.Release()
			return nil
		}
		res, err := u.unpack(ctx, mem, b)
		b.Release()
		if err != nil {
			return err
		}
		sendSlices(ctx, res, out)
		res.Release()
	}
	return nil
}

func (u *Unpack) unpack(ctx context.Context, mem memory.Allocator, b arrow.RecordBatch) (arrow.RecordBatch, error) {
	o := u.Op
	layout, _ := o.PackLayout()
	py := o.pythonCalls()
	nrows := int(b.NumRows())
	flat := func(c int) (arrow.Array, int, int) {
		l := b.Column(c).(*array.List)
		if nrows == 0 {
			return array.NewSlice(l.ListValues(), 0, 0), 0, 0
		}
		s, _ := l.ValueOffsets(0)
		_, e := l.ValueOffsets(nrows - 1)
		return array.NewSlice(l.ListValues(), s, e), int(s), int(e)
	}
	var cols []arrow.Array
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	rowCols := make([]arrow.Array, layout.Rows)
	n := 0
	for j := range rowCols {
		v, s, e := flat(j)
		rowCols[j] = v
		n = e - s
	}
	cols = append(cols, rowCols[:len(o.Schema)]...)
	next := len(o.Schema)
	for ci, c := range o.Calls {
		if c.Func != PythonAgg {
			cols = append(cols, rowCols[next])
			next++
			continue
		}
		k := 0
		for k < len(py) && py[k] != ci {
			k++
		}
		runs := b.Column(layout.Rows + k).(*array.List)
		vals := b.Column(layout.Rows + len(py) + k).(*array.List)
		rv := runs.ListValues().(*array.Int32)
		take := make([]int32, 0, n)
		for r := 0; r < nrows; r++ {
			rs, re := runs.ValueOffsets(r)
			vs, ve := vals.ValueOffsets(r)
			if ve-vs != (re-rs)/3 {
				return nil, fmt.Errorf("over: the Python stage of %s returned %d values for %d frames", c.Label, ve-vs, (re-rs)/3)
			}
			for t := rs; t < re; t += 3 {
				for m := int32(0); m < rv.Value(int(t)); m++ {
					take = append(take, int32(vs))
				}
				vs++
			}
		}
		if len(take) != n {
			return nil, fmt.Errorf("over: the frames of %s cover %d rows of %d", c.Label, len(take), n)
		}
		v, err := takeArray(ctx, mem, vals.ListValues(), take)
		if err != nil {
			return nil, err
		}
		if !arrow.TypeEqual(v.DataType(), c.Out.Arrow()) {
			v.Release()
			return nil, fmt.Errorf("over: %s's values are %s, not %s", c.Label, v.DataType(), c.Out)
		}
		cols = append(cols, v)
	}
	rec := array.NewRecordBatch(o.ResultSchema().Arrow(), cols, int64(n))
	return rec, nil
}
