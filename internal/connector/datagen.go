package connector

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/config"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// The datagen connector generates rows like Flink's datagen connector.
//
// Table options:
//
//   - 'number-of-rows': the number of rows to generate; absent, the source is
//     unbounded unless a column is a sequence.
//   - 'rows-per-second': the maximum rate. Absent, weir generates as fast as
//     it can (Flink's default is 10000 rows per second). With a rate, a batch
//     holds at most a tenth of a second's rows, and the batch that ends with
//     row k comes no earlier than k / rate seconds after the first Next.
//
// Column options, 'fields.<column>.<option>':
//
//   - 'kind': 'random' (default) or 'sequence'.
//   - 'null-rate': the fraction of NULL rows, 0 (default) to 1; only for
//     nullable columns. A NULL row of a sequence still uses up its value.
//   - 'seed': the seed of the column's random generator (a weir extension).
//     Each column has a fixed default seed, so runs are reproducible.
//   - random numbers (TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE,
//     DECIMAL): 'min' and 'max', inclusive, by default the type's range
//     (for FLOAT and DOUBLE the finite range: -MAX_VALUE to MAX_VALUE, where
//     Flink starts at the smallest positive value).
//   - random CHAR, VARCHAR, STRING, BINARY, VARBINARY, BYTES: 'length'
//     (default 100, at most the type's length; CHAR(n) and BINARY(n) are
//     always n long) and, for the variable-length types, 'var-len' = 'true'
//     for lengths between 1 and 'length'. Strings are hexadecimal digits, as
//     in Flink.
//   - random BOOLEAN: TRUE or FALSE.
//   - random DATE and TIME: the current date and time of day (UTC), as in
//     Flink; random TIMESTAMP and TIMESTAMP_LTZ: the current time minus a
//     random duration of at most 'max-past' (default 0; e.g. '5000' ms,
//     '5 s', '10 min', '1 h', '1 d').
//   - sequences (the numeric types, CHAR, VARCHAR and STRING): 'start' and
//     'end', both required and inclusive, counting up by 1. The source ends
//     when a sequence is exhausted or after 'number-of-rows', whichever comes
//     first.
//
// ARRAY, MAP and ROW columns are not supported.

const (
	optRows = "number-of-rows"
	optRate = "rows-per-second"
)

var fieldOptions = []string{"kind", "min", "max", "max-past", "length", "var-len", "start", "end", "null-rate", "seed"}

// datagen is the source of the datagen connector.
type datagen struct {
	schema    types.Schema
	arrow     *arrow.Schema
	mem       memory.Allocator
	batchSize int
	total     int64   // -1: unbounded
	rate      float64 // 0: unlimited
	cols      []*genColumn
	emitted   int64
	start     time.Time
}

// genColumn generates one column.
type genColumn struct {
	dt        arrow.DataType
	gen       generator
	nullRate  float64
	nulls     rng
	threshold uint64 // a row is NULL when nulls.next() < threshold
}

// generator produces the values of a column.
type generator interface {
	// fill returns the value buffers (no validity) of the next n values.
	fill(mem memory.Allocator, n int) []*memory.Buffer
	// left is the number of values the generator can still produce, -1 when
	// unbounded.
	left() int64
}

func openDatagen(o *options, schema types.Schema, batchSize int, mem memory.Allocator) (exec.Source, error) {
	d := &datagen{schema: schema, arrow: schema.Arrow(), mem: mem, batchSize: batchSize, total: -1}
	if v, ok := o.get(optRows); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 {
			return nil, o.bad(optRows, "must be a whole number >= 0")
		}
		d.total = n
	}
	if v, ok := o.get(optRate); ok {
		r, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || r <= 0 {
			return nil, o.bad(optRate, "must be a whole number > 0")
		}
		d.rate = float64(r)
	}
	known := []string{optRows, optRate}
	names := make([]string, len(schema))
	for i, f := range schema {
		names[i] = f.Name
		for _, k := range fieldOptions {
			known = append(known, "fields."+f.Name+"."+k)
		}
	}
	if err := checkFieldNames(o, schema, names); err != nil {
		return nil, err
	}
	for i, f := range schema {
		c, err := newGenColumn(o, i, f)
		if err != nil {
			return nil, err
		}
		d.cols = append(d.cols, c)
	}
	if err := o.finish(known); err != nil {
		return nil, err
	}
	return d, nil
}

