package connector

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/klauspost/compress/s2"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// The filesystem connector's 'parquet' format, with arrow-go's Parquet, in
// Flink's type mapping: STRING and CHAR/VARCHAR as BINARY (UTF8),
// BINARY/VARBINARY as BINARY, BOOLEAN, TINYINT and SMALLINT as INT32
// (INT_8, INT_16), INT, BIGINT, FLOAT, DOUBLE, DECIMAL as
// FIXED_LEN_BYTE_ARRAY (DECIMAL), DATE as INT32 (DATE), TIME as INT32
// (TIME_MILLIS), and TIMESTAMP and TIMESTAMP_LTZ as INT96 whatever their
// precision. INT96 holds nanoseconds, so a written timestamp must lie in
// 1677-09-22 .. 2262-04-11 (Arrow's nanosecond range); weir refuses others.
// Intervals, ARRAY, MAP and ROW columns are refused.
//
// Columns are matched by name; a column the file lacks reads as NULL (as
// in Flink). Reading also takes the Parquet timestamp logical types
// (INT64 millis, micros, nanos) for TIMESTAMP columns.
//
// Options:
//   - parquet.utc-timezone (false): as in Flink, a TIMESTAMP (without time
//     zone) is stored in INT96 as the instant its wall time has in the
//     machine's time zone (the TZ environment variable), or in UTC with
//     true. TIMESTAMP_LTZ is an instant and stored as it is.
//   - parquet.compression ('snappy'): 'uncompressed', 'snappy', 'gzip' or
//     'zstd' for written files.
//
// A reader streams the files one row group at a time, decoding only the
// columns the source's schema names (see parquetSource.project). A writer
// buffers a row group of up to 16 MB (parquetRowGroupBytes) and
// dictionary-encodes a column only where its first rows show that it pays
// (filesystem_parquet_dict.go).

var parquetOptions = []string{"path", "format", "parquet.utc-timezone", "parquet.compression"}

// fastSnappy writes Snappy blocks at s2's standard speed: arrow-go's codec
// calls klauspost's snappy package, whose Encode uses its slower "better"
// mode (a fifth of the engine's CPU writing Parquet in a profile of
// bench/parquet.py; about 20% less write CPU with this). The output is
// plain Snappy; reading is unchanged.
type fastSnappy struct{ compress.Codec }

func (fastSnappy) Encode(dst, src []byte) []byte             { return s2.EncodeSnappy(dst, src) }
func (fastSnappy) EncodeLevel(dst, src []byte, _ int) []byte { return s2.EncodeSnappy(dst, src) }

func init() {
	if c, err := compress.GetCodec(compress.Codecs.Snappy); err == nil {
		compress.RegisterCodec(compress.Codecs.Snappy, fastSnappy{c})
	}
}

type parquetConfig struct {
	zone  *time.Location // TIMESTAMP's wall times are in zone; nil for UTC
	codec compress.Compression
}

func readParquetConfig(o *options, schema types.Schema) (parquetConfig, error) {
	c := parquetConfig{codec: compress.Codecs.Snappy}
	if v, ok := o.get("parquet.utc-timezone"); ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
		case "false":
			c.zone = time.Local
		default:
			return c, o.bad("parquet.utc-timezone", "must be 'true' or 'false'")
		}
	} else {
		c.zone = time.Local
	}
	if c.zone != nil && c.zone.String() == "UTC" {
		c.zone = nil
	}
	if v, ok := o.get("parquet.compression"); ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "uncompressed", "none":
			c.codec = compress.Codecs.Uncompressed
		case "snappy":
			c.codec = compress.Codecs.Snappy
		case "gzip":
			c.codec = compress.Codecs.Gzip
		case "zstd":
			c.codec = compress.Codecs.Zstd
		default:
			return c, o.bad("parquet.compression", "must be 'uncompressed', 'snappy', 'gzip' or 'zstd'")
		}
	}
	for _, f := range schema {
		switch f.Type.Kind {
		case types.Array, types.Map, types.Row, types.Null, types.Invalid, types.IntervalYearMonth, types.IntervalDayTime:
			return c, fmt.Errorf("table '%s': filesystem parquet does not support column '%s' of type %s in weir (Flink's Parquet mapping has no %s either for reading); use scalar columns", o.table, f.Name, f.Type, f.Type.Kind)
		}
	}
	if err := o.finish(parquetOptions); err != nil {
		return c, err
	}
	return c, nil
}

