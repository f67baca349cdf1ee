package stream

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// acc is the accumulator of one aggregate call for one group, fed one value
// at a time (Literal-style Go values, nil for NULL): add accumulates it, or
// takes it back when retract is set (a -U or -D row reaching the aggregate).
type acc interface {
	add(v any, retract bool)
	// value is the current result, a Literal-style Go value of the call's
	// result type, nil for NULL.
	value() any
	// save and load write and read the accumulator's state in checkpoints
	// (checkpoint.go).
	save(e *checkpoint.Encoder)
	load(d *checkpoint.Decoder)
}

// accFactory makes a group's accumulator of one call.
type accFactory func() acc

// newAccFactory returns the accumulators of s. retracting says whether the
// aggregate's input has updates (then MIN and MAX keep every value, and
// FIRST_VALUE, LAST_VALUE and LISTAGG are refused).
func newAccFactory(s aggregate.Spec, retracting bool) (accFactory, error) {
	inner, err := plainFactory(s, retracting)
	if err != nil {
		return nil, err
	}
	if !s.Distinct {
		return inner, nil
	}
	return func() acc { return &distinctAcc{inner: inner(), seen: map[string]int64{}} }, nil
}

func plainFactory(s aggregate.Spec, retracting bool) (accFactory, error) {
	in, out := s.In, s.Out
	switch s.Func {
	case aggregate.CountStar:
		return func() acc { return &countAcc{star: true} }, nil
	case aggregate.Count:
		return func() acc { return &countAcc{} }, nil
	case aggregate.Sum, aggregate.Avg:
		avg := s.Func == aggregate.Avg
		switch {
		case in.IsInteger():
			return func() acc { return &intSumAcc{avg: avg, out: out} }, nil
		case in.Kind == types.Float || in.Kind == types.Double:
			// FLOAT sums in float32, as Flink does; AVG of FLOAT in float64.
			single := in.Kind == types.Float && !avg
			return func() acc { return &floatSumAcc{avg: avg, single: single, out: out} }, nil
		case in.Kind == types.Decimal:
			return func() acc { return &decimalSumAcc{avg: avg, shift: out.Scale - in.Scale, out: out} }, nil
		}
	case aggregate.Min, aggregate.Max:
		max := s.Func == aggregate.Max
		if retracting {
			return func() acc { return &multisetMinMax{max: max, vals: map[string]*counted{}} }, nil
		}
		return func() acc { return &minMaxAcc{max: max} }, nil
	case aggregate.VarPop, aggregate.VarSamp, aggregate.StddevPop, aggregate.StddevSamp:
		fn := s.Func
		return func() acc { return &varAcc{fn: fn, in: in, out: out} }, nil
	case aggregate.FirstValue, aggregate.LastValue, aggregate.ListAgg:
		if retracting {
			return nil, fmt.Errorf("%s over rows that are updated is not supported by weir's streaming mode yet", s.Label)
		}
		switch s.Func {
		case aggregate.FirstValue:
			return func() acc { return &firstLastAcc{} }, nil
		case aggregate.LastValue:
			return func() acc { return &firstLastAcc{last: true} }, nil
		default:
			sep := s.Separator
			return func() acc { return &listAggAcc{sep: sep} }, nil
		}
	}
	return nil, fmt.Errorf("%s is not supported by weir's streaming mode yet; run the query in batch mode (SET 'execution.runtime-mode' = 'batch')", s.Label)
}

// countAcc is COUNT(*) (star) or COUNT(x).
type countAcc struct {
	star bool
	n    int64
}

func (a *countAcc) add(v any, retract bool) {
	if !a.star && v == nil {
		return
	}
	if retract {
		a.n--
	} else {
		a.n++
	}
}

func (a *countAcc) value() any { return a.n }

// intSumAcc is SUM or AVG of integers: the sum wraps as Java's long does,
// AVG truncates toward zero, and the result narrows to the result type.
type intSumAcc struct {
	avg      bool
	out      types.T
	sum, cnt int64
}

func (a *intSumAcc) add(v any, retract bool) {
	if v == nil {
		return
	}
	x := exec.ToInt64(v)
	if retract {
		a.sum -= x
		a.cnt--
	} else {
		a.sum += x
		a.cnt++
	}
}

func (a *intSumAcc) value() any {
	if a.cnt == 0 {
		return nil
	}
	s := a.sum
	if a.avg {
		s /= a.cnt
	}
	return exec.NarrowInt(s, a.out.Kind)
}

// floatSumAcc is SUM or AVG of FLOAT or DOUBLE; single sums in float32.
type floatSumAcc struct {
	avg, single bool
	out         types.T
	sum         float64
	sum32       float32
	cnt         int64
}

