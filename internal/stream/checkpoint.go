package stream

import (
	"fmt"
	"io"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/exec"
)

// This file is the state of the streaming operators in checkpoints
// (internal/checkpoint's encoding; docs/CHECKPOINTS.md): each operator's
// state starts with a header naming it and its version, then its values.

// Each accumulator saves and loads its fields (not its call's constants,
// which the factory gives again).

func (a *countAcc) save(e *checkpoint.Encoder) { e.Varint(a.n) }
func (a *countAcc) load(d *checkpoint.Decoder) { a.n = d.Varint() }

func (a *intSumAcc) save(e *checkpoint.Encoder) { e.Varint(a.sum); e.Varint(a.cnt) }
func (a *intSumAcc) load(d *checkpoint.Decoder) { a.sum, a.cnt = d.Varint(), d.Varint() }

func (a *floatSumAcc) save(e *checkpoint.Encoder) {
	e.Float64(a.sum)
	e.Float64(float64(a.sum32))
	e.Varint(a.cnt)
}

func (a *floatSumAcc) load(d *checkpoint.Decoder) {
	a.sum, a.sum32, a.cnt = d.Float64(), float32(d.Float64()), d.Varint()
}

func (a *decimalSumAcc) save(e *checkpoint.Encoder) { e.Value(a.sum); e.Varint(a.cnt) }
func (a *decimalSumAcc) load(d *checkpoint.Decoder) {
	a.sum, _ = d.Value().(decimal128.Num)
	a.cnt = d.Varint()
}

func (a *minMaxAcc) save(e *checkpoint.Encoder) { e.Value(a.best) }
func (a *minMaxAcc) load(d *checkpoint.Decoder) { a.best = d.Value() }

func (a *multisetMinMax) save(e *checkpoint.Encoder) {
	keys := make([]string, 0, len(a.vals))
	for k := range a.vals {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same state, the same bytes
	e.Uvarint(uint64(len(keys)))
	for _, k := range keys {
		c := a.vals[k]
		e.Value(c.v)
		e.Varint(c.n)
	}
	e.Value(a.value())
}

func (a *multisetMinMax) load(d *checkpoint.Decoder) {
	n := d.Len()
	for i := 0; i < n && d.Err() == nil; i++ {
		v := d.Value()
		a.vals[valueKey(v)] = &counted{v: v, n: d.Varint()}
	}
	if best := d.Value(); best != nil {
		a.best = a.vals[valueKey(best)].v
	}
	a.stale = false
}

func (a *varAcc) save(e *checkpoint.Encoder) { e.Float64(a.sum); e.Float64(a.sumSq); e.Varint(a.cnt) }
func (a *varAcc) load(d *checkpoint.Decoder) {
	a.sum, a.sumSq, a.cnt = d.Float64(), d.Float64(), d.Varint()
}

func (a *firstLastAcc) save(e *checkpoint.Encoder) { e.Value(a.v) }
func (a *firstLastAcc) load(d *checkpoint.Decoder) { a.v = d.Value() }

func (a *listAggAcc) save(e *checkpoint.Encoder) { e.Bool(a.any); e.String(a.b.String()) }
func (a *listAggAcc) load(d *checkpoint.Decoder) {
	a.any = d.Bool()
	a.b.Reset()
	a.b.WriteString(d.String())
}

func (a *distinctAcc) save(e *checkpoint.Encoder) {
	keys := make([]string, 0, len(a.seen))
	for k := range a.seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.Uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.String(k)
		e.Varint(a.seen[k])
	}
	a.inner.save(e)
}

func (a *distinctAcc) load(d *checkpoint.Decoder) {
	n := d.Len()
	for i := 0; i < n && d.Err() == nil; i++ {
		k := d.String()
		a.seen[k] = d.Varint()
	}
	a.inner.load(d)
}

// groupAggState is GroupAgg's state between batches.
type groupAggState struct {
	table  *aggregate.KeyTable
	groups []*group
	seen   bool
}

const groupAggVersion = 1

// save writes the groups in the order of their ids (the key table's order
// of first arrival): keys, rows, the result last emitted, accumulators.
func (o *GroupAgg) save(st *groupAggState, w io.Writer) error {
	e := checkpoint.NewEncoder(w)
	e.Header("GroupAggregate", groupAggVersion)
	e.Bool(st.seen)
	e.Uvarint(uint64(len(st.groups)))
	for _, g := range st.groups {
		for _, k := range g.keys {
			e.Value(k)
		}
		e.Varint(g.rows)
		e.Bool(g.accs != nil)
		if g.accs == nil {
			continue
		}
		for _, v := range g.value {
			e.Value(v)
		}
		for _, a := range g.accs {
			a.save(e)
		}
	}
	return e.Err()
}