// parquetRowGroupBytes is when a writer starts a new row group. A row
// group is held in memory until it is complete, and the engine keeps its
// Go heap near 96 MB (cmd/weir): Flink's 'parquet.block.size' default of
// 128 MB made the garbage collector run without pause once a file grew
// past a few tens of MB (half the engine's CPU writing 2M rows in
// bench/parquet.py). Smaller row groups are read alike by every reader.
const parquetRowGroupBytes = 16 << 20

// parquetEncoder writes one Parquet file. It holds the file's first rows
// until it has decided which columns to dictionary-encode
// (filesystem_parquet_dict.go), then opens its Parquet writer.
type parquetEncoder struct {
	schema types.Schema
	file   *arrow.Schema // schema.Arrow() with timestamps in nanoseconds
	w      io.Writer
	codec  compress.Compression
	fw     *pqarrow.FileWriter // nil until the dictionary decision
	zone   *time.Location
	mem    memory.Allocator
	held   []arrow.RecordBatch // the rows before fw opens
	heldN  int64
	heldB  int64 // their buffers' bytes
}

func newParquetEncoder(w io.Writer, schema types.Schema, c parquetConfig) (*parquetEncoder, error) {
	e := &parquetEncoder{schema: schema, zone: c.zone, mem: memory.DefaultAllocator, w: w, codec: c.codec}
	fields := make([]arrow.Field, len(schema))
	for i, f := range schema {
		t := f.Type.Arrow()
		if ts, ok := t.(*arrow.TimestampType); ok {
			t = &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: ts.TimeZone}
		}
		fields[i] = arrow.Field{Name: f.Name, Type: t, Nullable: f.Type.Nullable}
	}
	e.file = arrow.NewSchema(fields, nil)
	return e, nil
}

// open opens the Parquet writer, deciding each column's dictionary
// encoding on the rows held, and writes them.
func (e *parquetEncoder) open() error {
	popts := []parquet.WriterProperty{parquet.WithCompression(e.codec), parquet.WithCreatedBy("weir")}
	for j, f := range e.schema {
		if f.Type.Kind == types.Decimal || len(e.held) > 0 && !dictionaryPays(e.held, j, f.Type) {
			// (Flink's reader fails on dictionary-encoded decimals.)
			popts = append(popts, parquet.WithDictionaryFor(f.Name, false))
		}
	}
	props := parquet.NewWriterProperties(popts...)
	fw, err := pqarrow.NewFileWriter(e.file, e.w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithDeprecatedInt96Timestamps(true)))
	if err != nil {
		return fmt.Errorf("parquet writer: %w", err)
	}
	e.fw = fw
	held := e.held
	e.held, e.heldN, e.heldB = nil, 0, 0
	for i, rec := range held {
		if err := e.writeFile(rec); err != nil {
			for _, r := range held[i:] {
				r.Release()
			}
			return err
		}
		rec.Release()
	}
	return nil
}

func (e *parquetEncoder) write(b arrow.RecordBatch) error {
	cols := make([]arrow.Array, len(e.schema))
	for j, c := range b.Columns() {
		t := e.schema[j].Type
		if t.Kind != types.Timestamp && t.Kind != types.TimestampLTZ {
			c.Retain()
			cols[j] = c
			continue
		}
		zone := e.zone
		if t.Kind == types.TimestampLTZ {
			zone = nil
		}
		a, err := timestampsToNanos(e.mem, c.(*array.Timestamp), types.TimestampUnit(t.Precision), zone, e.file.Field(j).Type)
		if err != nil {
			for _, a := range cols[:j] {
				a.Release()
			}
			return fmt.Errorf("column '%s': %w", e.schema[j].Name, err)
		}
		cols[j] = a
	}
	rec := array.NewRecordBatch(e.file, cols, b.NumRows())
	for _, a := range cols {
		a.Release()
	}
	if e.fw == nil {
		// Held in copies of Go's memory: nothing of the caller's allocator
		// is kept if the file is aborted, and a slice does not pin the
		// batch it was cut from.
		held, err := copyBatch(rec)
		rec.Release()
		if err != nil {
			return err
		}
		rec = held
		e.held = append(e.held, rec)
		e.heldN += rec.NumRows()
		e.heldB += batchBytes(rec)
		if e.heldN < parquetDictSampleRows && e.heldB < parquetDictSampleBytes {
			return nil
		}
		return e.open()
	}
	defer rec.Release()
	return e.writeFile(rec)
}