func (a *floatSumAcc) add(v any, retract bool) {
	if v == nil {
		return
	}
	var x float64
	switch v := v.(type) {
	case float32:
		x = float64(v)
		if a.single {
			if retract {
				a.sum32 -= v
			} else {
				a.sum32 += v
			}
		}
	case float64:
		x = v
	}
	if retract {
		a.sum -= x
		a.cnt--
	} else {
		a.sum += x
		a.cnt++
	}
}

func (a *floatSumAcc) value() any {
	if a.cnt == 0 {
		return nil
	}
	if a.single {
		return a.sum32
	}
	s := a.sum
	if a.avg {
		s /= float64(a.cnt)
	}
	if a.out.Kind == types.Float {
		return float32(s)
	}
	return s
}

// decimalSumAcc is SUM or AVG of DECIMAL; a result beyond the result's
// precision is NULL, AVG rounds half away from zero at the result's scale.
type decimalSumAcc struct {
	avg   bool
	shift int
	out   types.T
	sum   decimal128.Num
	cnt   int64
}

func (a *decimalSumAcc) add(v any, retract bool) {
	if v == nil {
		return
	}
	x := v.(decimal128.Num)
	if retract {
		a.sum = a.sum.Sub(x)
		a.cnt--
	} else {
		a.sum = a.sum.Add(x)
		a.cnt++
	}
}

func (a *decimalSumAcc) value() any {
	if a.cnt == 0 {
		return nil
	}
	v := a.sum
	if a.avg {
		v = decimalAvg(v, a.cnt, a.shift)
	}
	if !v.FitsInPrecision(int32(a.out.Precision)) {
		return nil
	}
	return v
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
		return decimal128.MaxDecimal128
	}
	return decimal128.FromBigInt(q)
}

// minMaxAcc is MIN or MAX over input that is never retracted: only the
// current extreme is kept.
type minMaxAcc struct {
	max  bool
	best any
}

func (a *minMaxAcc) add(v any, _ bool) {
	if v == nil {
		return
	}
	if a.best == nil || better(v, a.best, a.max) {
		a.best = keep(v)
	}
}

func (a *minMaxAcc) value() any { return a.best }

// better reports whether v replaces best as the MIN (or MAX): the plain
// comparison, under which a NaN never replaces anything.
func better(v, best any, max bool) bool {
	c := compare(v, best)
	if max {
		return c > 0
	}
	return c < 0
}

// counted is a value of a multiset and how many times it is there.
type counted struct {
	v any
	n int64
}

// multisetMinMax is MIN or MAX over input with retractions: every value is
// kept with its count, so that when the extreme is taken back the next one
// can be found.
type multisetMinMax struct {
	max  bool
	vals map[string]*counted
	best any
	// stale is set when the extreme was taken back and best must be
	// searched again.
	stale bool
}

func (a *multisetMinMax) add(v any, retract bool) {
	if v == nil {
		return
	}
	k := valueKey(v)
	c := a.vals[k]
	if !retract {
		if c == nil {
			c = &counted{v: keep(v)}
			a.vals[k] = c
		}
		c.n++
		if !a.stale && (a.best == nil || better(v, a.best, a.max)) {
			a.best = c.v
		}
		return
	}
	if c == nil {
		return // a retraction of a value never added: ignored, as in Flink
	}
	c.n--
	if c.n <= 0 {
		delete(a.vals, k)
		if a.best != nil && valueKey(a.best) == k {
			a.stale = true
		}
	}
}

func (a *multisetMinMax) value() any {
	if a.stale {
		a.best = nil
		for _, c := range a.vals {
			if a.best == nil || better(c.v, a.best, a.max) {
				a.best = c.v
			}
		}
		a.stale = false
	}
	return a.best
}

// varAcc is VAR_POP, VAR_SAMP, STDDEV_POP or STDDEV_SAMP: sums of the
// values and of their squares in float64, and the count, all of which
// retract; the result as the batch aggregation computes it.
type varAcc struct {
	fn         aggregate.Func
	in, out    types.T
	sum, sumSq float64
	cnt        int64
}

func (a *varAcc) add(v any, retract bool) {
	if v == nil {
		return
	}
	var x float64
	switch v := v.(type) {
	case float64:
		x = v
	case float32:
		x = float64(v)
	case decimal128.Num:
		x = v.ToFloat64(int32(a.in.Scale))
	default:
		x = float64(exec.ToInt64(v))
	}
	if retract {
		a.sum, a.sumSq, a.cnt = a.sum-x, a.sumSq-x*x, a.cnt-1
	} else {
		a.sum, a.sumSq, a.cnt = a.sum+x, a.sumSq+x*x, a.cnt+1
	}
}

