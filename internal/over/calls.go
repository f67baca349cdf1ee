package over

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/sortop"
	"github.com/weir-dev/weir/internal/types"
)

// call computes c at every position of w.
func (o *Op) call(ctx context.Context, mem memory.Allocator, w *window, cols []arrow.Array, c Call) (arrow.Array, error) {
	n := w.n
	switch c.Func {
	case RowNumber, Rank, DenseRank, Ntile, CountStar:
		vals := make([]int64, n)
		for p := 0; p < n; p++ {
			lo := int(w.partLo[p])
			switch c.Func {
			case RowNumber:
				vals[p] = int64(p - lo + 1)
			case Rank:
				vals[p] = int64(int(w.peerLo[p]) - lo + 1)
			case DenseRank:
				switch {
				case p == lo:
					vals[p] = 1
				case w.peerLo[p] == int32(p):
					vals[p] = vals[p-1] + 1
				default:
					vals[p] = vals[p-1]
				}
			case Ntile:
				vals[p] = ntile(int64(w.partHi[p])-int64(lo), c.N, int64(p-lo))
			case CountStar:
				fs, fe := w.bounds(c.Frame, p)
				vals[p] = int64(max(0, fe-fs+1))
			}
		}
		return buildInts(mem, c.Out, vals, nil), nil
	case PercentRank, CumeDist:
		b := array.NewFloat64Builder(mem)
		defer b.Release()
		b.Reserve(n)
		for p := 0; p < n; p++ {
			lo, size := int(w.partLo[p]), float64(w.partHi[p]-w.partLo[p])
			if c.Func == CumeDist {
				// Flink's batch CUME_DIST counts the rows up to this one,
				// not up to its last peer.
				b.UnsafeAppend(float64(p-lo+1) / size)
				continue
			}
			if size == 1 {
				b.UnsafeAppend(0)
				continue
			}
			b.UnsafeAppend(float64(int(w.peerLo[p])-lo) / (size - 1))
		}
		return b.NewArray(), nil
	case Lag, Lead:
		pick := make([]int32, n)
		for p := 0; p < n; p++ {
			q := int64(p) - c.N
			if c.Func == Lead {
				q = int64(p) + c.N
			}
			switch {
			case q >= int64(w.partLo[p]) && q < int64(w.partHi[p]):
				pick[p] = w.idx[q]
			case c.Default >= 0:
				pick[p] = int32(n) + w.idx[p]
			default:
				pick[p] = -1
			}
		}
		src := []arrow.Array{cols[c.Arg]}
		if c.Default >= 0 {
			src = append(src, cols[c.Default])
		}
		return takePicks(ctx, mem, src, pick)
	case FirstValue, LastValue, Min, Max:
		pick, err := w.picks(cols[c.Arg], c)
		if err != nil {
			return nil, err
		}
		return takePicks(ctx, mem, []arrow.Array{cols[c.Arg]}, pick)
	case Count:
		col := cols[c.Arg]
		pre := w.prefixCounts(col)
		vals := make([]int64, n)
		for p := 0; p < n; p++ {
			if fs, fe := w.bounds(c.Frame, p); fs <= fe {
				vals[p] = pre[fe+1] - pre[fs]
			}
		}
		return buildInts(mem, c.Out, vals, nil), nil
	case Sum, Avg:
		return w.sum(mem, cols[c.Arg], c)
	case ListAgg:
		return w.listAgg(mem, cols[c.Arg], c)
	}
	return nil, fmt.Errorf("over: %s is not supported", c.Func)
}

// ntile is the bucket (from 1) of row r of a partition of size rows split
// into buckets as evenly as possible, the larger buckets first.
func ntile(size, buckets, r int64) int64 {
	base, extra := size/buckets, size%buckets
	if r < extra*(base+1) {
		return r/(base+1) + 1
	}
	return (r-extra*(base+1))/base + extra + 1
}

// prefixCounts returns, per partition, the running count of non-NULL values
// of col before each position: pre[p+1]-pre[q] counts positions q..p of a
// partition.
func (w *window) prefixCounts(col arrow.Array) []int64 {
	pre := make([]int64, w.n+1)
	for p, r := range w.idx {
		pre[p+1] = pre[p]
		if col.IsValid(int(r)) {
			pre[p+1]++
		}
	}
	return pre
}

