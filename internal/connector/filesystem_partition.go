package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/spill"
	"github.com/weir-dev/weir/internal/types"
)

// Partitioned filesystem tables, as Flink lays them out: a table
// PARTITIONED BY (k1, k2) keeps its rows in directories 'k1=v1/k2=v2/'
// under 'path', and its files hold only the other columns. A value is
// named as Flink names it (the text of its internal form: a DATE as its
// days since 1970-01-01, a TIME as its milliseconds of the day, a
// TIMESTAMP as java.time's LocalDateTime text '2024-01-02T03:04:05.678'),
// with Flink's escaping (%XX for control characters and "#%'*/:=?[\]^{}
// and DEL); NULL and the empty string are 'partition.default-name'
// (default __DEFAULT_PARTITION__). Readers take a DATE, TIME or TIMESTAMP
// written in either form (ISO text or Flink's numbers).
//
// A source finds the partition directories exactly as deep as there are
// keys, reads the files under each, and fills the partition columns from
// the directory names, typed as declared. A sink sends each row to its
// partition's part file; INSERT OVERWRITE replaces only the partitions it
// writes rows to, as Flink's does.
//
// The planner passes the keys and an INSERT's static partition in the
// options '$partition-keys' and '$static-partition' (internal/plan's
// partitions.go).

const (
	partitionKeysOption   = "$partition-keys"
	staticPartitionOption = "$static-partition"
	partitionFilterOption = "$partition-filter" // the values a query's filter allows, per key
	defaultPartitionName  = "__DEFAULT_PARTITION__"
)

// partitioning is a table's partition keys and an INSERT's static values.
type partitioning struct {
	keys        []string
	keyCols     []int             // each key's column in the table's schema
	static      map[string]string // key -> value as the statement spells it
	defaultName string
	// allowed are the values a query's filter allows (as text), per key.
	allowed map[string][]string
}