// checkFieldNames reports 'fields.<name>.<option>' options whose name is not
// a column.
func checkFieldNames(o *options, schema types.Schema, names []string) error {
	var keys []string
	for k := range o.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rest, ok := strings.CutPrefix(k, "fields.")
		dot := strings.LastIndexByte(rest, '.')
		if !ok || dot < 0 {
			continue
		}
		name, opt := rest[:dot], rest[dot+1:]
		found := false
		for _, f := range schema {
			found = found || f.Name == name
		}
		if found || closestName(opt, fieldOptions) == "" {
			continue
		}
		msg := fmt.Sprintf("option '%s' names no column of the table; its columns are %s", k, strings.Join(names, ", "))
		if s := closestName(name, names); s != "" {
			msg += fmt.Sprintf(" (did you mean 'fields.%s.%s'?)", s, opt)
		}
		return o.errorf("%s", msg)
	}
	return nil
}

func newGenColumn(o *options, idx int, f types.Field) (*genColumn, error) {
	t := f.Type
	p := "fields." + f.Name + "."
	c := &genColumn{dt: nil}
	switch t.Kind {
	case types.Array, types.Map, types.Row, types.Null, types.Invalid:
		return nil, fmt.Errorf("table '%s': datagen does not support column '%s' of type %s", o.table, f.Name, t)
	}
	c.dt = t.Arrow()
	kind := "random"
	if v, ok := o.get(p + "kind"); ok {
		if v != "random" && v != "sequence" {
			return nil, o.bad(p+"kind", "must be 'random' or 'sequence'")
		}
		kind = v
	}
	seed := uint64(idx+1)*0x9E3779B97F4A7C15 ^ 0x5EED
	if v, ok := o.get(p + "seed"); ok {
		s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, o.bad(p+"seed", "must be a whole number")
		}
		seed = uint64(s)
	}
	if v, ok := o.get(p + "null-rate"); ok {
		r, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || !(r >= 0 && r <= 1) {
			return nil, o.bad(p+"null-rate", "must be a number from 0 to 1")
		}
		if r > 0 && !t.Nullable {
			return nil, o.bad(p+"null-rate", "column '%s' is NOT NULL", f.Name)
		}
		c.nullRate = r
		c.nulls = rng{s: seed ^ 0xA5A5A5A5A5A5A5A5}
		if r < 1 {
			c.threshold = uint64(r * 0x1p64)
		}
	}
	// Options that apply to this kind of generator and type.
	applies := map[string]bool{}
	switch {
	case kind == "sequence":
		if !t.IsNumeric() && !t.IsString() {
			return nil, o.bad(p+"kind", "sequences are supported for numeric and string columns, not %s", plainType(t))
		}
		applies["start"], applies["end"] = true, true
	case t.IsNumeric():
		applies["min"], applies["max"] = true, true
	case t.IsString() || t.IsBinary():
		applies["length"] = true
		applies["var-len"] = t.Kind == types.Varchar || t.Kind == types.Varbinary
	case t.Kind == types.Timestamp || t.Kind == types.TimestampLTZ:
		applies["max-past"] = true
	}
	for _, k := range fieldOptions {
		if _, ok := o.m[p+k]; !ok || applies[k] || k == "kind" || k == "seed" || k == "null-rate" {
			continue
		}
		switch {
		case kind == "random" && (k == "start" || k == "end"):
			return nil, o.errorf("option '%s' applies only when '%skind' = 'sequence'", p+k, p)
		case kind == "sequence" && (k == "min" || k == "max" || k == "length" || k == "var-len" || k == "max-past"):
			return nil, o.errorf("option '%s' applies only when '%skind' = 'random'", p+k, p)
		}
		return nil, o.errorf("option '%s' does not apply to column '%s' of type %s", p+k, f.Name, plainType(t))
	}
	var err error
	if kind == "sequence" {
		c.gen, err = newSequence(o, p, t)
	} else {
		c.gen, err = newRandom(o, p, t, rng{s: seed})
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

func plainType(t types.T) string { return t.WithNullable(true).String() }

// parseAs parses an option value as a value of type t, as CAST would.
func parseAs(o *options, key string, t types.T) (any, error) {
	v, err := exec.CastValue(o.m[key], types.STRING, t.WithNullable(true))
	if err != nil {
		return nil, o.bad(key, "must be a value of type %s", plainType(t))
	}
	if v == nil {
		return nil, o.bad(key, "does not fit %s", plainType(t))
	}
	return v, nil
}

// bounds reads the optional pair of options lo and hi of type t, with
// defaults; it checks lo <= hi with less.
func bounds(o *options, p, lo, hi string, t types.T, defLo, defHi any, less func(a, b any) bool) (any, any, error) {
	vals := [2]any{defLo, defHi}
	for i, k := range []string{lo, hi} {
		if _, ok := o.get(p + k); ok {
			v, err := parseAs(o, p+k, t)
			if err != nil {
				return nil, nil, err
			}
			vals[i] = v
		}
	}
	if less(vals[1], vals[0]) {
		return nil, nil, o.errorf("option '%s%s' (%v) is greater than '%s%s' (%v)", p, lo, o.valueOr(p+lo, vals[0]), p, hi, o.valueOr(p+hi, vals[1]))
	}
	return vals[0], vals[1], nil
}

func (o *options) valueOr(key string, v any) string {
	if s, ok := o.m[key]; ok {
		return s
	}
	return fmt.Sprint(v)
}

func intRange(k types.Kind) (int64, int64) {
	switch k {
	case types.TinyInt:
		return math.MinInt8, math.MaxInt8
	case types.SmallInt:
		return math.MinInt16, math.MaxInt16
	case types.Int:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func intLess(a, b any) bool     { return exec.ToInt64(a) < exec.ToInt64(b) }
func floatLess(a, b any) bool   { return exec.ToFloat64(a) < exec.ToFloat64(b) }
func decimalLess(a, b any) bool { return a.(decimal128.Num).Less(b.(decimal128.Num)) }

func newSequence(o *options, p string, t types.T) (generator, error) {
	for _, k := range []string{"start", "end"} {
		if _, ok := o.get(p + k); !ok {
			return nil, o.errorf("option '%s%s' is required when '%skind' = 'sequence'", p, k, p)
		}
	}
	switch {
	case t.IsInteger() || t.IsString():
		nt := t
		if t.IsString() {
			nt = types.BIGINT
		}
		lo, hi, err := bounds(o, p, "start", "end", nt, nil, nil, intLess)
		if err != nil {
			return nil, err
		}
		start, end := exec.ToInt64(lo), exec.ToInt64(hi)
		count := uint64(end) - uint64(start) + 1
		if count == 0 {
			count = math.MaxUint64
		}
		if t.IsString() {
			if t.Length < types.MaxLength {
				for _, x := range []int64{start, end} {
					if s := strconv.FormatInt(x, 10); len(s) > t.Length {
						return nil, o.errorf("sequence values such as %s do not fit column type %s", s, plainType(t))
					}
				}
			}
			return &strSeq{start: start, count: count}, nil
		}
		switch t.Kind {
		case types.TinyInt:
			return &intSeq[int8]{start: start, count: count}, nil
		case types.SmallInt:
			return &intSeq[int16]{start: start, count: count}, nil
		case types.Int:
			return &intSeq[int32]{start: start, count: count}, nil
		}
		return &intSeq[int64]{start: start, count: count}, nil
	case t.Kind == types.Float || t.Kind == types.Double:
		lo, hi, err := bounds(o, p, "start", "end", t, nil, nil, floatLess)
		if err != nil {
			return nil, err
		}
		start, end := exec.ToFloat64(lo), exec.ToFloat64(hi)
		if math.IsInf(start, 0) || math.IsNaN(start) || math.IsInf(end, 0) || math.IsNaN(end) {
			return nil, o.errorf("sequence bounds must be finite")
		}
		count := uint64(math.Min(math.Floor(end-start)+1, math.MaxInt64))
		if t.Kind == types.Float {
			return &floatSeq[float32]{start: start, count: count}, nil
		}
		return &floatSeq[float64]{start: start, count: count}, nil
	default: // DECIMAL
		lo, hi, err := bounds(o, p, "start", "end", t, nil, nil, decimalLess)
		if err != nil {
			return nil, err
		}
		step := decimal128.GetScaleMultiplier(t.Scale)
		span := new(big.Int).Sub(hi.(decimal128.Num).BigInt(), lo.(decimal128.Num).BigInt())
		span.Quo(span, step.BigInt())
		count := uint64(math.MaxInt64)
		if span.IsInt64() && span.Int64() < math.MaxInt64 {
			count = uint64(span.Int64()) + 1
		}
		return &decSeq{next: lo.(decimal128.Num), step: step, count: count}, nil
	}
}

func newRandom(o *options, p string, t types.T, r rng) (generator, error) {
	switch {
	case t.IsInteger():
		mn, mx := intRange(t.Kind)
		// Integer to integer casts cannot fail; they give x in t's Go type.
		defLo, _ := exec.CastValue(mn, types.BIGINT, t)
		defHi, _ := exec.CastValue(mx, types.BIGINT, t)
		lo, hi, err := bounds(o, p, "min", "max", t, defLo, defHi, intLess)
		if err != nil {
			return nil, err
		}
		l, h := exec.ToInt64(lo), exec.ToInt64(hi)
		span := uint64(h) - uint64(l) + 1
		switch t.Kind {
		case types.TinyInt:
			return &intRand[int8]{r: r, lo: l, span: span}, nil
		case types.SmallInt:
			return &intRand[int16]{r: r, lo: l, span: span}, nil
		case types.Int:
			return &intRand[int32]{r: r, lo: l, span: span}, nil
		}
		return &intRand[int64]{r: r, lo: l, span: span}, nil
	case t.Kind == types.Float || t.Kind == types.Double:
		var defLo, defHi any = -math.MaxFloat64, math.MaxFloat64
		if t.Kind == types.Float {
			defLo, defHi = float32(-math.MaxFloat32), float32(math.MaxFloat32)
		}
		lo, hi, err := bounds(o, p, "min", "max", t, defLo, defHi, floatLess)
		if err != nil {
			return nil, err
		}
		l, h := exec.ToFloat64(lo), exec.ToFloat64(hi)
		for k, v := range map[string]float64{"min": l, "max": h} {
			if _, ok := o.m[p+k]; ok && (math.IsInf(v, 0) || math.IsNaN(v)) {
				return nil, o.bad(p+k, "must be a finite number")
			}
		}
		if t.Kind == types.Float {
			return &floatRand[float32]{r: r, lo: l, hi: h}, nil
		}
		return &floatRand[float64]{r: r, lo: l, hi: h}, nil
	case t.Kind == types.Decimal:
		m := decimal128.GetMaxValue(int32(t.Precision))
		lo, hi, err := bounds(o, p, "min", "max", t, m.Negate(), m, decimalLess)
		if err != nil {
			return nil, err
		}
		g := &decRand{r: r, lo: lo.(decimal128.Num)}
		span := new(big.Int).Sub(hi.(decimal128.Num).BigInt(), g.lo.BigInt())
		span.Add(span, big.NewInt(1))
		if span.IsUint64() {
			g.span = span.Uint64()
		} else {
			g.bigSpan = span
		}
		return g, nil
	case t.IsString() || t.IsBinary():
		fixed := t.Kind == types.Char || t.Kind == types.Binary
		length := min(100, t.Length)
		if fixed {
			length = t.Length
		}
		if v, ok := o.get(p + "length"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			switch {
			case err != nil || n < 0:
				return nil, o.bad(p+"length", "must be a whole number >= 0")
			case fixed && n != t.Length:
				return nil, o.bad(p+"length", "a %s column always has length %d", plainType(t), t.Length)
			case n > t.Length:
				return nil, o.bad(p+"length", "must be at most %d, the length of %s", t.Length, plainType(t))
			}
			length = n
		}
		varLen := false
		if v, ok := o.get(p + "var-len"); ok {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true":
				varLen = true
			case "false":
			default:
				return nil, o.bad(p+"var-len", "must be 'true' or 'false'")
			}
		}
		return &bytesRand{r: r, length: length, varLen: varLen, hex: t.IsString()}, nil
	case t.Kind == types.Boolean:
		return &boolRand{r: r}, nil
	case t.Kind == types.Date:
		return &dateNow{}, nil
	case t.Kind == types.Time:
		return &timeNow{precision: t.Precision}, nil
	default: // TIMESTAMP, TIMESTAMP_LTZ
		g := &tsPast{r: r, precision: t.Precision}
		if _, ok := o.get(p + "max-past"); ok {
			// A Duration option in Flink, parsed as every duration is.
			d, err := config.ParseDuration(o.m[p+"max-past"])
			if err != nil {
				return nil, o.bad(p+"max-past", "must be %s", config.DurationFormat)
			}
			g.maxPast = d
		}
		return g, nil
	}
}

func (d *datagen) Schema() types.Schema { return d.schema }
func (d *datagen) Close() error         { return nil }
func (d *datagen) Rows() int64          { return d.emitted }

// Next returns the next batch, after waiting as long as 'rows-per-second'
// requires: the batch that ends with row k is returned no earlier than k /
// rate seconds after the first call.
func (d *datagen) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := int64(d.batchSize)
	if d.total >= 0 {
		n = min(n, d.total-d.emitted)
	}
	for _, c := range d.cols {
		if l := c.gen.left(); l >= 0 {
			n = min(n, l)
		}
	}
	if d.rate > 0 {
		n = min(n, max(1, int64(d.rate/10)))
	}
	if n <= 0 {
		return nil, io.EOF
	}
	if d.rate > 0 {
		if d.start.IsZero() {
			d.start = time.Now()
		}
		due := d.start.Add(time.Duration(float64(d.emitted+n) / d.rate * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
	}
	cols := make([]arrow.Array, len(d.cols))
	for i, c := range d.cols {
		cols[i] = c.next(d.mem, int(n))
	}
	d.emitted += n
	b := array.NewRecordBatch(d.arrow, cols, n)
	for _, a := range cols {
		a.Release()
	}
	return b, nil
}

// next generates n values and their NULLs.
func (c *genColumn) next(mem memory.Allocator, n int) arrow.Array {
	bufs := c.gen.fill(mem, n)
	var valid *memory.Buffer
	nulls := 0
	if c.nullRate > 0 {
		var bits []byte
		valid, bits = exec.AllocBitmap(mem, n)
		for i := 0; i < n; i++ {
			if c.threshold != 0 && c.nulls.next() >= c.threshold {
				bitutil.SetBit(bits, i)
			}
		}
		nulls = n - bitutil.CountSetBits(bits, 0, n)
	}
	return exec.MakeArray(c.dt, n, append([]*memory.Buffer{valid}, bufs...), nulls)
}

// rng is the SplitMix64 generator: small, fast and good enough for test data.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += splitmixGamma
	return splitmix(r.s)
}

const splitmixGamma = 0x9E3779B97F4A7C15

// splitmix is the output of SplitMix64 for state s. Loops that keep the
// state in a local variable (s += splitmixGamma; splitmix(s)) keep it in a
// register, where r.next() in a loop keeps it in memory: a store and a load
// in the chain from one value to the next.
func splitmix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// bounded returns a number in [0, span), or any number when span is 0 (2^64).
func (r *rng) bounded(span uint64) uint64 {
	x := r.next()
	if span == 0 {
		return x
	}
	hi, _ := bits.Mul64(x, span)
	return hi
}

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) * 0x1p-53 }