// picks returns, per position, the input row whose value FIRST_VALUE,
// LAST_VALUE, MIN or MAX takes over the frame, or -1 for NULL. All skip
// NULLs, as Flink's do: FIRST_VALUE is the frame's first non-NULL value.
func (w *window) picks(col arrow.Array, c Call) ([]int32, error) {
	pick := make([]int32, w.n)
	// next[p] and prev[p] are the first non-NULL position at or after p
	// and the last at or before it (w.n and -1 for none).
	var next, prev []int32
	if c.Func == FirstValue || c.Func == LastValue {
		next, prev = make([]int32, w.n+1), make([]int32, w.n)
		next[w.n] = int32(w.n)
		for p := w.n - 1; p >= 0; p-- {
			next[p] = next[p+1]
			if col.IsValid(int(w.idx[p])) {
				next[p] = int32(p)
			}
		}
		for p := 0; p < w.n; p++ {
			prev[p] = -1
			if p > 0 {
				prev[p] = prev[p-1]
			}
			if col.IsValid(int(w.idx[p])) {
				prev[p] = int32(p)
			}
		}
	}
	var better func(i, j int32) bool
	if c.Func == Min || c.Func == Max {
		cmp, err := sortop.Comparator(col, col, sortop.Key{Col: 0})
		if err != nil {
			return nil, fmt.Errorf("over: %s: %w", c.Func, err)
		}
		if c.Func == Min {
			better = func(i, j int32) bool { return cmp(i, j) < 0 }
		} else {
			better = func(i, j int32) bool { return cmp(i, j) > 0 }
		}
	}
	// best folds positions fs..fe into the best row, -1 for none.
	best := func(cur int32, fs, fe int) int32 {
		for q := fs; q <= fe; q++ {
			r := w.idx[q]
			if col.IsNull(int(r)) {
				continue
			}
			if cur < 0 || better(r, cur) {
				cur = r
			}
		}
		return cur
	}
	for p := 0; p < w.n; {
		lo, hi := int(w.partLo[p]), int(w.partHi[p])
		// Running frames (the start fixed at the partition's) extend the
		// previous row's result; frames that end with the partition read a
		// best-of-the-rest table; others scan their rows.
		running, suffix := lo-1, []int32(nil)
		cur := int32(-1)
		for ; p < hi; p++ {
			fs, fe := w.bounds(c.Frame, p)
			switch {
			case fs > fe:
				pick[p] = -1
			case c.Func == FirstValue:
				pick[p] = -1
				if q := next[fs]; int(q) <= fe {
					pick[p] = w.idx[q]
				}
			case c.Func == LastValue:
				pick[p] = -1
				if q := prev[fe]; int(q) >= fs {
					pick[p] = w.idx[q]
				}
			case fs == lo:
				cur = best(cur, running+1, fe)
				running = max(running, fe)
				pick[p] = cur
			case fe == hi-1:
				if suffix == nil {
					suffix = make([]int32, hi-lo+1)
					suffix[hi-lo] = -1
					for q := hi - 1; q >= lo; q-- {
						suffix[q-lo] = best(suffix[q-lo+1], q, q)
					}
				}
				pick[p] = suffix[fs-lo]
			default:
				pick[p] = best(-1, fs, fe)
			}
		}
	}
	return pick, nil
}

// takePicks gathers the rows pick of the concatenation of src (NULL for -1).
func takePicks(ctx context.Context, mem memory.Allocator, src []arrow.Array, pick []int32) (arrow.Array, error) {
	from := src[0]
	if len(src) > 1 {
		cat, err := array.Concatenate(src, mem)
		if err != nil {
			return nil, fmt.Errorf("over: %w", err)
		}
		defer cat.Release()
		from = cat
	}
	ib := array.NewInt32Builder(mem)
	defer ib.Release()
	ib.Reserve(len(pick))
	for _, r := range pick {
		if r < 0 {
			ib.UnsafeAppendBoolToBitmap(false)
			continue
		}
		ib.UnsafeAppend(r)
	}
	ia := ib.NewArray()
	defer ia.Release()
	t, err := compute.TakeArray(ctx, from, ia)
	if err != nil {
		return nil, fmt.Errorf("over: %w", err)
	}
	return t, nil
}

