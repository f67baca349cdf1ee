package aggregate

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// acc is the state of one aggregate over all groups. update is called once
// per batch (not per row), with each row's group; its loops are typed.
type acc interface {
	// update adds the rows of col (nil for COUNT(*)) to their groups;
	// groups has n groups in all, some possibly new.
	update(col arrow.Array, ids []int32, n int)
	// build returns the result of each of the n groups.
	build(mem memory.Allocator, n int) arrow.Array
}

func grow[T any](s []T, n int) []T {
	if len(s) >= n {
		return s
	}
	return append(s, make([]T, n-len(s))...)
}

// countAcc is COUNT(*) (star) or COUNT(x).
type countAcc struct {
	star bool
	n    []int64
}

func (a *countAcc) update(col arrow.Array, ids []int32, n int) {
	a.n = grow(a.n, n)
	cnt := a.n
	if a.star || col.NullN() == 0 {
		for _, g := range ids {
			cnt[g]++
		}
		return
	}
	for i, g := range ids {
		if col.IsValid(i) {
			cnt[g]++
		}
	}
}

func (a *countAcc) build(mem memory.Allocator, n int) arrow.Array {
	a.n = grow(a.n, n)
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(a.n[:n], nil)
	return b.NewArray()
}

// number is the Go type of a numeric column.
type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~float32 | ~float64
}

// sumAcc is SUM and AVG over integers (accumulated in int64, which wraps
// as Java's arithmetic does, and narrowed to the result type at the end) and
// floating point (accumulated in A: float32 for FLOAT, as Flink does).
type sumAcc[V number, A number] struct {
	avg  bool
	out  types.T
	sum  []A
	cnt  []int64
	vals func(arrow.Array) []V
}

func (a *sumAcc[V, A]) update(col arrow.Array, ids []int32, n int) {
	a.sum = grow(a.sum, n)
	a.cnt = grow(a.cnt, n)
	sum, cnt := a.sum, a.cnt
	vals := a.vals(col)
	if col.NullN() == 0 {
		for i, g := range ids {
			sum[g] += A(vals[i])
			cnt[g]++
		}
		return
	}
	for i, g := range ids {
		if col.IsValid(i) {
			sum[g] += A(vals[i])
			cnt[g]++
		}
	}
}

func (a *sumAcc[V, A]) build(mem memory.Allocator, n int) arrow.Array {
	a.sum = grow(a.sum, n)
	a.cnt = grow(a.cnt, n)
	b := array.NewBuilder(mem, a.out.Arrow())
	defer b.Release()
	for g := 0; g < n; g++ {
		if a.cnt[g] == 0 {
			b.AppendNull()
			continue
		}
		s := a.sum[g]
		if a.avg {
			// Integer AVG divides the BIGINT sum by the count, truncating
			// toward zero (Java's long division), as Flink does.
			s /= A(a.cnt[g])
		}
		switch b := b.(type) {
		case *array.Int8Builder:
			b.Append(int8(s))
		case *array.Int16Builder:
			b.Append(int16(s))
		case *array.Int32Builder:
			b.Append(int32(s))
		case *array.Int64Builder:
			b.Append(int64(s))
		case *array.Float32Builder:
			b.Append(float32(s))
		case *array.Float64Builder:
			b.Append(float64(s))
		}
	}
	return b.NewArray()
}

// decimalSumAcc is SUM or AVG over DECIMAL; a result beyond the result's
// precision is NULL, as in Flink. AVG divides the sum by the count at the
// result's scale, rounding half away from zero (Java's HALF_UP).
type decimalSumAcc struct {
	avg      bool
	inScale  int
	out      types.T
	sum      []decimal128.Num
	cnt      []int64
	overflow []bool
}

func (a *decimalSumAcc) update(col arrow.Array, ids []int32, n int) {
	a.sum = grow(a.sum, n)
	a.cnt = grow(a.cnt, n)
	a.overflow = grow(a.overflow, n)
	d := col.(*array.Decimal128)
	vals := d.Values()
	for i, g := range ids {
		if d.IsValid(i) {
			a.sum[g] = a.sum[g].Add(vals[i])
			a.cnt[g]++
		}
	}
}

func (a *decimalSumAcc) build(mem memory.Allocator, n int) arrow.Array {
	a.sum = grow(a.sum, n)
	a.cnt = grow(a.cnt, n)
	b := array.NewDecimal128Builder(mem, a.out.Arrow().(*arrow.Decimal128Type))
	defer b.Release()
	for g := 0; g < n; g++ {
		v := a.sum[g]
		if a.avg && a.cnt[g] > 0 {
			v = decimalAvg(v, a.cnt[g], a.out.Scale-a.inScale)
		}
		if a.cnt[g] == 0 || !v.FitsInPrecision(int32(a.out.Precision)) {
			b.AppendNull()
			continue
		}
		b.Append(v)
	}
	return b.NewArray()
}

