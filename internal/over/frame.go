package over

import (
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/weir-dev/weir/internal/sortop"
)

// window is the input laid out in window order: position p holds input row
// idx[p]; each position knows its partition [partLo, partHi) and its peers
// (rows equal in every ORDER BY key) [peerLo, peerHi).
type window struct {
	n              int
	idx            []int32
	partLo, partHi []int32
	peerLo, peerHi []int32
	// The ORDER BY key's values by position, for RANGE frames with
	// offsets (one numeric key): ints when isInt, else floats.
	keyNull  []bool
	keyInt   []int64
	keyFloat []float64
	isInt    bool
	desc     bool
}

// layout finds the partitions and peer groups of the sorted positions.
func (o *Op) layout(cols []arrow.Array, idx []int32) (*window, error) {
	n := len(idx)
	w := &window{n: n, idx: idx, partLo: make([]int32, n), partHi: make([]int32, n), peerLo: make([]int32, n), peerHi: make([]int32, n)}
	same := func(keys []sortop.Key) (func(i, j int32) bool, error) {
		cmps := make([]func(i, j int32) int, len(keys))
		for k, key := range keys {
			c, err := sortop.Comparator(cols[key.Col], cols[key.Col], key)
			if err != nil {
				return nil, fmt.Errorf("over: %w", err)
			}
			cmps[k] = c
		}
		return func(i, j int32) bool {
			for _, c := range cmps {
				if c(i, j) != 0 {
					return false
				}
			}
			return true
		}, nil
	}
	var partKeys []sortop.Key
	for _, c := range o.Partition {
		partKeys = append(partKeys, sortop.Key{Col: c, NullsFirst: true})
	}
	samePart, err := same(partKeys)
	if err != nil {
		return nil, err
	}
	samePeer, err := same(o.Order)
	if err != nil {
		return nil, err
	}
	lo, plo := 0, 0
	for p := 0; p <= n; p++ {
		newPart := p == n || p == 0 || !samePart(idx[p-1], idx[p])
		if newPart || !samePeer(idx[p-1], idx[p]) {
			for q := plo; q < p; q++ {
				w.peerLo[q], w.peerHi[q] = int32(plo), int32(p)
			}
			plo = p
		}
		if newPart {
			for q := lo; q < p; q++ {
				w.partLo[q], w.partHi[q] = int32(lo), int32(p)
			}
			lo = p
		}
	}
	if o.needsRangeKey() {
		if err := w.rangeKey(cols[o.Order[0].Col], o.Order[0].Desc); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// needsRangeKey reports whether a call has a RANGE frame with an offset.
func (o *Op) needsRangeKey() bool {
	for _, c := range o.Calls {
		f := c.Frame
		if !f.Rows && (f.Start.Kind == Preceding || f.Start.Kind == Following || f.End.Kind == Preceding || f.End.Kind == Following) {
			return true
		}
	}
	return false
}

// rangeKey reads the ORDER BY key's values in window order.
func (w *window) rangeKey(col arrow.Array, desc bool) error {
	w.desc = desc
	w.keyNull = make([]bool, w.n)
	for p, r := range w.idx {
		w.keyNull[p] = col.IsNull(int(r))
	}
	if ints, ok := int64Values(col); ok {
		w.isInt = true
		w.keyInt = make([]int64, w.n)
		for p, r := range w.idx {
			w.keyInt[p] = ints(int(r))
		}
		return nil
	}
	var f func(i int) float64
	switch a := col.(type) {
	case *array.Float64:
		f = a.Value
	case *array.Float32:
		f = func(i int) float64 { return float64(a.Value(i)) }
	case *array.Decimal128:
		f = func(i int) float64 { return a.Value(i).ToFloat64(0) }
	default:
		return fmt.Errorf("over: a RANGE frame with an offset needs a numeric ORDER BY key, not %s", col.DataType())
	}
	w.keyFloat = make([]float64, w.n)
	for p, r := range w.idx {
		w.keyFloat[p] = f(int(r))
	}
	return nil
}

// int64Values returns a reader of an integer-like column as int64.
func int64Values(col arrow.Array) (func(i int) int64, bool) {
	switch a := col.(type) {
	case *array.Int8:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	case *array.Int16:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	case *array.Int32:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	case *array.Int64:
		return a.Value, true
	case *array.Date32:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	case *array.Timestamp:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	}
	return nil, false
}

// bounds returns the frame of position p as positions [fs, fe], empty when
// fs > fe.
func (w *window) bounds(f Frame, p int) (fs, fe int) {
	lo, hi := int(w.partLo[p]), int(w.partHi[p])
	if f.Rows {
		fs = rowBound(f.Start, p, lo, hi, true)
		fe = rowBound(f.End, p, lo, hi, false)
	} else {
		fs = w.rangeBound(f.Start, p, lo, hi, true)
		fe = w.rangeBound(f.End, p, lo, hi, false)
	}
	return max(fs, lo), min(fe, hi-1)
}

func rowBound(b Bound, p, lo, hi int, start bool) int {
	switch b.Kind {
	case UnboundedPreceding:
		if start {
			return lo
		}
		return lo - 1
	case Preceding:
		return p - int(min(b.Rows, int64(p+1)))
	case Following:
		return p + int(min(b.Rows, int64(hi)))
	case UnboundedFollowing:
		if start {
			return hi
		}
		return hi - 1
	}
	return p
}

// rangeBound is the frame bound of p over the values of the ORDER BY key:
// with an offset, the first (start) or last (end) position whose key is
// within it; a NULL key's offsets reach its peers, the other NULL keys.
func (w *window) rangeBound(b Bound, p, lo, hi int, start bool) int {
	switch b.Kind {
	case UnboundedPreceding:
		if start {
			return lo
		}
		return lo - 1
	case UnboundedFollowing:
		if start {
			return hi
		}
		return hi - 1
	case CurrentRow:
		if start {
			return int(w.peerLo[p])
		}
		return int(w.peerHi[p]) - 1
	}
	if w.keyNull[p] {
		if start {
			return int(w.peerLo[p])
		}
		return int(w.peerHi[p]) - 1
	}
	// The non-NULL keys of the partition: NULLs sort at one end.
	sLo, sHi := lo, hi
	if w.keyNull[lo] {
		sLo = int(w.peerHi[lo])
	}
	if w.keyNull[hi-1] {
		sHi = int(w.peerLo[hi-1])
	}
	// dist(q) is how far q's key is after p's in the window's direction;
	// it grows with q.
	var dist func(q int) float64
	var idist func(q int) int64
	off := b.Float
	ioff := b.Int
	if b.Kind == Preceding {
		off, ioff = -off, -ioff
	}
	if w.isInt && b.IsInt {
		v := w.keyInt[p]
		idist = func(q int) int64 {
			if w.desc {
				return v - w.keyInt[q]
			}
			return w.keyInt[q] - v
		}
	} else {
		key := func(q int) float64 {
			if w.isInt {
				return float64(w.keyInt[q])
			}
			return w.keyFloat[q]
		}
		v := key(p)
		if b.IsInt {
			off = float64(ioff)
		}
		dist = func(q int) float64 {
			if w.desc {
				return v - key(q)
			}
			return key(q) - v
		}
	}
	within := func(q int) bool { // dist(q) >= off (start) or > off (end)
		if idist != nil {
			if start {
				return idist(q) >= ioff
			}
			return idist(q) > ioff
		}
		if start {
			return dist(q) >= off
		}
		return dist(q) > off
	}
	q := sLo + sort.Search(sHi-sLo, func(i int) bool { return within(sLo + i) })
	if start {
		return q
	}
	return q - 1
}