// takeArray returns the values idx of a.
func takeArray(ctx context.Context, mem memory.Allocator, a arrow.Array, idx []int32) (arrow.Array, error) {
	ib := array.NewInt32Builder(mem)
	defer ib.Release()
	ib.AppendValues(idx, nil)
	ia := ib.NewArray()
	defer ia.Release()
	t, err := compute.TakeArray(ctx, a, ia)
	if err != nil {
		return nil, fmt.Errorf("over: %w", err)
	}
	return t, nil
}

// buildInts builds vals (NULL where valid is false) as an array of the
// integer type t, narrowing with Java's wrap-around.
func buildInts(mem memory.Allocator, t types.T, vals []int64, valid []bool) arrow.Array {
	b := array.NewBuilder(mem, t.Arrow())
	defer b.Release()
	b.Reserve(len(vals))
	for i, v := range vals {
		if valid != nil && !valid[i] {
			b.AppendNull()
			continue
		}
		switch b := b.(type) {
		case *array.Int8Builder:
			b.Append(int8(v))
		case *array.Int16Builder:
			b.Append(int16(v))
		case *array.Int32Builder:
			b.Append(int32(v))
		case *array.Int64Builder:
			b.Append(v)
		}
	}
	return b.NewArray()
}

// sum computes SUM or AVG over each position's frame. Integers sum in
// int64 (wrapping as Java's arithmetic does; a frame's sum is a difference
// of running sums, exact modulo 2^64); floating point sums the frame's values
// in order, as Flink's frames accumulate them; decimals sum exactly.
func (w *window) sum(mem memory.Allocator, col arrow.Array, c Call) (arrow.Array, error) {
	n := w.n
	cnt := w.prefixCounts(col)
	valid := make([]bool, n)
	frames := make([][2]int, n)
	for p := 0; p < n; p++ {
		fs, fe := w.bounds(c.Frame, p)
		frames[p] = [2]int{fs, fe}
		valid[p] = fs <= fe && cnt[fe+1] > cnt[fs]
	}
	if ints, ok := int64Values(col); ok && c.Out.Kind != types.Decimal {
		pre := make([]int64, n+1)
		for p, r := range w.idx {
			pre[p+1] = pre[p]
			if col.IsValid(int(r)) {
				pre[p+1] += ints(int(r))
			}
		}
		vals := make([]int64, n)
		for p, f := range frames {
			if !valid[p] {
				continue
			}
			vals[p] = pre[f[1]+1] - pre[f[0]]
			if c.Func == Avg {
				vals[p] /= cnt[f[1]+1] - cnt[f[0]]
			}
		}
		return buildInts(mem, c.Out, vals, valid), nil
	}
	switch a := col.(type) {
	case *array.Float64:
		return floatSums(mem, w, a.Value, a, c, frames, valid, func(v float64) float64 { return v }), nil
	case *array.Float32:
		return floatSums(mem, w, func(i int) float32 { return a.Value(i) }, a, c, frames, valid, func(v float32) float64 { return float64(v) }), nil
	case *array.Decimal128:
		return w.decimalSums(mem, a, c, frames, valid, cnt)
	}
	return nil, fmt.Errorf("over: %s of %s is not supported", c.Func, col.DataType())
}

// floatSums sums a frame's values in A (float32 for FLOAT, as Flink does),
// one after another; a frame starting with its partition extends the
// previous one.
func floatSums[A float32 | float64](mem memory.Allocator, w *window, val func(int) A, col arrow.Array, c Call, frames [][2]int, valid []bool, wide func(A) float64) arrow.Array {
	b := array.NewBuilder(mem, c.Out.Arrow())
	defer b.Release()
	var run A
	var runCnt int64
	runEnd := -1
	for p, f := range frames {
		if p == int(w.partLo[p]) {
			run, runCnt, runEnd = 0, 0, int(w.partLo[p])-1
		}
		if !valid[p] {
			b.AppendNull()
			continue
		}
		var s A
		var k int64
		add := func(q int) {
			if r := int(w.idx[q]); col.IsValid(r) {
				s += val(r)
				k++
			}
		}
		if f[0] == int(w.partLo[p]) && f[1] >= runEnd {
			s, k = run, runCnt
			for q := runEnd + 1; q <= f[1]; q++ {
				add(q)
			}
			run, runCnt, runEnd = s, k, f[1]
		} else {
			for q := f[0]; q <= f[1]; q++ {
				add(q)
			}
		}
		if c.Func == Avg {
			s /= A(k)
		}
		switch b := b.(type) {
		case *array.Float64Builder:
			b.Append(wide(s))
		case *array.Float32Builder:
			b.Append(float32(s))
		}
	}
	return b.NewArray()
}