// decimalAvg returns sum * 10^shift / n, rounded half away from zero.
func decimalAvg(sum decimal128.Num, n int64, shift int) decimal128.Num {
	x := sum.BigInt()
	x.Mul(x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(shift)), nil))
	d := big.NewInt(n)
	q, r := new(big.Int).QuoRem(x, d, new(big.Int))
	if new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2)).Cmp(d) >= 0 {
		q.Add(q, big.NewInt(int64(x.Sign())))
	}
	if q.BitLen() > 126 {
		// Beyond any DECIMAL(38): FitsInPrecision will reject it.
		return decimal128.MaxDecimal128
	}
	return decimal128.FromBigInt(q)
}

// The choices of a minMaxAcc.
const (
	pickMin = iota
	pickMax
	pickFirst
	pickLast
)

// minMaxAcc is MIN, MAX, FIRST_VALUE or LAST_VALUE over an ordered Go type.
type minMaxAcc[V cmp.Ordered] struct {
	pick int
	out  types.T
	best []V
	seen []bool
	vals func(arrow.Array) []V
	// keep copies a value before it is kept (strings alias batch memory).
	keep func(V) V
}

func (a *minMaxAcc[V]) update(col arrow.Array, ids []int32, n int) {
	a.best = grow(a.best, n)
	a.seen = grow(a.seen, n)
	best, seen := a.best, a.seen
	vals := a.vals(col)
	nulls := col.NullN() > 0
	for i, g := range ids {
		if nulls && col.IsNull(i) {
			continue
		}
		v := vals[i]
		var take bool
		switch a.pick {
		case pickMin:
			take = !seen[g] || greater(best[g], v)
		case pickMax:
			take = !seen[g] || greater(v, best[g])
		case pickFirst:
			take = !seen[g]
		default:
			take = true
		}
		if take {
			if a.keep != nil {
				v = a.keep(v)
			}
			best[g], seen[g] = v, true
		}
	}
}

// greater is the plain comparison Flink's generated MIN/MAX code uses: a NaN
// is never greater nor smaller, so it is kept only when it comes first.
func greater[V cmp.Ordered](x, y V) bool { return x > y }

func (a *minMaxAcc[V]) build(mem memory.Allocator, n int) arrow.Array {
	a.best = grow(a.best, n)
	a.seen = grow(a.seen, n)
	b := array.NewBuilder(mem, a.out.Arrow())
	defer b.Release()
	for g := 0; g < n; g++ {
		if !a.seen[g] {
			b.AppendNull()
			continue
		}
		appendOrdered(b, any(a.best[g]))
	}
	return b.NewArray()
}

// appendOrdered appends v to b; it runs once per group at the end.
func appendOrdered(b array.Builder, v any) {
	switch b := b.(type) {
	case *array.Int8Builder:
		b.Append(int8(v.(int64)))
	case *array.Int16Builder:
		b.Append(int16(v.(int64)))
	case *array.Int32Builder:
		b.Append(int32(v.(int64)))
	case *array.Int64Builder:
		b.Append(v.(int64))
	case *array.Date32Builder:
		b.Append(arrow.Date32(v.(int64)))
	case *array.Time32Builder:
		b.Append(arrow.Time32(v.(int64)))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(v.(int64)))
	case *array.BooleanBuilder:
		b.Append(v.(int64) != 0)
	case *array.Float32Builder:
		b.Append(float32(v.(float64)))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.BinaryBuilder:
		b.Append([]byte(v.(string)))
	}
}

// decimalMinMaxAcc is MIN, MAX, FIRST_VALUE or LAST_VALUE over DECIMAL.
type decimalMinMaxAcc struct {
	pick int
	out  types.T
	best []decimal128.Num
	seen []bool
}

func (a *decimalMinMaxAcc) update(col arrow.Array, ids []int32, n int) {
	a.best = grow(a.best, n)
	a.seen = grow(a.seen, n)
	d := col.(*array.Decimal128)
	vals := d.Values()
	for i, g := range ids {
		if d.IsNull(i) {
			continue
		}
		v := vals[i]
		seen := a.seen[g]
		if !seen || (a.pick == pickMax && v.Greater(a.best[g])) || (a.pick == pickMin && v.Less(a.best[g])) || a.pick == pickLast {
			a.best[g], a.seen[g] = v, true
		}
	}
}

