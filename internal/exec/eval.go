package exec

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// Eval evaluates e over batch b (e's Column indexes refer to b's columns);
// the caller releases the result. The result has e.Type().Arrow() as its type.
//
// Evaluation follows Flink SQL: NULL propagates through operators and
// functions, AND and OR use three-valued logic, and CASE, COALESCE, AND and OR
// evaluate an operand that can fail (a division, a cast from a string, ...)
// only for the rows that need it, so that
// CASE WHEN b <> 0 THEN a / b END never divides by zero.
func Eval(mem memory.Allocator, e expr.Expr, b arrow.RecordBatch) (arrow.Array, error) {
	ev := evaluator{mem: mem}
	return ev.eval(e, batchOf(b))
}

// evaluator evaluates expressions; generic disables the typed fast paths so
// that tests can compare them with the value-at-a-time path.
type evaluator struct {
	mem     memory.Allocator
	generic bool
}

// batch is the evaluator's view of its input: columns not needed by the
// expression being evaluated may be nil.
type batch struct {
	cols []arrow.Array
	n    int
}

func batchOf(b arrow.RecordBatch) *batch {
	return &batch{cols: b.Columns(), n: int(b.NumRows())}
}

// take returns the rows idx (ascending) of the columns used by es. The
// caller releases it with release.
func (in *batch) take(mem memory.Allocator, idx []int32, es ...expr.Expr) (*batch, error) {
	out := &batch{cols: make([]arrow.Array, len(in.cols)), n: len(idx)}
	for _, e := range es {
		var err error
		expr.Walk(e, func(x expr.Expr) bool {
			c, ok := x.(*expr.Column)
			if !ok || c.Index < 0 || c.Index >= len(in.cols) || out.cols[c.Index] != nil || in.cols[c.Index] == nil {
				return err == nil
			}
			out.cols[c.Index], err = take(mem, in.cols[c.Index], idx)
			return err == nil
		})
		if err != nil {
			out.release()
			return nil, err
		}
	}
	return out, nil
}

func (in *batch) release() { release(in.cols...) }

// subset returns in restricted to the rows idx for evaluating es, or in
// itself when idx is every row; done releases what subset allocated.
func (ev *evaluator) subset(in *batch, idx []int32, es ...expr.Expr) (sub *batch, done func(), err error) {
	if len(idx) == in.n {
		return in, func() {}, nil
	}
	sub, err = in.take(ev.mem, idx, es...)
	if err != nil {
		return nil, nil, err
	}
	return sub, sub.release, nil
}

func (ev *evaluator) eval(e expr.Expr, in *batch) (arrow.Array, error) {
	switch e := e.(type) {
	case *expr.Column:
		if e.Index < 0 || e.Index >= len(in.cols) || in.cols[e.Index] == nil {
			return nil, fmt.Errorf("exec: column %s (index %d) is not in the input of %d columns", e, e.Index, len(in.cols))
		}
		a := in.cols[e.Index]
		if want := e.T.Arrow(); !arrow.TypeEqual(a.DataType(), want) {
			return nil, fmt.Errorf("exec: column %s is declared %s (Arrow %s) but the batch holds %s", e, e.T, want, a.DataType())
		}
		a.Retain()
		return a, nil
	case *expr.Literal:
		a, err := broadcast(ev.mem, e.Value, e.T, in.n)
		if err != nil {
			return nil, fmt.Errorf("exec: literal %s: %w", e, err)
		}
		return a, nil
	case *expr.Call:
		return ev.call(e, in)
	case *expr.Cast:
		return ev.cast(e, in)
	case *expr.Case:
		return ev.caseWhen(e, in)
	case *expr.PyCall:
		return nil, fmt.Errorf("exec: cannot evaluate the Python function call %s: Python functions run in a Python stage, not in the Go engine", e)
	case nil:
		return nil, errors.New("exec: nil expression")
	}
	return nil, fmt.Errorf("exec: cannot evaluate %T expression %s", e, e)
}