type integer interface {
	~int8 | ~int16 | ~int32 | ~int64
}

// intSeq counts from start, count values in all.
type intSeq[T integer] struct {
	start      int64
	pos, count uint64
}

func (g *intSeq[T]) left() int64 { return int64(min(g.count-g.pos, math.MaxInt64)) }

func (g *intSeq[T]) fill(mem memory.Allocator, n int) []*memory.Buffer {
	buf, out := exec.AllocValues[T](mem, n)
	base := g.start + int64(g.pos)
	for i := range out {
		out[i] = T(base + int64(i))
	}
	g.pos += uint64(n)
	return []*memory.Buffer{buf}
}

type intRand[T integer] struct {
	r    rng
	lo   int64
	span uint64
}

func (g *intRand[T]) left() int64 { return -1 }

func (g *intRand[T]) fill(mem memory.Allocator, n int) []*memory.Buffer {
	buf, out := exec.AllocValues[T](mem, n)
	st, lo, span := g.r.s, g.lo, g.span
	if span == 0 {
		for i := range out {
			st += splitmixGamma
			out[i] = T(splitmix(st))
		}
	} else {
		done := 0
		if o, ok := any(out).([]int32); ok {
			// Eight at a time where the CPU can (datagen_amd64.s).
			done = fillBounded32(o, st, lo, span)
			st += uint64(done) * splitmixGamma
		}
		for i := done; i < len(out); i++ {
			st += splitmixGamma
			hi, _ := bits.Mul64(splitmix(st), span)
			out[i] = T(lo + int64(hi))
		}
	}
	g.r.s = st
	return []*memory.Buffer{buf}
}

