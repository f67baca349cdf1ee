package connector

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/format"
	"github.com/weir-dev/weir/internal/types"
)

// The filesystem connector reads and writes 'format' = 'csv' (here), 'json'
// and 'parquet' (filesystem_format.go, filesystem_parquet.go), with 'path'
// and 'format' both required, as Flink's does: 'path' is a directory of part
// files (see filesystem_dir.go for its layout). A source reads every visible
// file under it, or the one file 'path' names. The format is header-less CSV
// records, one per row (a quoted field may span lines), with Flink's csv.*
// options parsed and meant as internal/format's csv format (Kafka) takes
// them (format.CSVOptions): 'csv.field-delimiter' (','),
// 'csv.quote-character' ('"'), 'csv.disable-quote-character',
// 'csv.escape-character', 'csv.null-literal', 'csv.allow-comments' (lines
// starting with '#' are skipped), 'csv.ignore-parse-errors'. Without a null
// literal a NULL is written as an empty field and an empty string as ""
// (quoted); an empty unquoted field of a string column reads as NULL (Flink
// reads ''), and an empty field of another type fails the job naming file,
// line and column, as Flink does. Values are written as CAST(... AS STRING)
// writes them, except BOOLEAN (true, false) and BINARY/BYTES (base64), and
// read back as CAST from a string reads them. Files must be UTF-8.
//
// 'csv.ignore-parse-errors' = 'true' reads, as Flink does, a field that does
// not parse (an empty INT among them) as NULL and the missing fields of a
// short line as NULL, and skips lines with extra fields or broken quoting
// (and rows that would put a NULL in a NOT NULL column). Invalid UTF-8 fails
// the job either way.
//
// A sink writes one new part file per job (none for no rows), hidden while
// it is written and renamed into place by Commit; Abort removes it. INSERT
// INTO adds the part to the directory; INSERT OVERWRITE also removes the
// visible entries that were there (its journal makes the swap one step for
// readers). The directory is created, checked writable and cleared of dead
// writers' in-progress files when the sink opens, before the job does any
// work. A 'path' that is a file cannot be written (Flink refuses it too).

// fileOptions are the options of a filesystem csv table: Flink's csv.*
// options, parsed (and meant) as internal/format's csv format parses them.
var fileOptions = append([]string{"path", "format"}, format.CSVOptionKeys()...)

// csvConfig is a filesystem table's options.
type csvConfig struct {
	format.CSVOptions
	path string
}

// readFilePath reads the 'path' option: a local path, or a file: URI.
func readFilePath(o *options) (string, error) {
	path, ok := o.get("path")
	if !ok || path == "" {
		return "", o.errorf("option 'path' is required")
	}
	// Flink's paths are URIs; weir's filesystem is the local one.
	if rest, ok := strings.CutPrefix(path, "file://"); ok && strings.HasPrefix(rest, "/") {
		path = rest
	} else if rest, ok := strings.CutPrefix(path, "file:"); ok && strings.HasPrefix(rest, "/") && !strings.HasPrefix(rest, "//") {
		path = rest
	} else if scheme, _, ok := strings.Cut(path, "://"); ok && !strings.ContainsAny(scheme, "/.") {
		return "", o.bad("path", "weir reads and writes local files only: use a local path, or 'file:///...'")
	}
	return path, nil
}

// readCSVConfig reads the options shared by the filesystem source and sink.
func readCSVConfig(o *options, schema types.Schema) (csvConfig, error) {
	var c csvConfig
	path, err := readFilePath(o)
	if err != nil {
		return c, err
	}
	c.path = path
	name, ok := o.get("format")
	if !ok {
		return c, o.errorf("option 'format' is required; weir supports %s", fileFormatList)
	}
	if name != "csv" {
		return c, o.bad("format", "weir's filesystem connector supports %s", fileFormatList)
	}
	if c.CSVOptions, err = format.ParseCSVOptions(o.get); err != nil {
		var oe *format.OptionError
		if errors.As(err, &oe) {
			return c, o.bad(oe.Key, "%s", oe.Msg)
		}
		return c, fmt.Errorf("table '%s': %w", o.table, err)
	}
	for _, f := range schema {
		switch f.Type.Kind {
		case types.Array, types.Map, types.Row, types.Null, types.Invalid:
			return c, fmt.Errorf("table '%s': filesystem csv does not support column '%s' of type %s", o.table, f.Name, f.Type)
		}
	}
	if err := o.finish(fileOptions); err != nil {
		return c, err
	}
	return c, nil
}