// restoredGroups are the groups Restore read, waiting for Run.
type restoredGroups struct {
	groups []*group
	seen   bool
}

// Restore reads the state a checkpoint saved; Run starts from it.
func (o *GroupAgg) Restore(r io.Reader) error {
	factories := make([]accFactory, len(o.Aggs))
	for i, s := range o.Aggs {
		f, err := newAccFactory(s, o.Retracting)
		if err != nil {
			return err
		}
		factories[i] = f
	}
	d := checkpoint.NewDecoder(r)
	if err := d.Header("GroupAggregate", groupAggVersion); err != nil {
		return err
	}
	rg := &restoredGroups{seen: d.Bool()}
	n := d.Len()
	for i := 0; i < n && d.Err() == nil; i++ {
		g := &group{keys: make([]any, len(o.Keys))}
		for k := range g.keys {
			g.keys[k] = d.Value()
		}
		g.rows = d.Varint()
		if d.Bool() {
			g.value = make([]any, len(o.Aggs))
			for k := range g.value {
				g.value[k] = d.Value()
			}
			g.accs = make([]acc, len(o.Aggs))
			for k, f := range factories {
				g.accs[k] = f()
				g.accs[k].load(d)
			}
		}
		rg.groups = append(rg.groups, g)
	}
	if d.Err() != nil {
		return fmt.Errorf("%s: state: %w", o.Name, d.Err())
	}
	o.restored = rg
	return nil
}

// start returns the state Run begins with: empty, or the one restored.
func (o *GroupAgg) start(mem memory.Allocator, keyTypes []arrow.DataType) (*groupAggState, error) {
	st := &groupAggState{table: aggregate.NewKeyTable(keyTypes)}
	rg := o.restored
	o.restored = nil
	if rg == nil || len(rg.groups) == 0 {
		if rg != nil {
			st.seen = rg.seen
		}
		return st, nil
	}
	st.seen = rg.seen
	cols := make([]arrow.Array, len(o.Keys))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for k := range o.Keys {
		vals := make([]any, len(rg.groups))
		for i, g := range rg.groups {
			vals[i] = g.keys[k]
		}
		a, err := exec.BuildArray(mem, o.Schema[k].Type, vals)
		if err != nil {
			return nil, fmt.Errorf("%s: restoring keys: %w", o.Name, err)
		}
		cols[k] = a
	}
	ids := make([]int32, len(rg.groups))
	if len(o.Keys) == 0 {
		// A global aggregation: one group, id 0.
		st.groups = rg.groups[:1]
		return st, nil
	}
	if err := st.table.Add(cols, ids); err != nil {
		return nil, fmt.Errorf("%s: restoring keys: %w", o.Name, err)
	}
	for i, id := range ids {
		if int(id) != i {
			return nil, fmt.Errorf("%s: restoring keys: group %d has the keys of group %d", o.Name, i, id)
		}
	}
	st.groups = rg.groups
	return st, nil
}

const joinVersion = 1

// save writes both sides: per key (sorted), its rows in order with their
// counts.
func (o *Join) save(state [2]*side, w io.Writer) error {
	e := checkpoint.NewEncoder(w)
	e.Header("StreamingJoin", joinVersion)
	for _, sd := range state {
		keys := make([]string, 0, len(sd.rows))
		for k := range sd.rows {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		e.Uvarint(uint64(len(keys)))
		for _, k := range keys {
			e.String(k)
			list := sd.rows[k]
			e.Uvarint(uint64(len(list)))
			for _, c := range list {
				e.Value(c.v)
				e.Varint(c.n)
			}
		}
	}
	return e.Err()
}

// Restore reads the state a checkpoint saved; Run starts from it.
func (o *Join) Restore(r io.Reader) error {
	d := checkpoint.NewDecoder(r)
	if err := d.Header("StreamingJoin", joinVersion); err != nil {
		return err
	}
	var state [2]*side
	for i := range state {
		sd := &side{rows: map[string][]*counted{}}
		n := d.Len()
		for j := 0; j < n && d.Err() == nil; j++ {
			k := d.String()
			m := d.Len()
			list := make([]*counted, 0, min(m, 1024))
			for x := 0; x < m && d.Err() == nil; x++ {
				row, _ := d.Value().([]any)
				list = append(list, &counted{v: row, n: d.Varint()})
			}
			sd.rows[k] = list
		}
		state[i] = sd
	}
	if d.Err() != nil {
		return fmt.Errorf("streaming join: state: %w", d.Err())
	}
	o.restored = &state
	return nil
}

// Interfaces the checkpointed operators implement.
var (
	_ checkpoint.Operator = (*GroupAgg)(nil)
	_ checkpoint.Operator = (*Join)(nil)
)