// operand is an evaluated argument: an array, or the value of a literal.
type operand struct {
	arr    arrow.Array // nil for a literal
	scalar any         // the literal's value when arr is nil; nil is NULL
	t      types.T
}

// operand evaluates e; literals are not broadcast.
func (ev *evaluator) operand(e expr.Expr, in *batch) (operand, error) {
	if l, ok := e.(*expr.Literal); ok {
		if k := l.T.Kind; k == types.Array || k == types.Map || k == types.Row {
			return operand{scalar: l.Value, t: l.T}, nil // read by collections.go
		}
		if err := checkValue(l.Value, l.T); err != nil {
			return operand{}, fmt.Errorf("exec: literal %s: %w", l, err)
		}
		return operand{scalar: l.Value, t: l.T}, nil
	}
	a, err := ev.eval(e, in)
	if err != nil {
		return operand{}, err
	}
	return operand{arr: a, t: e.Type()}, nil
}

func (ev *evaluator) operands(es []expr.Expr, in *batch) ([]operand, error) {
	ops := make([]operand, 0, len(es))
	for _, e := range es {
		o, err := ev.operand(e, in)
		if err != nil {
			releaseOps(ops)
			return nil, err
		}
		ops = append(ops, o)
	}
	return ops, nil
}

func releaseOps(ops []operand) {
	for _, o := range ops {
		if o.arr != nil {
			o.arr.Release()
		}
	}
}

func (o operand) isScalar() bool { return o.arr == nil }

// isNull reports whether the operand is NULL in every row.
func (o operand) isNull() bool {
	if o.arr == nil {
		return o.scalar == nil
	}
	return isNullTyped(o.arr) || (o.arr.Len() > 0 && o.arr.NullN() == o.arr.Len())
}

// value returns row i as a Literal-style Go value.
func (o operand) value(i int) any {
	if o.arr == nil {
		return o.scalar
	}
	return valueAt(o.arr, i)
}

func (ev *evaluator) call(c *expr.Call, in *batch) (arrow.Array, error) {
	switch c.Name {
	case "AND", "OR":
		return ev.andOr(c, in)
	case "COALESCE":
		return ev.coalesce(c, in)
	}
	if fn, ok := temporalCalls[c.Name]; ok {
		return ev.temporal(c, fn, in) // temporal.go
	}
	want, ok := arity[c.Name]
	if !ok {
		return nil, fmt.Errorf("exec: unknown function %s in %s", c.Name, c)
	}
	if len(c.Args) < want[0] || (want[1] >= 0 && len(c.Args) > want[1]) {
		return nil, fmt.Errorf("exec: %s takes %s arguments, got %d in %s", c.Name, arityText(want), len(c.Args), c)
	}
	ops, err := ev.operands(c.Args, in)
	if err != nil {
		return nil, err
	}
	defer releaseOps(ops)
	n := in.n
	switch c.Name {
	case "+", "-", "*", "/", "%":
		return ev.arith(c, ops, n)
	case "NEG", "ABS":
		return ev.unaryNumeric(c, ops[0], n)
	case "ROUND":
		return ev.round(c, ops, n)
	case "FLOOR", "CEIL", "TRUNCATE", "SIGN", "POWER", "SQRT", "LN", "LOG10", "EXP", "PI":
		return ev.mathFunc(c, ops, n)
	case "GREATEST", "LEAST":
		return ev.greatest(c, ops, n)
	case "=", "<>", "<", "<=", ">", ">=":
		return ev.compare(c, ops, n)
	case "NOT", "IS NULL", "IS NOT NULL":
		return ev.unaryLogic(c, ops[0], n)
	case "UPPER", "LOWER", "CONCAT", "SUBSTRING", "CHAR_LENGTH", "TRIM":
		return ev.stringFunc(c, ops, n)
	}
	if k, ok := kernels[c.Name]; ok {
		return k(ev, c, ops, n) // kernels.go
	}
	return nil, fmt.Errorf("exec: unknown function %s in %s", c.Name, c)
}