// fileSink writes one part file of a table's directory.
type fileSink struct {
	table     string
	schema    types.Schema
	dir       string
	overwrite bool
	part, tmp string // names in dir: the part once committed, and while written
	f         *os.File
	w         *bufio.Writer
	csv       format.CSVOptions
	line      []byte
	field     []byte
	enc       partEncoder // the format's writer; nil for csv
	rows      int64
	closed    bool
}

// partEncoder writes batches into a part file in a format other than csv.
type partEncoder interface {
	write(b arrow.RecordBatch) error
	finish() error // writes what the format keeps back (a footer)
}

func openFileSink(o *options, schema types.Schema, overwrite bool) (exec.Sink, error) {
	part, err := readPartitioning(o, schema)
	if err != nil {
		return nil, err
	}
	policy, err := readRollingPolicy(o)
	if err != nil {
		return nil, err
	}
	o.get(streamingPartOption) // read by newFileSink
	o.get(streamingNoCleanOption)
	if v, _ := o.get(streamingOption); v == "true" {
		if overwrite {
			return nil, fmt.Errorf("table '%s': INSERT OVERWRITE is not supported in streaming mode (as in Flink); run it in batch mode (SET 'execution.runtime-mode' = 'batch')", o.table)
		}
		s, err := openStreamingFileSink(o, part, schema, policy) // filesystem_rolling.go
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	if part != nil {
		return openPartitionedSink(o, part, schema, overwrite) // filesystem_partition.go
	}
	if name := o.m["format"]; name != "csv" && slices.Contains(fileFormats, name) {
		return openFormatSink(o, schema, overwrite, name)
	}
	c, err := readCSVConfig(o, schema)
	if err != nil {
		return nil, err
	}
	s, err := newFileSink(o, schema, c.path, overwrite)
	if err != nil {
		return nil, err
	}
	s.csv = c.CSVOptions
	return s, nil
}

// newFileSink prepares dir and creates the hidden part file of a sink.
func newFileSink(o *options, schema types.Schema, dir string, overwrite bool) (*fileSink, error) {
	table := o.table
	if err := prepareSinkDir(table, dir); err != nil {
		return nil, err
	}
	if v, _ := o.get(streamingNoCleanOption); v != "true" {
		if _, err := cleanStale(dir); err != nil {
			return nil, fmt.Errorf("table '%s': removing the in-progress files of dead writers in '%s': %w", table, dir, err)
		}
	}
	s := &fileSink{table: table, schema: schema, dir: dir, overwrite: overwrite}
	s.part = "part-" + newUUID() + "-task-0-file-0"
	if name, ok := o.get(streamingPartOption); ok {
		s.part = name // a streaming sink's rolling file
	}
	s.tmp = "." + s.part + inprogressMark + strconv.Itoa(os.Getpid())
	var err error
	s.f, err = createLocked(dir, s.tmp)
	if err != nil {
		return nil, fmt.Errorf("table '%s': cannot create a file in directory '%s' (%w); make it writable for this user or choose another 'path'", table, dir, pathErrCause(err))
	}
	s.w = bufio.NewWriterSize(s.f, 256<<10)
	return s, nil
}

// prepareSinkDir makes sure path is a directory, creating it if need be.
func prepareSinkDir(table, path string) error {
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return nil
	case err == nil:
		return fmt.Errorf("table '%s': filesystem 'path' = '%s' is a file, but a filesystem sink writes a directory of part files (as Flink's does); "+
			"choose a directory, or move the file into one (weir still reads a 'path' that names a single file)", table, path)
	case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("table '%s': filesystem 'path' = '%s': %w", table, path, err)
	}
	if f := fileOnPath(path); f != "" {
		return fmt.Errorf("table '%s': cannot create directory '%s': '%s' is a file, not a directory; choose another 'path'", table, path, f)
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return fmt.Errorf("table '%s': cannot create directory '%s' (%w); create it, or choose another 'path'", table, path, pathErrCause(err))
	}
	return nil
}