type floatSeq[T float32 | float64] struct {
	start      float64
	pos, count uint64
}

func (g *floatSeq[T]) left() int64 { return int64(min(g.count-g.pos, math.MaxInt64)) }

func (g *floatSeq[T]) fill(mem memory.Allocator, n int) []*memory.Buffer {
	buf, out := exec.AllocValues[T](mem, n)
	for i := range out {
		out[i] = T(g.start + float64(g.pos+uint64(i)))
	}
	g.pos += uint64(n)
	return []*memory.Buffer{buf}
}

type floatRand[T float32 | float64] struct {
	r      rng
	lo, hi float64
}

func (g *floatRand[T]) left() int64 { return -1 }

func (g *floatRand[T]) fill(mem memory.Allocator, n int) []*memory.Buffer {
	buf, out := exec.AllocValues[T](mem, n)
	for i := range out {
		u := g.r.float()
		v := g.lo*(1-u) + g.hi*u // no overflow, unlike lo + (hi-lo)*u
		v = math.Min(math.Max(v, g.lo), g.hi)
		out[i] = T(v)
	}
	return []*memory.Buffer{buf}
}

type decSeq struct {
	next, step decimal128.Num
	pos, count uint64
}

func (g *decSeq) left() int64 { return int64(min(g.count-g.pos, math.MaxInt64)) }