func (a *decimalMinMaxAcc) build(mem memory.Allocator, n int) arrow.Array {
	a.best = grow(a.best, n)
	a.seen = grow(a.seen, n)
	b := array.NewDecimal128Builder(mem, a.out.Arrow().(*arrow.Decimal128Type))
	defer b.Release()
	for g := 0; g < n; g++ {
		if !a.seen[g] {
			b.AppendNull()
			continue
		}
		b.Append(a.best[g])
	}
	return b.NewArray()
}

// listAggAcc is LISTAGG: each group's non-NULL strings joined by sep.
type listAggAcc struct {
	sep  string
	buf  [][]byte
	seen []bool
}

func (a *listAggAcc) update(col arrow.Array, ids []int32, n int) {
	a.buf = grow(a.buf, n)
	a.seen = grow(a.seen, n)
	str := col.(*array.String)
	for i, g := range ids {
		if str.IsNull(i) {
			continue
		}
		if a.seen[g] {
			a.buf[g] = append(a.buf[g], a.sep...)
		}
		a.buf[g] = append(a.buf[g], str.Value(i)...)
		a.seen[g] = true
	}
}

func (a *listAggAcc) build(mem memory.Allocator, n int) arrow.Array {
	a.buf = grow(a.buf, n)
	a.seen = grow(a.seen, n)
	b := array.NewStringBuilder(mem)
	defer b.Release()
	for g := 0; g < n; g++ {
		if !a.seen[g] {
			b.AppendNull()
			continue
		}
		b.BinaryBuilder.Append(a.buf[g])
	}
	return b.NewArray()
}

// varAcc is VAR_POP, VAR_SAMP, STDDEV_POP and STDDEV_SAMP as Flink reduces
// them: (SUM(x*x) - SUM(x)*SUM(x)/COUNT(x)) / COUNT(x) (or COUNT(x) - 1),
// the square root for the deviations, computed in DOUBLE and cast to the
// result type (integers truncated and saturated as Java casts them,
// DECIMAL rounded half up).
type varAcc struct {
	fn         Func
	in, out    types.T
	sum, sumSq []float64
	cnt        []int64
	scratch    []int64
	f64        []float64
}

func (a *varAcc) update(col arrow.Array, ids []int32, n int) {
	a.sum = grow(a.sum, n)
	a.sumSq = grow(a.sumSq, n)
	a.cnt = grow(a.cnt, n)
	vals := a.floats(col)
	nulls := col.NullN() > 0
	for i, g := range ids {
		if nulls && col.IsNull(i) {
			continue
		}
		v := vals[i]
		a.sum[g] += v
		a.sumSq[g] += v * v
		a.cnt[g]++
	}
}

// floats views a numeric column as float64s.
func (a *varAcc) floats(col arrow.Array) []float64 {
	switch c := col.(type) {
	case *array.Float64:
		return c.Float64Values()
	case *array.Float32:
		return float32As64View(&a.f64)(col)
	case *array.Decimal128:
		a.f64 = grow(a.f64[:0], c.Len())
		for i, v := range c.Values() {
			a.f64[i] = v.ToFloat64(int32(a.in.Scale))
		}
		return a.f64
	}
	ints := int64View(&a.scratch)(col)
	a.f64 = grow(a.f64[:0], len(ints))
	for i, v := range ints {
		a.f64[i] = float64(v)
	}
	return a.f64
}

func (a *varAcc) build(mem memory.Allocator, n int) arrow.Array {
	a.sum = grow(a.sum, n)
	a.sumSq = grow(a.sumSq, n)
	a.cnt = grow(a.cnt, n)
	b := array.NewBuilder(mem, a.out.Arrow())
	defer b.Release()
	for g := 0; g < n; g++ {
		c := float64(a.cnt[g])
		div := c
		if a.fn == VarSamp || a.fn == StddevSamp {
			div = c - 1
		}
		if a.cnt[g] == 0 || div == 0 {
			b.AppendNull()
			continue
		}
		v := (a.sumSq[g] - a.sum[g]*a.sum[g]/c) / div
		if a.fn == StddevPop || a.fn == StddevSamp {
			v = math.Pow(v, 0.5)
		}
		switch b := b.(type) {
		case *array.Float64Builder:
			b.Append(v)
		case *array.Float32Builder:
			b.Append(float32(v))
		case *array.Decimal128Builder:
			d, err := decimal128.FromFloat64(v, int32(a.out.Precision), int32(a.out.Scale))
			if err != nil {
				b.AppendNull()
				continue
			}
			b.Append(d)
		default:
			appendOrdered(b, javaInt(v, a.out.Kind == types.BigInt))
		}
	}
	return b.NewArray()
}