// pathErrCause is the cause of a *fs.PathError (the path is in the message
// already), or err.
func pathErrCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// fileOnPath returns the first ancestor of path that exists and is not a
// directory, or "".
func fileOnPath(path string) string {
	p := filepath.Clean(path)
	var chain []string
	for {
		chain = append(chain, p)
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	for i := len(chain) - 1; i >= 0; i-- {
		st, err := os.Stat(chain[i])
		if err != nil {
			return ""
		}
		if !st.IsDir() {
			return chain[i]
		}
	}
	return ""
}

func (s *fileSink) Write(ctx context.Context, b arrow.RecordBatch) error {
	if s.closed {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if int(b.NumCols()) != len(s.schema) {
		return fmt.Errorf("table '%s': batch has %d columns, the table has %d", s.table, b.NumCols(), len(s.schema))
	}
	if s.enc != nil {
		if err := s.enc.write(b); err != nil {
			return fmt.Errorf("table '%s': writing '%s': %w", s.table, filepath.Join(s.dir, s.tmp), err)
		}
		s.rows += b.NumRows()
		return nil
	}
	cols := b.Columns()
	n := int(b.NumRows())
	for i := 0; i < n; i++ {
		line := s.line[:0]
		for j, c := range cols {
			if j > 0 {
				line = append(line, s.csv.Delim)
			}
			v := exec.ValueAt(c, i)
			if v == nil {
				if s.csv.HasNull {
					line = append(line, s.csv.Null...)
				}
				continue
			}
			s.field = append(s.field[:0], csvText(v, s.schema[j].Type)...)
			line = s.csv.AppendField(line, s.field)
		}
		line = append(line, '\n')
		s.line = line
		if _, err := s.w.Write(line); err != nil {
			return fmt.Errorf("table '%s': writing '%s': %w", s.table, filepath.Join(s.dir, s.tmp), err)
		}
	}
	s.rows += int64(n)
	return nil
}

// csvText formats a non-NULL value for CSV.
func csvText(v any, t types.T) string {
	switch x := v.(type) {
	case bool:
		return strconv.FormatBool(x)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	}
	s, err := exec.CastValue(v, t, types.STRING)
	if err != nil || s == nil {
		return fmt.Sprint(v)
	}
	return s.(string)
}

// Commit publishes the part file: a rename within the directory, so readers
// see all of it or none. No rows leave no part file, as in Flink.
func (s *fileSink) Commit() error {
	if s.closed {
		return errClosed
	}
	s.closed = true
	defer s.f.Close() // after the rename: the lock keeps cleaners away until then
	tmp := filepath.Join(s.dir, s.tmp)
	var err error
	if s.enc != nil {
		err = s.enc.finish()
	}
	if err == nil {
		err = s.w.Flush()
	}
	if err == nil {
		err = s.f.Sync()
	}
	if err == nil && s.rows == 0 && !s.overwrite {
		err = os.Remove(tmp)
		if err == nil {
			return nil
		}
	}
	if err == nil && s.overwrite {
		return s.commitOverwrite()
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, s.part))
	}
	if err == nil {
		err = syncDir(s.dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("table '%s': committing '%s': %w", s.table, s.dir, err)
	}
	return nil
}

// commitOverwrite replaces the directory's visible entries by the part,
// under the directory's exclusive lock: journal, rename (the commit point),
// removals, journal removed.
func (s *fileSink) commitOverwrite() error {
	tmp := filepath.Join(s.dir, s.tmp)
	jname := journalPrefix + newUUID() + inprogressMark + strconv.Itoa(os.Getpid())
	unlock, err := lockDir(s.dir, true)
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("table '%s': INSERT OVERWRITE of '%s': %w", s.table, s.dir, err)
	}
	defer unlock()
	old, err := visibleEntries(s.dir)
	var jf *os.File
	if err == nil {
		jf, err = createLocked(s.dir, jname)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("table '%s': INSERT OVERWRITE of '%s': %w", s.table, s.dir, err)
	}
	defer jf.Close()
	_, err = jf.Write((&journal{part: s.part, old: old}).encode())
	if err == nil {
		err = jf.Sync()
	}
	if err == nil {
		err = syncDir(s.dir)
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, s.part))
	}
	if err == nil {
		err = syncDir(s.dir)
	}
	if err != nil {
		os.Remove(tmp)
		os.Remove(jf.Name())
		return fmt.Errorf("table '%s': INSERT OVERWRITE of '%s' (the old contents are unchanged): %w", s.table, s.dir, err)
	}
	// Committed: readers now see the new part only.
	for _, o := range old {
		if err := os.RemoveAll(filepath.Join(s.dir, o)); err != nil {
			return fmt.Errorf("table '%s': INSERT OVERWRITE of '%s' committed, but removing the replaced '%s' failed (readers ignore it; the next write to the table removes it): %w", s.table, s.dir, o, err)
		}
	}
	if s.rows == 0 {
		// As Flink, an empty result leaves no part file: the empty one only
		// served as the commit point (a journal whose part is gone is void).
		if err := os.Remove(filepath.Join(s.dir, s.part)); err != nil {
			return fmt.Errorf("table '%s': INSERT OVERWRITE of '%s': %w", s.table, s.dir, err)
		}
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("table '%s': INSERT OVERWRITE of '%s': %w", s.table, s.dir, err)
	}
	return os.Remove(jf.Name())
}