func (g *decSeq) fill(mem memory.Allocator, n int) []*memory.Buffer {
	buf, out := exec.AllocValues[decimal128.Num](mem, n)
	for i := range out {
		out[i] = g.next
		g.next = g.next.Add(g.step)
	}
	g.pos += uint64(n)
	return []*memory.Buffer{buf}
}

type decRand struct {
	r       rng
	lo      decimal128.Num
	span    uint64   // when the range fits 64 bits
	bigSpan *big.Int // otherwise
}

func (g *decRand) left() int64 { return -1 }

func (g *decRand) fill(mem memory.Allocator, n int) []*memory.Buffer {
	buf, out := exec.AllocValues[decimal128.Num](mem, n)
	if g.bigSpan == nil {
		for i := range out {
			out[i] = g.lo.Add(decimal128.FromU64(g.r.bounded(g.span)))
		}
		return []*memory.Buffer{buf}
	}
	x, lo := new(big.Int), g.lo.BigInt()
	for i := range out {
		x.SetUint64(g.r.next())
		x.Lsh(x, 64)
		x.Or(x, new(big.Int).SetUint64(g.r.next()))
		x.Mod(x, g.bigSpan)
		out[i] = decimal128.FromBigInt(x.Add(x, lo))
	}
	return []*memory.Buffer{buf}
}