// writeFile writes rec with the open Parquet writer.
func (e *parquetEncoder) writeFile(rec arrow.RecordBatch) error {
	if err := e.fw.WriteBuffered(rec); err != nil {
		return err
	}
	if e.fw.RowGroupTotalBytesWritten() >= parquetRowGroupBytes {
		return e.fw.NewBufferedRowGroupChecked()
	}
	return nil
}

// size is what the file holds so far: its row group's bytes or, before
// the writer opens, the held rows' memory.
func (e *parquetEncoder) size() int64 {
	if e.fw == nil {
		return e.heldB
	}
	return e.fw.RowGroupTotalBytesWritten()
}

func (e *parquetEncoder) finish() error {
	if e.fw == nil {
		if err := e.open(); err != nil {
			return err
		}
	}
	return e.fw.Close()
}

// unitsPerSecond of an Arrow time unit.
func unitsPerSecond(u arrow.TimeUnit) int64 {
	return [...]int64{arrow.Second: 1, arrow.Millisecond: 1e3, arrow.Microsecond: 1e6, arrow.Nanosecond: 1e9}[u]
}

// timestampsToNanos converts timestamps of unit to nanoseconds, wall times
// in zone to instants when zone is not nil.
func timestampsToNanos(mem memory.Allocator, a *array.Timestamp, unit arrow.TimeUnit, zone *time.Location, to arrow.DataType) (arrow.Array, error) {
	b := array.NewTimestampBuilder(mem, to.(*arrow.TimestampType))
	defer b.Release()
	b.Reserve(a.Len())
	scale := 1e9 / unitsPerSecond(unit)
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		v := int64(a.Value(i))
		if zone != nil {
			v -= zoneOffset(v, unit, zone, true) * unitsPerSecond(unit)
		}
		if v > math.MaxInt64/scale || v < math.MinInt64/scale {
			sec := floorDiv(v, unitsPerSecond(unit))
			return nil, fmt.Errorf("timestamp %s is outside the range Parquet INT96 holds in weir (1677-09-22 to 2262-04-11)",
				time.Unix(sec, 0).UTC().Format("2006-01-02 15:04:05"))
		}
		b.Append(arrow.Timestamp(v * scale))
	}
	return b.NewArray(), nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// zoneOffset returns zone's UTC offset in seconds at v (of unit), taken as
// a wall time (wall) or as an instant.
func zoneOffset(v int64, unit arrow.TimeUnit, zone *time.Location, wall bool) int64 {
	t := time.Unix(floorDiv(v, unitsPerSecond(unit)), 0).UTC()
	if wall {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, zone)
	} else {
		t = t.In(zone)
	}
	_, off := t.Zone()
	return int64(off)
}

// parquetReadBuffer is how much of a column chunk a reader reads at a
// time: it streams pages rather than reading a whole chunk (tens of MB in
// a large row group) into memory.
const parquetReadBuffer = 1 << 20

func parquetReadProps() *parquet.ReaderProperties {
	p := parquet.NewReaderProperties(nil) // Go's memory: arrow-go does not release every page buffer
	p.BufferedStreamEnabled = true
	p.BufferSize = parquetReadBuffer
	return p
}