func (s *fileSink) Abort(error) {
	if s.closed {
		return
	}
	s.closed = true
	os.Remove(filepath.Join(s.dir, s.tmp))
	s.f.Close()
}

func (s *fileSink) Rows() int64 { return s.rows }

// fileSource reads a table's CSV files one after the other.
type fileSource struct {
	table     string
	schema    types.Schema
	arrow     *arrow.Schema
	cfg       csvConfig
	files     []string   // still to read
	opened    []*os.File // the first files, opened upfront
	path      string     // the file being read
	f         *os.File
	r         *csvReader
	mem       memory.Allocator
	batchSize int
	rows      int64
	closed    bool
	pos       filePos // where the source is (filesystem_position.go)
}

func openFileSource(o *options, schema types.Schema, batchSize int, mem memory.Allocator) (exec.Source, error) {
	if _, err := readRollingPolicy(o); err != nil { // a sink's options, allowed on the table
		return nil, err
	}
	if part, err := readPartitioning(o, schema); err != nil || part != nil {
		if err != nil {
			return nil, err
		}
		return openPartitionedSource(o, part, schema, batchSize, mem) // filesystem_partition.go
	}
	if name := o.m["format"]; name != "csv" && slices.Contains(fileFormats, name) {
		return openFormatSource(o, schema, batchSize, mem, name)
	}
	c, err := readCSVConfig(o, schema)
	if err != nil {
		return nil, err
	}
	s := &fileSource{table: o.table, schema: schema, arrow: schema.Arrow(), cfg: c, mem: mem, batchSize: batchSize}
	if s.files, s.opened, err = listTableFiles(o.table, c.path); err != nil {
		return nil, err
	}
	return s, nil
}

// listTableFiles lists the files a source of the table at path reads (path
// itself when it is a file) and opens the first ones.
func listTableFiles(table, path string) (files []string, opened []*os.File, err error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) && strings.ContainsAny(path, "*?[") {
		return listGlob(table, path) // filesystem_glob.go
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("table '%s': filesystem 'path' = '%s' does not exist; fix the path, or write the table first", table, path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("table '%s': filesystem 'path' = '%s': %w", table, path, err)
	}
	if !st.IsDir() {
		return []string{path}, nil, nil
	}
	unlock, err := lockDir(path, false)
	if err != nil {
		return nil, nil, fmt.Errorf("table '%s': %w", table, err)
	}
	defer unlock()
	if files, err = dataFiles(path); err != nil {
		return nil, nil, fmt.Errorf("table '%s': listing the files of '%s': %w", table, path, err)
	}
	// Open the files now, while the listing holds: a later INSERT OVERWRITE
	// then removes names, not the data this job reads.
	if opened, err = openUpfront(table, files); err != nil {
		return nil, nil, err
	}
	return files, opened, nil
}