func (a *varAcc) value() any {
	c := float64(a.cnt)
	div := c
	if a.fn == aggregate.VarSamp || a.fn == aggregate.StddevSamp {
		div = c - 1
	}
	if a.cnt <= 0 || div == 0 {
		return nil
	}
	v := (a.sumSq - a.sum*a.sum/c) / div
	if a.fn == aggregate.StddevPop || a.fn == aggregate.StddevSamp {
		v = math.Pow(v, 0.5)
	}
	switch a.out.Kind {
	case types.Double:
		return v
	case types.Float:
		return float32(v)
	case types.Decimal:
		d, err := decimal128.FromFloat64(v, int32(a.out.Precision), int32(a.out.Scale))
		if err != nil {
			return nil
		}
		return d
	}
	return exec.NarrowInt(javaInt(v, a.out.Kind == types.BigInt), a.out.Kind)
}

// javaInt converts like Java's (long) cast (wide) or (int) cast: toward
// zero, saturating, NaN 0 (TINYINT and SMALLINT then wrap, by exec.NarrowInt).
func javaInt(v float64, wide bool) int64 {
	lo, hi := float64(math.MinInt32), float64(math.MaxInt32)
	if wide {
		lo, hi = math.MinInt64, math.MaxInt64
	}
	switch {
	case v != v:
		return 0
	case v <= lo:
		return int64(lo)
	case v >= hi:
		if wide {
			return math.MaxInt64
		}
		return int64(hi)
	}
	return int64(v)
}

// firstLastAcc is FIRST_VALUE or LAST_VALUE (insert-only input).
type firstLastAcc struct {
	last bool
	v    any
}

func (a *firstLastAcc) add(v any, _ bool) {
	if v == nil || (!a.last && a.v != nil) {
		return
	}
	a.v = keep(v)
}

func (a *firstLastAcc) value() any { return a.v }

// listAggAcc is LISTAGG (insert-only input).
type listAggAcc struct {
	sep string
	b   strings.Builder
	any bool
}

func (a *listAggAcc) add(v any, _ bool) {
	if v == nil {
		return
	}
	if a.any {
		a.b.WriteString(a.sep)
	}
	a.b.WriteString(v.(string))
	a.any = true
}

func (a *listAggAcc) value() any {
	if !a.any {
		return nil
	}
	return a.b.String()
}

// distinctAcc passes to inner only the first arrival of each value and only
// the last retraction of it: Flink's distinct aggregates count each value's
// occurrences. NULLs are ignored, as DISTINCT aggregates do.
type distinctAcc struct {
	inner acc
	seen  map[string]int64
}

func (a *distinctAcc) add(v any, retract bool) {
	if v == nil {
		return
	}
	k := valueKey(v)
	n := a.seen[k]
	if !retract {
		a.seen[k] = n + 1
		if n == 0 {
			a.inner.add(v, false)
		}
		return
	}
	switch {
	case n <= 0:
		return
	case n == 1:
		delete(a.seen, k)
		a.inner.add(v, true)
	default:
		a.seen[k] = n - 1
	}
}

func (a *distinctAcc) value() any { return a.inner.value() }

// keep copies values that may alias a batch's memory.
func keep(v any) any {
	switch v := v.(type) {
	case string:
		return strings.Clone(v)
	case []byte:
		return bytes.Clone(v)
	}
	return v
}

// compare orders two non-NULL values of one type.
func compare(a, b any) int {
	switch a := a.(type) {
	case int8:
		return cmp.Compare(a, b.(int8))
	case int16:
		return cmp.Compare(a, b.(int16))
	case int32:
		return cmp.Compare(a, b.(int32))
	case int64:
		return cmp.Compare(a, b.(int64))
	case float32:
		return plainCompare(a, b.(float32))
	case float64:
		return plainCompare(a, b.(float64))
	case decimal128.Num:
		return a.Cmp(b.(decimal128.Num))
	case string:
		return strings.Compare(a, b.(string))
	case []byte:
		return bytes.Compare(a, b.([]byte))
	case bool:
		switch bv := b.(bool); {
		case a == bv:
			return 0
		case !a:
			return -1
		}
		return 1
	case arrow.Date32:
		return cmp.Compare(a, b.(arrow.Date32))
	case arrow.Time32:
		return cmp.Compare(a, b.(arrow.Time32))
	case arrow.Timestamp:
		return cmp.Compare(a, b.(arrow.Timestamp))
	}
	panic(fmt.Sprintf("stream: cannot compare %T", a))
}

// plainCompare is < and > as Java's primitive comparisons: NaN is neither.
func plainCompare[F float32 | float64](a, b F) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// valueKey encodes a value for maps: equal values (of one type), equal keys.
func valueKey(v any) string {
	switch v := v.(type) {
	case nil:
		return "\x00"
	case string:
		return "s" + v
	case []byte:
		return "b" + string(v)
	}
	return fmt.Sprintf("%T:%v", v, v)
}