// decimalSums computes SUM or AVG over DECIMAL frames exactly, as
// differences of running sums; a result beyond 38 digits is NULL, and AVG
// rounds half away from zero at the result's scale, as Flink does.
func (w *window) decimalSums(mem memory.Allocator, a *array.Decimal128, c Call, frames [][2]int, valid []bool, cnt []int64) (arrow.Array, error) {
	inScale := int(a.DataType().(*arrow.Decimal128Type).Scale)
	outType, ok := c.Out.Arrow().(*arrow.Decimal128Type)
	if !ok {
		return nil, fmt.Errorf("over: %s of DECIMAL needs a DECIMAL result, not %s", c.Func, c.Out)
	}
	pre := make([]*big.Int, w.n+1)
	pre[0] = new(big.Int)
	for p, r := range w.idx {
		pre[p+1] = new(big.Int).Set(pre[p])
		if a.IsValid(int(r)) {
			pre[p+1].Add(pre[p+1], a.Value(int(r)).BigInt())
		}
	}
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(outType.Precision)), nil)
	shift := int(outType.Scale) - inScale
	b := array.NewDecimal128Builder(mem, outType)
	defer b.Release()
	for p, f := range frames {
		if !valid[p] {
			b.AppendNull()
			continue
		}
		s := new(big.Int).Sub(pre[f[1]+1], pre[f[0]])
		den := big.NewInt(1)
		if c.Func == Avg {
			den.SetInt64(cnt[f[1]+1] - cnt[f[0]])
		}
		s = rescale(s, den, shift)
		if new(big.Int).Abs(s).Cmp(limit) >= 0 {
			b.AppendNull()
			continue
		}
		b.Append(decimal128.FromBigInt(s))
	}
	return b.NewArray(), nil
}

// rescale returns s / den moved shift decimal places up (down when
// negative), rounded half away from zero.
func rescale(s, den *big.Int, shift int) *big.Int {
	ten := func(k int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil) }
	num := new(big.Int).Set(s)
	d := new(big.Int).Set(den)
	if shift >= 0 {
		num.Mul(num, ten(shift))
	} else {
		d.Mul(d, ten(-shift))
	}
	q, r := new(big.Int).QuoRem(num, d, new(big.Int))
	r.Abs(r).Mul(r, big.NewInt(2))
	if r.Cmp(new(big.Int).Abs(d)) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// listAgg joins the frame's non-NULL strings with the separator, in window
// order (NULL when there are none). A row whose frame is the previous row's
// (a whole partition, peers) reuses its result.
func (w *window) listAgg(mem memory.Allocator, col arrow.Array, c Call) (arrow.Array, error) {
	str, ok := col.(*array.String)
	if !ok {
		return nil, fmt.Errorf("over: LISTAGG of %s is not supported", col.DataType())
	}
	b := array.NewStringBuilder(mem)
	defer b.Release()
	prevS, prevE := -1, -2
	var prev string
	prevOK := false
	for p := 0; p < w.n; p++ {
		fs, fe := w.bounds(c.Frame, p)
		if fs != prevS || fe != prevE {
			var sb strings.Builder
			prevOK = false
			for q := fs; q <= fe; q++ {
				r := int(w.idx[q])
				if str.IsNull(r) {
					continue
				}
				if prevOK {
					sb.WriteString(c.Sep)
				}
				sb.WriteString(str.Value(r))
				prevOK = true
			}
			prev, prevS, prevE = sb.String(), fs, fe
		}
		if !prevOK {
			b.AppendNull()
			continue
		}
		b.Append(prev)
	}
	return b.NewArray(), nil
}