// openUpfront opens the first maxOpenFiles of files (none when one fails).
func openUpfront(table string, files []string) ([]*os.File, error) {
	var opened []*os.File
	for _, p := range files[:min(len(files), maxOpenFiles)] {
		f, err := os.Open(p)
		if err != nil {
			for _, f := range opened {
				f.Close()
			}
			return nil, fmt.Errorf("table '%s': %w", table, err)
		}
		opened = append(opened, f)
	}
	return opened, nil
}

// openNextFile opens the first of files (taking it from opened when it was
// opened upfront) and returns it with the files left.
func openNextFile(table string, files []string, opened []*os.File) (f *os.File, path string, restFiles []string, restOpened []*os.File, err error) {
	path, files = files[0], files[1:]
	if len(opened) > 0 {
		f, opened = opened[0], opened[1:]
	} else {
		f, err = os.Open(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, path, files, opened, fmt.Errorf("table '%s': file '%s' was removed while the job read the table (by a concurrent INSERT OVERWRITE?); run the job again", table, path)
	}
	if err != nil {
		return nil, path, files, opened, fmt.Errorf("table '%s': %w", table, err)
	}
	return f, path, files, opened, nil
}

// maxOpenFiles is how many files of a directory a source opens upfront; it
// opens the others when it gets to them.
const maxOpenFiles = 256

func (s *fileSource) Schema() types.Schema { return s.schema }
func (s *fileSource) Rows() int64          { return s.rows }

func (s *fileSource) Close() error {
	s.closed = true
	s.files = nil
	for _, f := range s.opened {
		f.Close()
	}
	s.opened = nil
	return s.closeFile()
}

func (s *fileSource) closeFile() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f, s.r = nil, nil
	return err
}

// record returns the next record of the table's files and where it is,
// opening the next file at the end of one; io.EOF after the last.
func (s *fileSource) record() ([]csvField, int, error) {
	for {
		if s.r == nil {
			if len(s.files) == 0 {
				return nil, 0, io.EOF
			}
			s.path, s.files = s.files[0], s.files[1:]
			var f *os.File
			var err error
			if len(s.opened) > 0 {
				f, s.opened = s.opened[0], s.opened[1:]
			} else {
				f, err = os.Open(s.path)
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil, 0, fmt.Errorf("table '%s': file '%s' was removed while the job read the table (by a concurrent INSERT OVERWRITE?); run the job again", s.table, s.path)
			}
			if err != nil {
				return nil, 0, fmt.Errorf("table '%s': %w", s.table, err)
			}
			s.f = f
			s.r = &csvReader{r: bufio.NewReaderSize(f, 256<<10), opts: &s.cfg.CSVOptions, cols: len(s.schema)}
			s.pos.enter(s.path)
		}
		fields, line, err := s.r.record()
		if err != io.EOF && s.pos.skipping(s.r.line) {
			continue // before the checkpoint's position
		}
		if err == io.EOF {
			if err := s.closeFile(); err != nil {
				return nil, 0, fmt.Errorf("table '%s': %w", s.table, err)
			}
			continue
		}
		return fields, line, err
	}
}

// parseHint says what to do about a line that does not parse.
const parseHint = "; fix the file, or set 'csv.ignore-parse-errors' = 'true' to read fields that do not parse as NULL and skip malformed lines"

func (s *fileSource) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed {
		return nil, fmt.Errorf("table '%s': source is closed", s.table)
	}
	cols := make([][]any, len(s.schema))
	row := make([]any, len(s.schema))
	n := 0
	// at names a place in the input: line, column (1-based) and its name.
	at := func(line, col int) string {
		where := fmt.Sprintf("table '%s': file '%s' line %d, column %d", s.table, s.path, line, col)
		if col >= 1 && col <= len(s.schema) {
			where += fmt.Sprintf(" (%s)", s.schema[col-1].Name)
		}
		return where
	}