// boolRand uses each random bit once, whatever the batch sizes.
type boolRand struct {
	r         rng
	bits      uint64
	available int
}

func (g *boolRand) left() int64 { return -1 }

func (g *boolRand) fill(mem memory.Allocator, n int) []*memory.Buffer {
	buf, out := exec.AllocBitmap(mem, n)
	for i := 0; i < n; i++ {
		if g.available == 0 {
			g.bits, g.available = g.r.next(), 64
		}
		if g.bits&1 != 0 {
			bitutil.SetBit(out, i)
		}
		g.bits >>= 1
		g.available--
	}
	return []*memory.Buffer{buf}
}

// strSeq generates the decimal text of a counter.
type strSeq struct {
	start      int64
	pos, count uint64
}

func (g *strSeq) left() int64 { return int64(min(g.count-g.pos, math.MaxInt64)) }

func (g *strSeq) fill(mem memory.Allocator, n int) []*memory.Buffer {
	obuf, offs := exec.AllocValues[int32](mem, n+1)
	data := make([]byte, 0, n*8)
	base := g.start + int64(g.pos)
	for i := 0; i < n; i++ {
		offs[i] = int32(len(data))
		data = strconv.AppendInt(data, base+int64(i), 10)
	}
	offs[n] = int32(len(data))
	g.pos += uint64(n)
	dbuf := memory.NewResizableBuffer(mem)
	dbuf.Resize(len(data))
	copy(dbuf.Bytes(), data)
	return []*memory.Buffer{obuf, dbuf}
}