// arity gives the minimum and maximum (-1: any) argument counts.
var arity = map[string][2]int{
	"+": {2, 2}, "-": {2, 2}, "*": {2, 2}, "/": {2, 2}, "%": {2, 2},
	"NEG": {1, 1}, "ABS": {1, 1}, "ROUND": {1, 2}, "FLOOR": {1, 1}, "CEIL": {1, 1}, "TRUNCATE": {1, 2},
	"SIGN": {1, 1}, "POWER": {2, 2}, "SQRT": {1, 1}, "LN": {1, 1}, "LOG10": {1, 1}, "EXP": {1, 1}, "PI": {0, 0},
	"GREATEST": {1, -1}, "LEAST": {1, -1},
	"=": {2, 2}, "<>": {2, 2}, "<": {2, 2}, "<=": {2, 2}, ">": {2, 2}, ">=": {2, 2},
	"NOT": {1, 1}, "IS NULL": {1, 1}, "IS NOT NULL": {1, 1},
	"UPPER": {1, 1}, "LOWER": {1, 1}, "CONCAT": {1, -1}, "SUBSTRING": {2, 3},
	"CHAR_LENGTH": {1, 1}, "TRIM": {1, 3},
}

func arityText(a [2]int) string {
	switch {
	case a[1] < 0:
		return fmt.Sprintf("at least %d", a[0])
	case a[0] == a[1]:
		return fmt.Sprint(a[0])
	}
	return fmt.Sprintf("%d to %d", a[0], a[1])
}

// canFail reports whether evaluating e can fail for some input row: CASE,
// COALESCE, AND and OR evaluate such operands only on the rows that need them.
func canFail(e expr.Expr) bool {
	fails := false
	expr.Walk(e, func(x expr.Expr) bool {
		switch x := x.(type) {
		case *expr.Call:
			if (x.Name == "/" || x.Name == "%") && x.T.Kind != types.Float && x.T.Kind != types.Double {
				fails = true
			}
			if x.T.Kind == types.Decimal && !x.T.Nullable && x.Name != "NEG" && x.Name != "ABS" {
				fails = true // a result too large for its NOT NULL type
			}
		case *expr.Cast:
			fails = castCanFail(x.X.Type(), x.T) && !x.Try
		case *expr.PyCall:
			fails = true
		}
		return !fails
	})
	return fails
}

// allRows returns 0..n-1.
func allRows(n int) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	return idx
}

// coerce returns a as an array of type to (a has type from), casting when
// the Arrow types differ; it takes over the caller's reference to a.
func (ev *evaluator) coerce(a arrow.Array, from, to types.T, e expr.Expr) (arrow.Array, error) {
	if arrow.TypeEqual(a.DataType(), to.Arrow()) && !castNeedsWork(from, to) {
		return a, nil
	}
	defer a.Release()
	return ev.castArray(a, from, to, e)
}