rows:
	for n < s.batchSize {
		fields, line, err := s.record()
		if err == io.EOF {
			break
		}
		var se *csvSyntaxError
		switch {
		case errors.As(err, &se) && se.encoding:
			return nil, fmt.Errorf("%s: %s; weir reads CSV files as UTF-8: convert the file (e.g. iconv -f latin1 -t utf-8)", at(line, se.col), se.msg)
		case se != nil && s.cfg.IgnoreErrors:
			continue
		case se != nil:
			return nil, fmt.Errorf("%s: %s%s", at(line, se.col), se.msg, parseHint)
		case err != nil:
			return nil, err
		}
		if len(fields) != len(s.schema) {
			switch {
			case s.cfg.IgnoreErrors && len(fields) > len(s.schema):
				continue
			case s.cfg.IgnoreErrors:
				// The missing fields read as empty: NULL, or the row is skipped below.
			case len(fields) > len(s.schema):
				return nil, fmt.Errorf("%s: extra field %q: the line has %d fields, the table has %d columns%s",
					at(line, len(s.schema)+1), clip(fields[len(s.schema)].text), len(fields), len(s.schema), parseHint)
			default:
				return nil, fmt.Errorf("%s: missing: the line has %s, the table has %d columns%s",
					at(line, len(fields)+1), plural(len(fields), "field"), len(s.schema), parseHint)
			}
		}
		for j := range s.schema {
			var fl csvField
			if j < len(fields) {
				fl = fields[j]
			}
			v, err := csvValue(&s.cfg.CSVOptions, fl, s.schema[j].Type)
			if err == errNotNull {
				if s.cfg.IgnoreErrors {
					continue rows
				}
				return nil, fmt.Errorf("%s: empty field (NULL) in a NOT NULL column; fill it in, declare the column without NOT NULL, or set 'csv.ignore-parse-errors' = 'true' to skip such rows", at(line, j+1))
			}
			if err != nil {
				if !s.cfg.IgnoreErrors {
					return nil, fmt.Errorf("%s: %w%s", at(line, j+1), err, parseHint)
				}
				if !s.schema[j].Type.Nullable {
					continue rows
				}
				v = nil
			}
			row[j] = v
		}
		for j, v := range row {
			cols[j] = append(cols[j], v)
		}
		n++
	}
	if n == 0 {
		return nil, io.EOF
	}
	arrs := make([]arrow.Array, len(cols))
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	for j, vals := range cols {
		a, err := exec.BuildArray(s.mem, s.schema[j].Type, vals)
		if err != nil {
			return nil, fmt.Errorf("table '%s': column '%s': %w", s.table, s.schema[j].Name, err)
		}
		arrs[j] = a
	}
	s.rows += int64(n)
	return array.NewRecordBatch(s.arrow, arrs, int64(n)), nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	i := 60
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

var errNotNull = errors.New("NULL in a NOT NULL column")

// csvValue converts a field to a value of t; opts.IsNull says which fields
// are NULL.
func csvValue(opts *format.CSVOptions, fl csvField, t types.T) (any, error) {
	if opts.IsNull(fl.text, fl.quoted, t) {
		if !t.Nullable {
			return nil, errNotNull
		}
		return nil, nil
	}
	if fl.text == "" && !t.IsString() && !t.IsBinary() {
		return nil, opts.EmptyFieldError(t)
	}
	if t.IsBinary() {
		b, err := base64.StdEncoding.DecodeString(fl.text)
		if err != nil {
			return nil, fmt.Errorf("'%s' is not base64", clip(fl.text))
		}
		return exec.CastValue(b, types.BYTES, t)
	}
	v, err := exec.CastValue(fl.text, types.STRING, t.WithNullable(true))
	if err == nil && v == nil {
		err = fmt.Errorf("'%s' does not fit %s", clip(fl.text), plainType(t))
	}
	return v, err
}

// csvField is a field of a CSV record.
type csvField struct {
	text   string
	quoted bool
}

// csvSyntaxError is a line that is not CSV, or not UTF-8 (encoding), at
// field col (1-based).
type csvSyntaxError struct {
	col      int
	msg      string
	encoding bool
}

