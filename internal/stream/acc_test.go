package stream

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// recompute is the simple twin of the retracting accumulators: the result
// of f over a multiset of values, computed from scratch.
func recompute(f aggregate.Func, distinct bool, vals []any, in, out types.T) any {
	var live []any
	seen := map[string]bool{}
	for _, v := range vals {
		if v == nil && f != aggregate.CountStar {
			continue
		}
		if distinct {
			if seen[valueKey(v)] {
				continue
			}
			seen[valueKey(v)] = true
		}
		live = append(live, v)
	}
	switch f {
	case aggregate.CountStar, aggregate.Count:
		return int64(len(live))
	}
	if len(live) == 0 {
		return nil
	}
	switch f {
	case aggregate.Sum, aggregate.Avg:
		if _, ok := live[0].(decimal128.Num); ok {
			var s decimal128.Num
			for _, v := range live {
				s = s.Add(v.(decimal128.Num))
			}
			if f == aggregate.Avg {
				return decimalAvg(s, int64(len(live)), out.Scale-in.Scale)
			}
			return s
		}
		var s int64
		for _, v := range live {
			s += exec.ToInt64(v)
		}
		if f == aggregate.Avg {
			s /= int64(len(live))
		}
		return exec.NarrowInt(s, out.Kind)
	case aggregate.Min, aggregate.Max:
		best := live[0]
		for _, v := range live[1:] {
			if better(v, best, f == aggregate.Max) {
				best = v
			}
		}
		return best
	}
	panic("recompute: " + f.String())
}

// TestRetractingAccumulators feeds random accumulations and retractions
// (only of values present, as a correct changelog does) and checks every
// intermediate result against recomputation over the live multiset.
func TestRetractingAccumulators(t *testing.T) {
	funcs := []aggregate.Func{aggregate.CountStar, aggregate.Count, aggregate.Sum, aggregate.Avg, aggregate.Min, aggregate.Max}
	ins := []types.T{types.INT, types.BIGINT, types.DECIMAL(10, 0)}
	for _, f := range funcs {
		for _, in := range ins {
			for _, distinct := range []bool{false, true} {
				if distinct && f == aggregate.CountStar {
					continue
				}
				name := fmt.Sprintf("%s/%s/distinct=%v", f, in, distinct)
				t.Run(name, func(t *testing.T) {
					out, err := aggregate.ResultType(f, in, false)
					if err != nil {
						t.Fatal(err)
					}
					spec := aggregate.Spec{Func: f, In: in, Out: out, Distinct: distinct, Label: name}
					mk, err := newAccFactory(spec, true)
					if err != nil {
						t.Fatal(err)
					}
					r := rand.New(rand.NewSource(int64(len(name))))
					a := mk()
					var live []any
					for step := 0; step < 500; step++ {
						if len(live) > 0 && r.Intn(3) == 0 {
							i := r.Intn(len(live))
							a.add(live[i], true)
							live = slices.Delete(live, i, i+1)
						} else {
							var v any
							if r.Intn(8) > 0 {
								n := int64(r.Intn(21) - 10)
								switch in.Kind {
								case types.Int:
									v = int32(n)
								case types.BigInt:
									v = n
								default:
									v = decimal128.FromI64(n)
								}
							}
							a.add(v, false)
							live = append(live, v)
						}
						got, want := a.value(), recompute(f, distinct, live, in, out)
						if valueKey(got) != valueKey(want) {
							t.Fatalf("step %d: value() = %v, want %v over %v", step, got, want, live)
						}
					}
				})
			}
		}
	}
}

// TestMinMaxFastAndMultiset checks the insert-only MIN/MAX (the current
// extreme only) against the multiset one on the same insert-only input.
func TestMinMaxFastAndMultiset(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for _, max := range []bool{false, true} {
		fast, slow := &minMaxAcc{max: max}, &multisetMinMax{max: max, vals: map[string]*counted{}}
		for i := 0; i < 1000; i++ {
			var v any
			if r.Intn(10) > 0 {
				v = fmt.Sprintf("s%03d", r.Intn(500))
			}
			fast.add(v, false)
			slow.add(v, false)
			if fast.value() != slow.value() {
				t.Fatalf("max=%v step %d: fast %v, multiset %v", max, i, fast.value(), slow.value())
			}
		}
	}
}

// TestUpdatedInputRefused: FIRST_VALUE, LAST_VALUE and LISTAGG take only
// insertions in weir's streaming mode, and say so.
func TestUpdatedInputRefused(t *testing.T) {
	for _, f := range []aggregate.Func{aggregate.FirstValue, aggregate.LastValue, aggregate.ListAgg} {
		spec := aggregate.Spec{Func: f, In: types.STRING, Out: types.STRING, Label: f.String() + "(s)"}
		if _, err := newAccFactory(spec, false); err != nil {
			t.Errorf("%s over insertions: %v", f, err)
		}
		if _, err := newAccFactory(spec, true); err == nil {
			t.Errorf("%s over updates: no error", f)
		}
	}
}

// TestRetractingVariance: the variance family's retractions give, within
// rounding, what the same formula gives over the values left.
func TestRetractingVariance(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, f := range []aggregate.Func{aggregate.VarPop, aggregate.VarSamp, aggregate.StddevPop, aggregate.StddevSamp} {
		a := &varAcc{fn: f, in: types.DOUBLE, out: types.DOUBLE}
		var live []float64
		for step := 0; step < 300; step++ {
			if len(live) > 0 && r.Intn(3) == 0 {
				i := r.Intn(len(live))
				a.add(live[i], true)
				live = slices.Delete(live, i, i+1)
			} else {
				v := float64(r.Intn(100)) / 4
				a.add(v, false)
				live = append(live, v)
			}
			fresh := &varAcc{fn: f, in: types.DOUBLE, out: types.DOUBLE}
			for _, v := range live {
				fresh.add(v, false)
			}
			got, want := a.value(), fresh.value()
			if (got == nil) != (want == nil) {
				t.Fatalf("%s step %d: %v, want %v", f, step, got, want)
			}
			if got != nil && math.Abs(got.(float64)-want.(float64)) > 1e-6*(1+math.Abs(want.(float64))) {
				t.Fatalf("%s step %d: %v, want %v", f, step, got, want)
			}
		}
	}
}