// parquetSource reads a table's Parquet files one after the other, one row
// group at a time.
type parquetSource struct {
	table     string
	schema    types.Schema // the columns it returns
	arrow     *arrow.Schema
	cfg       parquetConfig
	files     []string
	opened    []*os.File
	path      string // the file being read
	f         *os.File
	rr        pqarrow.RecordReader
	colOf     []int          // for each column of schema, its column in rr's batches, or -1
	int96     []*int96Column // for each column of schema, its INT96 reader, or nil
	mem       memory.Allocator
	batchSize int
	rows      int64
	closed    bool
	pos       filePos // where the source is (filesystem_position.go)
}

func openParquetSource(o *options, path string, schema types.Schema, batchSize int, mem memory.Allocator) (*parquetSource, error) {
	c, err := readParquetConfig(o, schema)
	if err != nil {
		return nil, err
	}
	s := &parquetSource{table: o.table, schema: schema, arrow: schema.Arrow(), cfg: c, mem: mem, batchSize: batchSize}
	if s.files, s.opened, err = listTableFiles(o.table, path); err != nil {
		return nil, err
	}
	return s, nil
}

// project narrows the source to the given columns of its schema, before
// the first Next: the others are not decoded.
func (s *parquetSource) project(cols []int) {
	narrow := make(types.Schema, len(cols))
	for i, c := range cols {
		narrow[i] = s.schema[c]
	}
	s.schema, s.arrow = narrow, narrow.Arrow()
}

func (s *parquetSource) Schema() types.Schema { return s.schema }
func (s *parquetSource) Rows() int64          { return s.rows }

func (s *parquetSource) Close() error {
	s.closed = true
	s.files = nil
	for _, f := range s.opened {
		f.Close()
	}
	s.opened = nil
	return s.closeFile()
}

func (s *parquetSource) closeFile() error {
	if s.rr != nil {
		s.rr.Release()
		s.rr = nil
	}
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// badFile wraps an error reading the current file.
func (s *parquetSource) badFile(err error) error {
	return fmt.Errorf("table '%s': file '%s' is not a readable Parquet file (%v); remove or replace it", s.table, s.path, err)
}

// openFile opens the next file and its record reader of the needed columns.
func (s *parquetSource) openFile(ctx context.Context) error {
	f, path, files, opened, err := openNextFile(s.table, s.files, s.opened)
	s.files, s.opened, s.path = files, opened, path
	if err != nil {
		return err
	}
	s.f = f
	s.pos.enter(path)
	pf, err := file.NewParquetReader(f, file.WithReadProps(parquetReadProps()))
	if err != nil {
		return s.badFile(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(s.batchSize)}, s.mem)
	if err != nil {
		return s.badFile(err)
	}
	fileSchema := pf.MetaData().Schema
	var leaves []int
	s.colOf = make([]int, len(s.schema))
	s.int96 = make([]*int96Column, len(s.schema))
	for j, c := range s.schema {
		leaf := fileSchema.ColumnIndexByName(c.Name)
		s.colOf[j] = -1
		switch {
		case leaf < 0 && !c.Type.Nullable:
			return fmt.Errorf("table '%s': file '%s' has no column '%s', declared NOT NULL; declare it without NOT NULL to read it as NULL", s.table, s.path, c.Name)
		case leaf < 0:
		case fileSchema.Column(leaf).PhysicalType() == parquet.Types.Int96:
			// Read apart: pqarrow turns INT96 into nanoseconds, which hold
			// only 1677..2262 of the years Flink writes.
			if c.Type.Kind != types.Timestamp && c.Type.Kind != types.TimestampLTZ {
				return fmt.Errorf("table '%s': file '%s' column '%s' holds INT96 timestamps, which weir cannot read as the declared %s; declare it TIMESTAMP", s.table, s.path, c.Name, c.Type)
			}
			s.int96[j] = &int96Column{pf: pf, leaf: leaf, maxDef: fileSchema.Column(leaf).MaxDefinitionLevel()}
		default:
			s.colOf[j] = len(leaves)
			leaves = append(leaves, leaf)
		}
	}
	if len(leaves) == 0 {
		// No column to decode: the row counts only.
		s.rr = &countReader{left: pf.NumRows(), batch: int64(s.batchSize)}
		return nil
	}
	rr, err := fr.GetRecordReader(ctx, leaves, nil)
	if err != nil {
		return s.badFile(err)
	}
	s.rr = rr
	return nil
}

func (s *parquetSource) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed {
		return nil, fmt.Errorf("table '%s': source is closed", s.table)
	}
	for {
		if s.rr == nil {
			if len(s.files) == 0 {
				return nil, io.EOF
			}
			if err := s.openFile(ctx); err != nil {
				return nil, err
			}
		}
		rec, err := s.rr.Read()
		if err == io.EOF || err == nil && rec == nil {
			if err := s.closeFile(); err != nil {
				return nil, fmt.Errorf("table '%s': %w", s.table, err)
			}
			continue
		}
		if err != nil {
			return nil, s.badFile(err)
		}
		if rec.NumRows() == 0 {
			continue
		}
		out, err := s.convert(rec)
		if err != nil {
			return nil, err
		}
		if out = s.pos.skipRows(out); out == nil {
			continue // before the checkpoint's position
		}
		s.rows += out.NumRows()
		return out, nil
	}
}