// bytesRand generates random bytes, or hexadecimal digits for strings.
type bytesRand struct {
	r      rng
	length int
	varLen bool
	hex    bool
}

func (g *bytesRand) left() int64 { return -1 }

const hexDigits = "0123456789abcdef"

func (g *bytesRand) fill(mem memory.Allocator, n int) []*memory.Buffer {
	obuf, offs := exec.AllocValues[int32](mem, n+1)
	data := make([]byte, 0, n*g.length)
	for i := 0; i < n; i++ {
		offs[i] = int32(len(data))
		l := g.length
		if g.varLen && l > 1 {
			l = 1 + int(g.r.bounded(uint64(l)))
		}
		// Each value takes whole random words, so values do not depend on
		// the batch sizes.
		for k := 0; k < l; k += 8 {
			x := g.r.next()
			for j := k; j < k+8 && j < l; j++ {
				if g.hex {
					data = append(data, hexDigits[x&15])
				} else {
					data = append(data, byte(x))
				}
				x >>= 8
			}
		}
	}
	offs[n] = int32(len(data))
	dbuf := memory.NewResizableBuffer(mem)
	dbuf.Resize(len(data))
	copy(dbuf.Bytes(), data)
	return []*memory.Buffer{obuf, dbuf}
}

// now is the clock of the generators of dates and times.
var now = time.Now

type dateNow struct{}

func (g *dateNow) left() int64 { return -1 }

func (g *dateNow) fill(mem memory.Allocator, n int) []*memory.Buffer {
	buf, out := exec.AllocValues[arrow.Date32](mem, n)
	d := arrow.Date32(now().Unix() / 86400)
	for i := range out {
		out[i] = d
	}
	return []*memory.Buffer{buf}
}

type timeNow struct{ precision int }

func (g *timeNow) left() int64 { return -1 }

func (g *timeNow) fill(mem memory.Allocator, n int) []*memory.Buffer {
	buf, out := exec.AllocValues[arrow.Time32](mem, n)
	ms := now().UnixMilli() % 86400_000
	if g.precision < 3 {
		m := int64(math.Pow10(3 - g.precision))
		ms -= ms % m
	}
	for i := range out {
		out[i] = arrow.Time32(ms)
	}
	return []*memory.Buffer{buf}
}

type tsPast struct {
	r         rng
	precision int
	maxPast   time.Duration
}

func (g *tsPast) left() int64 { return -1 }

func (g *tsPast) fill(mem memory.Allocator, n int) []*memory.Buffer {
	buf, out := exec.AllocValues[arrow.Timestamp](mem, n)
	t := now().UnixNano()
	per := int64(1e6) // nanoseconds per unit
	switch types.TimestampUnit(g.precision) {
	case arrow.Microsecond:
		per = 1e3
	case arrow.Nanosecond:
		per = 1
	}
	trunc := int64(1)
	if g.precision < 9 {
		trunc = int64(math.Pow10(9 - g.precision))
	}
	for i := range out {
		v := t
		if g.maxPast > 0 {
			v -= int64(g.r.bounded(uint64(g.maxPast) + 1))
		}
		v -= ((v % trunc) + trunc) % trunc
		out[i] = arrow.Timestamp(v / per)
	}
	return []*memory.Buffer{buf}
}