func (e *csvSyntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.col, e.msg) }

// csvReader reads RFC 4180 records, telling quoted fields from unquoted ones.
type csvReader struct {
	r    *bufio.Reader
	opts *format.CSVOptions // delimiter, quote and escape characters, comments
	cols int                // a blank line is a record (one NULL) only for one column
	line int                // lines read so far
}

// record returns the next record and the line it starts on; io.EOF at the
// end. Blank lines are skipped, unless the table has one column. After a
// *csvSyntaxError the reader goes on at the next line.
func (c *csvReader) record() ([]csvField, int, error) {
	delim, quote, esc := c.opts.Delim, c.opts.Quote, c.opts.Escape
	for {
		raw, err := c.r.ReadString('\n')
		if raw == "" && err != nil {
			return nil, c.line + 1, err
		}
		c.line++
		start := c.line
		text := strings.TrimSuffix(strings.TrimSuffix(raw, "\n"), "\r")
		if c.opts.Comments && strings.HasPrefix(text, "#") {
			continue
		}
		if text == "" {
			if c.cols == 1 {
				return []csvField{{}}, start, nil
			}
			continue
		}
		var fields []csvField
		fail := func(format string, args ...any) ([]csvField, int, error) {
			return nil, start, &csvSyntaxError{col: len(fields) + 1, msg: fmt.Sprintf(format, args...)}
		}
		i := 0
		for {
			if quote != 0 && i < len(text) && text[i] == quote {
				var b strings.Builder
				i++
				for {
					if i >= len(text) {
						// The quoted field goes on on the next line.
						more, err := c.r.ReadString('\n')
						if more == "" && err != nil {
							return fail("quoted field is not closed (it runs to the end of the file)")
						}
						c.line++
						b.WriteByte('\n')
						text = strings.TrimSuffix(strings.TrimSuffix(more, "\n"), "\r")
						i = 0
						continue
					}
					if esc != 0 && text[i] == esc && i+1 < len(text) {
						b.WriteByte(text[i+1])
						i += 2
						continue
					}
					if text[i] == quote {
						if i+1 < len(text) && text[i+1] == quote {
							b.WriteByte(quote)
							i += 2
							continue
						}
						i++
						break
					}
					b.WriteByte(text[i])
					i++
				}
				if i < len(text) && text[i] != delim {
					return fail("unexpected %q after a quoted field", text[i])
				}
				fields = append(fields, csvField{text: b.String(), quoted: true})
			} else {
				j := strings.IndexByte(text[i:], delim)
				if j < 0 {
					j = len(text) - i
				}
				f := text[i : i+j]
				if esc != 0 && strings.IndexByte(f, esc) >= 0 {
					f, j = unescapeField(text[i:], delim, esc)
				}
				if quote != 0 && strings.IndexByte(f, quote) >= 0 {
					return fail("quote in unquoted field %q", clip(f))
				}
				fields = append(fields, csvField{text: f})
				i += j
			}
			if f := fields[len(fields)-1].text; !utf8.ValidString(f) {
				k := 0
				for k < len(f) {
					r, size := utf8.DecodeRuneInString(f[k:])
					if r == utf8.RuneError && size <= 1 {
						break
					}
					k += size
				}
				return nil, start, &csvSyntaxError{col: len(fields), encoding: true,
					msg: fmt.Sprintf("invalid UTF-8: byte 0x%02x at byte %d of the field %s", f[k], k+1, clip(strconv.QuoteToASCII(f)))}
			}
			if i >= len(text) {
				return fields, start, nil
			}
			i++ // the delimiter
			if i == len(text) {
				return append(fields, csvField{}), start, nil
			}
		}
	}
}

// unescapeField reads an unquoted field at the start of s whose escape
// character esc makes the next character literal: the field's text and how
// many bytes of s it takes (up to the delimiter).
func unescapeField(s string, delim, esc byte) (string, int) {
	var b strings.Builder
	i := 0
	for i < len(s) && s[i] != delim {
		if s[i] == esc && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), i
}