// readPartitioning reads the partition options; nil for a table without
// partitions.
func readPartitioning(o *options, schema types.Schema) (*partitioning, error) {
	raw, ok := o.get(partitionKeysOption)
	name, hasName := o.get("partition.default-name")
	if !ok {
		return nil, nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil || len(q["key"]) == 0 {
		return nil, fmt.Errorf("table '%s': malformed partition keys %q", o.table, raw)
	}
	p := &partitioning{keys: q["key"], defaultName: defaultPartitionName}
	if hasName {
		if name == "" || strings.ContainsAny(name, "/=") {
			return nil, o.bad("partition.default-name", "must be a non-empty name without '/' or '='")
		}
		p.defaultName = name
	}
	for _, k := range p.keys {
		// -1 for a key a source does not read (the planner's projection).
		p.keyCols = append(p.keyCols, schema.Index(k))
	}
	if f, ok := o.get(partitionFilterOption); ok && f != "" {
		q, err := url.ParseQuery(f)
		if err != nil {
			return nil, fmt.Errorf("table '%s': malformed partition filter %q", o.table, f)
		}
		p.allowed = q
	}
	if s, ok := o.get(staticPartitionOption); ok && s != "" {
		sq, err := url.ParseQuery(s)
		if err != nil {
			return nil, fmt.Errorf("table '%s': malformed static partition %q", o.table, s)
		}
		p.static = map[string]string{}
		for k, v := range sq {
			p.static[k] = v[0]
		}
	}
	return p, nil
}

// isKey reports whether column name is a partition key.
func (p *partitioning) isKey(name string) bool {
	for _, k := range p.keys {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// dataSchema is the columns of schema the files hold: the non-key ones.
func (p *partitioning) dataSchema(schema types.Schema) (types.Schema, []int) {
	var out types.Schema
	var cols []int
	for i, f := range schema {
		if !p.isKey(f.Name) {
			out = append(out, f)
			cols = append(cols, i)
		}
	}
	return out, cols
}

// escapePartitionValue escapes a value for a directory name as Flink does.
func escapePartitionValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || strings.IndexByte("\"#%'*/:=?[\\]^{}", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// unescapePartitionValue undoes escapePartitionValue; a '%' not followed by
// two hex digits stays as it is.
func unescapePartitionValue(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// partitionText is a non-NULL value of t as Flink names its partition.
func partitionText(v any, t types.T) string {
	switch t.Kind {
	case types.Date:
		return strconv.FormatInt(int64(v.(arrow.Date32)), 10)
	case types.Time:
		return strconv.FormatInt(int64(v.(arrow.Time32)), 10)
	case types.Timestamp, types.TimestampLTZ:
		return localDateTimeText(int64(v.(arrow.Timestamp)), types.TimestampUnit(t.Precision))
	case types.Boolean:
		return strconv.FormatBool(v.(bool))
	}
	return csvText(v, t)
}

// localDateTimeText renders a timestamp as java.time.LocalDateTime's
// toString: seconds only when not zero, the fraction in 3, 6 or 9 digits.
func localDateTimeText(v int64, unit arrow.TimeUnit) string {
	per := unitsPerSecond(unit)
	sec := floorDiv(v, per)
	nanos := (v - sec*per) * (1e9 / per)
	t := time.Unix(sec, 0).UTC()
	var b []byte
	y := t.Year()
	switch {
	case y > 9999:
		b = append(b, '+')
		b = strconv.AppendInt(b, int64(y), 10)
	case y < 0:
		b = append(b, '-')
		b = exec.AppendPadded(b, int64(-y), 4)
	default:
		b = exec.AppendPadded(b, int64(y), 4)
	}
	b = append(b, '-')
	b = exec.AppendPadded(b, int64(t.Month()), 2)
	b = append(b, '-')
	b = exec.AppendPadded(b, int64(t.Day()), 2)
	b = append(b, 'T')
	b = exec.AppendPadded(b, int64(t.Hour()), 2)
	b = append(b, ':')
	b = exec.AppendPadded(b, int64(t.Minute()), 2)
	if t.Second() != 0 || nanos != 0 {
		b = append(b, ':')
		b = exec.AppendPadded(b, int64(t.Second()), 2)
		switch {
		case nanos == 0:
		case nanos%1e6 == 0:
			b = append(b, '.')
			b = exec.AppendPadded(b, nanos/1e6, 3)
		case nanos%1e3 == 0:
			b = append(b, '.')
			b = exec.AppendPadded(b, nanos/1e3, 6)
		default:
			b = append(b, '.')
			b = exec.AppendPadded(b, nanos, 9)
		}
	}
	return string(b)
}

// partitionValue reads a partition directory's value as type t (nil for the
// default partition).
func (p *partitioning) partitionValue(text string, t types.T) (any, error) {
	if text == p.defaultName {
		return nil, nil
	}
	s := unescapePartitionValue(text)
	if t.IsString() {
		return exec.CastValue(s, types.STRING, t)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch t.Kind {
		case types.Date: // Flink's days since the epoch
			if n >= -1<<31 && n < 1<<31 {
				return arrow.Date32(n), nil
			}
		case types.Time: // Flink's milliseconds of the day
			if n >= 0 && n < 86400000 {
				return arrow.Time32(n), nil
			}
		}
	}
	from := types.STRING
	if t.Kind == types.Timestamp || t.Kind == types.TimestampLTZ {
		// LocalDateTime's text; a TIMESTAMP_LTZ's is its UTC time.
		s = strings.Replace(s, "T", " ", 1)
		v, err := exec.CastValue(s, from, types.TIMESTAMP(t.Precision).WithNullable(true))
		if err == nil && v == nil {
			err = fmt.Errorf("'%s' is not a %s", clip(s), t)
		}
		return v, err
	}
	v, err := exec.CastValue(s, from, t.WithNullable(true))
	if err == nil && v == nil {
		err = fmt.Errorf("'%s' is not a %s", clip(s), plainType(t))
	}
	return v, err
}

// partitionDir is a partition's directory and its values as on disk.
type partitionDir struct {
	path   string
	values []string
}

// listPartitions finds the partition directories of a table at root:
// exactly len(keys) levels of 'key=value' directories, in name order.
// Hidden entries are skipped; anything else above that depth is an error
// naming it (Flink fails on it too).
func (p *partitioning) listPartitions(table, root string) ([]partitionDir, error) {
	var out []partitionDir
	var walk func(dir string, values []string) error
	walk = func(dir string, values []string) error {
		level := len(values)
		if level == len(p.keys) {
			out = append(out, partitionDir{path: dir, values: append([]string(nil), values...)})
			return nil
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		want := p.keys[level]
		for _, e := range entries {
			name := e.Name()
			if hidden(name) {
				continue
			}
			path := filepath.Join(dir, name)
			st, err := os.Stat(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			key, val, ok := strings.Cut(name, "=")
			if !st.IsDir() || !ok || !strings.EqualFold(key, want) {
				what := "file"
				if st.IsDir() {
					what = "directory"
				}
				return fmt.Errorf("table '%s': %s '%s' is not a partition directory '%s=<value>' (the table is PARTITIONED BY (%s)); move it out of the table's path",
					table, what, path, want, strings.Join(p.keys, ", "))
			}
			if err := walk(path, append(values, val)); err != nil {
				return err
			}
		}
		return nil
	}
	st, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("table '%s': filesystem 'path' = '%s' does not exist; fix the path, or write the table first", table, root)
	}
	if err != nil {
		return nil, fmt.Errorf("table '%s': %w", table, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("table '%s': filesystem 'path' = '%s' is a file, but a partitioned table is a directory of 'key=value' directories", table, root)
	}
	if err := walk(root, nil); err != nil {
		if strings.HasPrefix(err.Error(), "table '") {
			return nil, err
		}
		return nil, fmt.Errorf("table '%s': listing the partitions of '%s': %w", table, root, err)
	}
	return out, nil
}

// partitionedSource reads a partitioned table: the files of each partition
// directory through the format's own source (of the data columns the
// schema asks for), with the partition columns filled from the directory
// names.
type partitionedSource struct {
	table  string
	schema types.Schema // the columns it returns
	arrow  *arrow.Schema
	part   *partitioning
	parts  []partitionDir
	// open opens the format's source of the data columns over one directory.
	open     func(dir string) (exec.Source, error)
	dataCols []int // for each column of schema, its column in the inner batches, or -1 for a key
	keyOf    []int // for each column of schema, its key's index, or -1
	cur      exec.Source
	curPath  string // the current (or last) partition's directory
	curVals  []any  // the current partition's value for each column of schema that is a key
	mem      memory.Allocator
	rows     int64
	closed   bool
}

func (s *partitionedSource) Schema() types.Schema { return s.schema }
func (s *partitionedSource) Rows() int64          { return s.rows }

func (s *partitionedSource) Close() error {
	s.closed = true
	s.parts = nil
	if s.cur != nil {
		err := s.cur.Close()
		s.cur = nil
		return err
	}
	return nil
}

func (s *partitionedSource) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed {
		return nil, fmt.Errorf("table '%s': source is closed", s.table)
	}
	for {
		if s.cur == nil {
			if len(s.parts) == 0 {
				return nil, io.EOF
			}
			if err := s.openPart(); err != nil {
				return nil, err
			}
		}
		b, err := s.cur.Next(ctx)
		if err == io.EOF {
			cerr := s.cur.Close()
			s.cur = nil
			if cerr != nil {
				return nil, fmt.Errorf("table '%s': %w", s.table, cerr)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		out, err := s.withKeys(b)
		b.Release()
		if err != nil {
			return nil, err
		}
		s.rows += out.NumRows()
		return out, nil
	}
}

// openPart opens the source of the next partition directory.
func (s *partitionedSource) openPart() error {
	pd := s.parts[0]
	s.parts = s.parts[1:]
	vals := make([]any, len(s.schema))
	for j, k := range s.keyOf {
		if k < 0 {
			continue
		}
		v, err := s.part.partitionValue(pd.values[k], s.schema[j].Type)
		if err != nil {
			return fmt.Errorf("table '%s': partition directory '%s': column '%s': %v", s.table, pd.path, s.schema[j].Name, err)
		}
		if v == nil && !s.schema[j].Type.Nullable {
			return fmt.Errorf("table '%s': partition directory '%s' is the default partition (NULL), but column '%s' is declared NOT NULL; declare it without NOT NULL", s.table, pd.path, s.schema[j].Name)
		}
		vals[j] = v
	}
	src, err := s.open(pd.path)
	if err != nil {
		return err
	}
	s.cur, s.curVals, s.curPath = src, vals, pd.path
	return nil
}

// withKeys puts the partition columns beside a batch of data columns.
func (s *partitionedSource) withKeys(b arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := int(b.NumRows())
	cols := make([]arrow.Array, len(s.schema))
	for j := range s.schema {
		if c := s.dataCols[j]; c >= 0 {
			cols[j] = b.Column(c)
			cols[j].Retain()
			continue
		}
		vals := make([]any, n)
		for i := range vals {
			vals[i] = s.curVals[j]
		}
		a, err := exec.BuildArray(s.mem, s.schema[j].Type, vals)
		if err != nil {
			for _, c := range cols[:j] {
				if c != nil {
					c.Release()
				}
			}
			return nil, fmt.Errorf("table '%s': column '%s': %w", s.table, s.schema[j].Name, err)
		}
		cols[j] = a
	}
	rec := array.NewRecordBatch(s.arrow, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec, nil
}

// newPartitionedSource lists the partitions of the table at root; open
// opens the format's source of the given data columns over a directory.
func newPartitionedSource(table, root string, schema types.Schema, part *partitioning, mem memory.Allocator,
	open func(dir string, data types.Schema) (exec.Source, error)) (*partitionedSource, error) {
	s := &partitionedSource{table: table, schema: schema, arrow: schema.Arrow(), part: part, mem: mem}
	var data types.Schema
	for _, f := range schema {
		k := -1
		for i, key := range part.keys {
			if strings.EqualFold(key, f.Name) {
				k = i
			}
		}
		s.keyOf = append(s.keyOf, k)
		if k >= 0 {
			s.dataCols = append(s.dataCols, -1)
			continue
		}
		s.dataCols = append(s.dataCols, len(data))
		data = append(data, f)
	}
	parts, err := part.listPartitions(table, root)
	if err != nil {
		return nil, err
	}
	if s.parts, err = part.prune(parts, schema); err != nil {
		return nil, fmt.Errorf("table '%s': %w", table, err)
	}
	s.open = func(dir string) (exec.Source, error) { return open(dir, data) }
	return s, nil
}

// partitionedSink writes each row into its partition's writer.
type partitionedSink struct {
	table     string
	schema    types.Schema // the table's
	data      types.Schema // the columns the files hold
	dataCols  []int
	part      *partitioning
	root      string
	overwrite bool
	open      func(dir string) (partWriter, error)
	writers   map[string]partWriter // by directory
	order     []string
	mem       memory.Allocator
	rows      int64
	closed    bool
}

// partWriter writes the part files of one directory.
type partWriter interface {
	exec.Sink
	exec.Counter
}

// dirOf returns the partition directory of row i of b.
func (s *partitionedSink) dirOf(cols []arrow.Array, i int, b *strings.Builder) string {
	b.Reset()
	b.WriteString(s.root)
	for k, key := range s.part.keys {
		b.WriteByte('/')
		b.WriteString(key)
		b.WriteByte('=')
		if v, ok := s.part.static[key]; ok {
			if v == "" {
				v = s.part.defaultName
			} else {
				v = escapePartitionValue(v)
			}
			b.WriteString(v)
			continue
		}
		c := s.part.keyCols[k]
		v := exec.ValueAt(cols[c], i)
		text := ""
		if v != nil {
			text = partitionText(v, s.schema[c].Type)
		}
		if text == "" {
			b.WriteString(s.part.defaultName)
		} else {
			b.WriteString(escapePartitionValue(text))
		}
	}
	return b.String()
}

func (s *partitionedSink) writer(dir string) (partWriter, error) {
	if w, ok := s.writers[dir]; ok {
		return w, nil
	}
	w, err := s.open(dir)
	if err != nil {
		return nil, err
	}
	s.writers[dir] = w
	s.order = append(s.order, dir)
	return w, nil
}

func (s *partitionedSink) Write(ctx context.Context, b arrow.RecordBatch) error {
	if s.closed {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if int(b.NumCols()) != len(s.schema) {
		return fmt.Errorf("table '%s': batch has %d columns, the table has %d", s.table, b.NumCols(), len(s.schema))
	}
	n := int(b.NumRows())
	if n == 0 {
		return nil
	}
	cols := b.Columns()
	var sb strings.Builder
	groups := map[string][]int32{}
	var dirs []string
	prev := ""
	for i := 0; i < n; i++ {
		d := s.dirOf(cols, i, &sb)
		if d != prev {
			if _, ok := groups[d]; !ok {
				dirs = append(dirs, d)
			}
			prev = d
		}
		groups[d] = append(groups[d], int32(i))
	}
	dataCols := make([]arrow.Array, len(s.dataCols))
	for j, c := range s.dataCols {
		dataCols[j] = cols[c]
	}
	whole := array.NewRecordBatch(s.data.Arrow(), dataCols, int64(n))
	defer whole.Release()
	for _, d := range dirs {
		w, err := s.writer(d)
		if err != nil {
			return err
		}
		idx := groups[d]
		part := whole
		if len(idx) != n {
			if part, err = spill.Take(ctx, s.mem, whole, idx); err != nil {
				return fmt.Errorf("table '%s': %w", s.table, err)
			}
		}
		err = w.Write(ctx, part)
		if len(idx) != n {
			part.Release()
		}
		if err != nil {
			return err
		}
	}
	s.rows += int64(n)
	return nil
}

// Commit commits every partition's files. An INSERT OVERWRITE replaces
// the partitions it wrote rows to; one that wrote none changes nothing, as
// in Flink 2.3 (even for a static partition).
func (s *partitionedSink) Commit() error {
	if s.closed {
		return errClosed
	}
	s.closed = true
	for i, d := range s.order {
		if err := s.writers[d].Commit(); err != nil {
			for _, rest := range s.order[i+1:] {
				s.writers[rest].Abort(err)
			}
			return err
		}
	}
	return nil
}

func (s *partitionedSink) Abort(cause error) {
	if s.closed {
		return
	}
	s.closed = true
	for _, d := range s.order {
		s.writers[d].Abort(cause)
	}
}

func (s *partitionedSink) Rows() int64 { return s.rows }

// innerOptions are a partitioned table's options for the format's source
// or sink of one partition directory.
func innerOptions(o *options, dir string) *options {
	m := make(map[string]string, len(o.m))
	for k, v := range o.m {
		switch k {
		case partitionKeysOption, staticPartitionOption, partitionFilterOption, "partition.default-name", streamingOption,
			rollingOptions[0], rollingOptions[1], rollingOptions[2], rollingOptions[3]:
		default:
			m[k] = v
		}
	}
	m["path"] = dir
	return newOptions(o.table, o.connector, m)
}

// checkFormatOptions checks a partitioned table's format options upfront
// (its partitions open their sources and sinks later), with a probe that
// opens nothing.
func checkFormatOptions(o *options, data types.Schema) error {
	in := innerOptions(o, "unused")
	switch in.m["format"] {
	case "json":
		in.get("path")
		in.get("format")
		_, err := openFileJSON(in, data)
		return err
	case "parquet":
		in.get("path")
		in.get("format")
		_, err := readParquetConfig(in, data)
		return err
	default:
		_, err := readCSVConfig(in, data)
		return err
	}
}

// openPartitionedSource opens the source of a partitioned table.
func openPartitionedSource(o *options, part *partitioning, schema types.Schema, batchSize int, mem memory.Allocator) (exec.Source, error) {
	root, err := readFilePath(o)
	if err != nil {
		return nil, err
	}
	data, _ := part.dataSchema(schema)
	if err := checkFormatOptions(o, data); err != nil {
		return nil, err
	}
	s, err := newPartitionedSource(o.table, root, schema, part, mem, func(dir string, data types.Schema) (exec.Source, error) {
		return openFileSource(innerOptions(o, dir), data, batchSize, mem)
	})
	if err != nil {
		return nil, err // not a nil *partitionedSource in an interface
	}
	return s, nil
}

// openPartitionedSink opens the sink of a partitioned table.
func openPartitionedSink(o *options, part *partitioning, schema types.Schema, overwrite bool) (exec.Sink, error) {
	root, err := readFilePath(o)
	if err != nil {
		return nil, err
	}
	for k, c := range part.keyCols {
		if c < 0 {
			return nil, fmt.Errorf("table '%s': partition column '%s' is not a column of the table", o.table, part.keys[k])
		}
	}
	data, dataCols := part.dataSchema(schema)
	if err := checkFormatOptions(o, data); err != nil {
		return nil, err
	}
	if err := prepareSinkDir(o.table, root); err != nil {
		return nil, err
	}
	s := &partitionedSink{table: o.table, schema: schema, data: data, dataCols: dataCols, part: part, root: root,
		overwrite: overwrite, writers: map[string]partWriter{}, mem: memory.DefaultAllocator}
	s.open = func(dir string) (partWriter, error) {
		w, err := openFileSink(innerOptions(o, dir), data, overwrite)
		if err != nil {
			return nil, err
		}
		return w.(partWriter), nil
	}
	return s, nil
}

// prune keeps the partitions whose values the query's filter allows (keys
// the source does not read are not pruned on).
func (p *partitioning) prune(parts []partitionDir, schema types.Schema) ([]partitionDir, error) {
	if len(p.allowed) == 0 {
		return parts, nil
	}
	type rule struct {
		k    int
		t    types.T
		vals []any
	}
	var rules []rule
	for k, key := range p.keys {
		texts, ok := p.allowed[key]
		c := schema.Index(key)
		if !ok || c < 0 {
			continue
		}
		r := rule{k: k, t: schema[c].Type}
		for _, text := range texts {
			v, err := p.partitionValue(escapePartitionValue(text), r.t)
			if err != nil || v == nil {
				return parts, nil // a value that is not one: read everything, the filter decides
			}
			r.vals = append(r.vals, v)
		}
		rules = append(rules, r)
	}
	var out []partitionDir
next:
	for _, pd := range parts {
		for _, r := range rules {
			v, err := p.partitionValue(pd.values[r.k], r.t)
			if err != nil {
				return nil, fmt.Errorf("partition directory '%s': column '%s': %v", pd.path, p.keys[r.k], err)
			}
			if v == nil || !slices.ContainsFunc(r.vals, func(x any) bool { return x == v }) {
				continue next
			}
		}
		out = append(out, pd)
	}
	return out, nil
}