// caseWhen evaluates CASE: the result of the first WHEN whose condition is
// TRUE, else the ELSE result (NULL without ELSE).
func (ev *evaluator) caseWhen(c *expr.Case, in *batch) (arrow.Array, error) {
	n := in.n
	k := len(c.Whens)
	parts := make([]arrow.Array, k+1)
	defer func() { release(parts...) }()
	src := make([]int32, n)
	pos := make([]int32, n)
	lazy := false
	for i, w := range c.Whens {
		if (i > 0 && canFail(w.Cond)) || canFail(w.Result) {
			lazy = true
		}
	}
	if c.Else != nil && canFail(c.Else) {
		lazy = true
	}
	all := allRows(n)
	rem := all
	for i, w := range c.Whens {
		if len(rem) == 0 {
			break
		}
		chosen, rest, err := ev.split(w.Cond, in, rem, lazy, isTrueRow)
		if err != nil {
			return nil, err
		}
		if len(chosen) > 0 {
			idx := chosen
			if !lazy {
				idx = all
			}
			if parts[i], err = ev.evalRows(w.Result, in, idx, c.T); err != nil {
				return nil, err
			}
			for j, r := range chosen {
				src[r] = int32(i)
				if lazy {
					pos[r] = int32(j)
				} else {
					pos[r] = r
				}
			}
		}
		rem = rest
	}
	if len(rem) > 0 {
		if c.Else == nil {
			for _, r := range rem {
				src[r] = -1
			}
		} else {
			var err error
			if parts[k], err = ev.evalRows(c.Else, in, rem, c.T); err != nil {
				return nil, err
			}
			for j, r := range rem {
				src[r] = int32(k)
				pos[r] = int32(j)
			}
		}
	}
	return gather(ev.mem, c.T.Arrow(), parts, src, pos)
}

// coalesce evaluates COALESCE: the first argument that is not NULL.
func (ev *evaluator) coalesce(c *expr.Call, in *batch) (arrow.Array, error) {
	n := in.n
	if len(c.Args) == 0 {
		return nil, fmt.Errorf("exec: COALESCE needs at least one argument")
	}
	parts := make([]arrow.Array, len(c.Args))
	defer func() { release(parts...) }()
	src := make([]int32, n)
	pos := make([]int32, n)
	rem := allRows(n)
	for i, a := range c.Args {
		if len(rem) == 0 {
			break
		}
		var err error
		if parts[i], err = ev.evalRows(a, in, rem, c.T); err != nil {
			return nil, err
		}
		var rest []int32
		for j, r := range rem {
			if parts[i].IsNull(j) || isNullTyped(parts[i]) {
				rest = append(rest, r)
				continue
			}
			src[r] = int32(i)
			pos[r] = int32(j)
		}
		rem = rest
	}
	for _, r := range rem {
		src[r] = -1
	}
	return gather(ev.mem, c.T.Arrow(), parts, src, pos)
}

// evalRows evaluates e over the rows idx (ascending) of in and returns the
// result, of len(idx) rows, as type t.
func (ev *evaluator) evalRows(e expr.Expr, in *batch, idx []int32, t types.T) (arrow.Array, error) {
	sub, done, err := ev.subset(in, idx, e)
	if err != nil {
		return nil, err
	}
	defer done()
	a, err := ev.eval(e, sub)
	if err != nil {
		return nil, err
	}
	return ev.coerce(a, e.Type(), t, e)
}

// split evaluates the boolean cond over the rows rem of in (over all rows
// when !lazy) and splits rem into the rows where pick is true and the others.
func (ev *evaluator) split(cond expr.Expr, in *batch, rem []int32, lazy bool, pick func(vals, valid []byte, i int) bool) (chosen, rest []int32, err error) {
	var a arrow.Array
	if lazy {
		a, err = ev.evalRows(cond, in, rem, types.BOOLEAN)
	} else {
		a, err = ev.eval(cond, in)
		if err == nil {
			a, err = ev.coerce(a, cond.Type(), types.BOOLEAN, cond)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	defer a.Release()
	vals, valid := boolBits(a)
	for j, r := range rem {
		i := int(r)
		if lazy {
			i = j
		}
		if pick(vals, valid, i) {
			chosen = append(chosen, r)
		} else {
			rest = append(rest, r)
		}
	}
	return chosen, rest, nil
}

func isTrueRow(vals, valid []byte, i int) bool {
	return bit(vals, i) && (valid == nil || bit(valid, i))
}

func bit(b []byte, i int) bool { return b[i>>3]&(1<<(i&7)) != 0 }

// nullResult returns an all-NULL array of t.
func (ev *evaluator) nullResult(t types.T, n int) arrow.Array {
	return array.MakeArrayOfNull(ev.mem, t.Arrow(), n)
}