// convert turns a batch of the file's columns into one of the schema.
func (s *parquetSource) convert(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	cols := make([]arrow.Array, len(s.schema))
	defer func() {
		for _, a := range cols {
			if a != nil {
				a.Release()
			}
		}
	}()
	for j, c := range s.schema {
		want := c.Type.Arrow()
		if s.int96[j] != nil {
			zone := s.cfg.zone
			if c.Type.Kind == types.TimestampLTZ {
				zone = nil
			}
			a, err := s.int96[j].read(s.mem, n, want.(*arrow.TimestampType), zone)
			if err != nil {
				return nil, fmt.Errorf("table '%s': file '%s' column '%s': %w", s.table, s.path, c.Name, err)
			}
			cols[j] = a
			if !c.Type.Nullable && a.NullN() > 0 {
				return nil, fmt.Errorf("table '%s': file '%s' column '%s' holds NULL, but the column is declared NOT NULL; declare it without NOT NULL", s.table, s.path, c.Name)
			}
			continue
		}
		if s.colOf[j] < 0 {
			cols[j] = array.MakeArrayOfNull(s.mem, want, n)
			continue
		}
		a := rec.Column(s.colOf[j])
		switch {
		case arrow.TypeEqual(a.DataType(), want):
			a.Retain()
			cols[j] = a
		case isTimestamp(a.DataType()) && isTimestamp(want):
			zone := s.cfg.zone
			if c.Type.Kind == types.TimestampLTZ || a.DataType().(*arrow.TimestampType).Unit != arrow.Nanosecond {
				zone = nil // only INT96 (read as nanoseconds) holds instants of wall times
			}
			cols[j] = timestampsFromFile(s.mem, a.(*array.Timestamp), a.DataType().(*arrow.TimestampType).Unit, zone, want.(*arrow.TimestampType))
		default:
			return nil, fmt.Errorf("table '%s': file '%s' column '%s' holds %s, which weir cannot read as the declared %s; declare the column with the type the file has",
				s.table, s.path, c.Name, a.DataType(), c.Type)
		}
		if !c.Type.Nullable && cols[j].NullN() > 0 {
			return nil, fmt.Errorf("table '%s': file '%s' column '%s' holds NULL, but the column is declared NOT NULL; declare it without NOT NULL", s.table, s.path, c.Name)
		}
	}
	return array.NewRecordBatch(s.arrow, cols, int64(n)), nil
}

func isTimestamp(t arrow.DataType) bool { _, ok := t.(*arrow.TimestampType); return ok }

// timestampsFromFile converts timestamps of unit from (instants of wall
// times in zone, when zone is not nil) to weir's type to (truncating extra
// digits, as a cast to a smaller precision does).
func timestampsFromFile(mem memory.Allocator, a *array.Timestamp, unit arrow.TimeUnit, zone *time.Location, to *arrow.TimestampType) arrow.Array {
	b := array.NewTimestampBuilder(mem, to)
	defer b.Release()
	b.Reserve(a.Len())
	from, into := unitsPerSecond(unit), unitsPerSecond(to.Unit)
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		v := int64(a.Value(i))
		if zone != nil {
			v += zoneOffset(v, unit, zone, false) * from
		}
		if from > into {
			v = floorDiv(v, from/into)
		} else {
			v *= into / from
		}
		b.Append(arrow.Timestamp(v))
	}
	return b.NewArray()
}