// javaInt converts like Java's (long) cast (wide) or (int) cast: toward
// zero, saturating, NaN 0. TINYINT and SMALLINT then wrap from the int, as
// Java's (byte) and (short) casts of an int do.
func javaInt(v float64, wide bool) int64 {
	lo, hi := float64(math.MinInt32), float64(math.MaxInt32)
	if wide {
		lo, hi = math.MinInt64, math.MaxInt64
	}
	switch {
	case v != v:
		return 0
	case v >= hi:
		return int64(hi)
	case v <= lo:
		return int64(lo)
	}
	return int64(v)
}

// Column value views, one per physical type, used once per batch.

func int64View(scratch *[]int64) func(arrow.Array) []int64 {
	return func(col arrow.Array) []int64 {
		if a, ok := col.(*array.Int64); ok {
			return a.Int64Values()
		}
		if cap(*scratch) < col.Len() {
			*scratch = make([]int64, col.Len())
		}
		s := (*scratch)[:col.Len()]
		if err := toInt64(col, s); err != nil {
			panic(err) // the planner chose this view for an integer-like type
		}
		return s
	}
}

func float64View(col arrow.Array) []float64 { return col.(*array.Float64).Float64Values() }

func float32View(col arrow.Array) []float32 { return col.(*array.Float32).Float32Values() }

func float32As64View(scratch *[]float64) func(arrow.Array) []float64 {
	return func(col arrow.Array) []float64 {
		v := col.(*array.Float32).Float32Values()
		*scratch = grow((*scratch)[:0], len(v))
		for i, x := range v {
			(*scratch)[i] = float64(x)
		}
		return *scratch
	}
}

func stringView(scratch *[]string) func(arrow.Array) []string {
	return func(col arrow.Array) []string {
		*scratch = grow((*scratch)[:0], col.Len())
		s := *scratch
		switch a := col.(type) {
		case *array.String:
			for i := range s {
				s[i] = a.Value(i)
			}
		case *array.Binary:
			for i := range s {
				s[i] = string(a.Value(i))
			}
		}
		return s
	}
}

// newAcc returns the accumulator of spec.
func newAcc(s Spec) (acc, error) {
	in := s.In
	switch s.Func {
	case CountStar:
		return &countAcc{star: true}, nil
	case Count:
		return &countAcc{}, nil
	case Collect, CollectPacked:
		a := &collectAcc{out: s.Out, elem: s.In.WithNullable(true).Arrow()}
		if s.Func == CollectPacked && s.Out.IsBinary() {
			a.tag = packTag(s.In)
		}
		return a, nil
	case Sum, Avg:
		avg := s.Func == Avg
		switch {
		case in.IsInteger():
			var scratch []int64
			return &sumAcc[int64, int64]{avg: avg, out: s.Out, vals: int64View(&scratch)}, nil
		case in.Kind == types.Double:
			return &sumAcc[float64, float64]{avg: avg, out: s.Out, vals: float64View}, nil
		case in.Kind == types.Float && avg:
			return &sumAcc[float32, float64]{avg: avg, out: s.Out, vals: float32View}, nil
		case in.Kind == types.Float:
			return &sumAcc[float32, float32]{out: s.Out, vals: float32View}, nil
		case in.Kind == types.Decimal:
			return &decimalSumAcc{avg: avg, inScale: in.Scale, out: s.Out}, nil
		}
	case ListAgg:
		return &listAggAcc{sep: s.Separator}, nil
	case VarPop, VarSamp, StddevPop, StddevSamp:
		return &varAcc{fn: s.Func, in: in, out: s.Out}, nil
	case Min, Max, FirstValue, LastValue:
		pick := map[Func]int{Min: pickMin, Max: pickMax, FirstValue: pickFirst, LastValue: pickLast}[s.Func]
		switch {
		case in.Kind == types.Decimal:
			return &decimalMinMaxAcc{pick: pick, out: s.Out}, nil
		case in.Kind == types.Double:
			return &minMaxAcc[float64]{pick: pick, out: s.Out, vals: float64View}, nil
		case in.Kind == types.Float:
			var scratch []float64
			return &minMaxAcc[float64]{pick: pick, out: s.Out, vals: float32As64View(&scratch)}, nil
		case in.IsString() || in.IsBinary():
			var scratch []string
			return &minMaxAcc[string]{pick: pick, out: s.Out, vals: stringView(&scratch), keep: strings.Clone}, nil
		case intLike(in.Arrow()):
			var scratch []int64
			return &minMaxAcc[int64]{pick: pick, out: s.Out, vals: int64View(&scratch)}, nil
		}
	}
	return nil, fmt.Errorf("aggregate: %s over %s is not supported yet", s.Func, in)
}