// int96Column reads an INT96 timestamp column of a flat file, row group
// after row group, in step with the other columns' batches.
type int96Column struct {
	pf     *file.Reader
	leaf   int
	maxDef int16
	rg     int // the next row group
	cr     *file.Int96ColumnChunkReader
	vals   []parquet.Int96
	defs   []int16
}

// julianUnixEpoch is the Julian day of 1970-01-01, INT96's day origin.
const julianUnixEpoch = 2440588

// read reads the next n values as timestamps of type to (instants of wall
// times in zone, when zone is not nil).
func (c *int96Column) read(mem memory.Allocator, n int, to *arrow.TimestampType, zone *time.Location) (arrow.Array, error) {
	b := array.NewTimestampBuilder(mem, to)
	defer b.Release()
	b.Reserve(n)
	per := unitsPerSecond(to.Unit)
	for n > 0 {
		if c.cr == nil || !c.cr.HasNext() {
			if c.rg >= c.pf.NumRowGroups() {
				return nil, errors.New("fewer INT96 values than rows (a corrupt file?)")
			}
			cr, err := c.pf.RowGroup(c.rg).Column(c.leaf)
			if err != nil {
				return nil, err
			}
			c.rg++
			c.cr = cr.(*file.Int96ColumnChunkReader)
			continue
		}
		if cap(c.vals) < n {
			c.vals, c.defs = make([]parquet.Int96, n), make([]int16, n)
		}
		total, _, err := c.cr.ReadBatch(int64(n), c.vals[:n], c.defs[:n], nil)
		if err != nil {
			return nil, err
		}
		if total == 0 {
			c.cr = nil
			continue
		}
		v := 0
		for i := 0; i < int(total); i++ {
			if c.maxDef > 0 && c.defs[i] < c.maxDef {
				b.AppendNull()
				continue
			}
			x := c.vals[v]
			v++
			nanos := int64(binary.LittleEndian.Uint64(x[:8]))
			days := int64(binary.LittleEndian.Uint32(x[8:])) - julianUnixEpoch
			if nanos < 0 || nanos >= 86400e9 {
				return nil, fmt.Errorf("INT96 value with %d nanoseconds in a day (a corrupt file?)", nanos)
			}
			sec := days*86400 + nanos/1e9
			if zone != nil {
				sec += zoneOffset(sec, arrow.Second, zone, false)
			}
			if sec > math.MaxInt64/per-1 || sec < math.MinInt64/per+1 {
				return nil, fmt.Errorf("timestamp %s is outside the range of %s", time.Unix(sec, 0).UTC().Format("2006-01-02 15:04:05"), to)
			}
			b.Append(arrow.Timestamp(sec*per + nanos%1e9/(1e9/per)))
		}
		n -= int(total)
	}
	return b.NewArray(), nil
}

// countReader yields batches of no columns for a file's rows, for a source
// that reads none of the file's columns.
type countReader struct {
	left, batch int64
}

func (r *countReader) Read() (arrow.RecordBatch, error) {
	if r.left == 0 {
		return nil, io.EOF
	}
	n := min(r.left, r.batch)
	r.left -= n
	return array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, n), nil
}

// The rest of pqarrow.RecordReader, unused by parquetSource.
func (r *countReader) Retain()                        {}
func (r *countReader) Release()                       {}
func (r *countReader) Schema() *arrow.Schema          { return arrow.NewSchema(nil, nil) }
func (r *countReader) Next() bool                     { return false }
func (r *countReader) RecordBatch() arrow.RecordBatch { return nil }
func (r *countReader) Record() arrow.RecordBatch      { return nil }
func (r *countReader) Err() error                     { return nil }
func (r *countReader) SeekToRow(int64) error          { return errors.New("not supported") }

var _ exec.Source = (*parquetSource)(nil)
