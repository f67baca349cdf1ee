package spill

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Writer writes batches of one schema to a new spill file, as an Arrow IPC
// stream.
type Writer struct {
	path   string
	f      *os.File
	buf    *bufio.Writer
	w      *ipc.Writer
	schema *arrow.Schema
	rows   int64
	bytes  int64
}

// Create starts a spill file for batches of schema; what names it (e.g.
// "sort-run").
func (b *Budget) Create(what string, schema *arrow.Schema) (*Writer, error) {
	path, err := b.dir.newPath(what)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	buf := bufio.NewWriterSize(f, 64<<10)
	w := ipc.NewWriter(buf, ipc.WithSchema(schema), ipc.WithAllocator(allocator))
	return &Writer{path: path, f: f, buf: buf, w: w, schema: schema}, nil
}

// Write appends b to the file; b stays the caller's.
func (w *Writer) Write(b arrow.RecordBatch) error {
	if b.NumRows() == 0 {
		return nil
	}
	rec := b
	if !b.Schema().Equal(w.schema) {
		// Same columns, e.g. other nullability or names: the file's.
		rec = array.NewRecordBatch(w.schema, b.Columns(), b.NumRows())
		defer rec.Release()
	}
	if err := w.w.Write(rec); err != nil {
		return fmt.Errorf("spill: writing %s: %w", w.path, err)
	}
	w.rows += b.NumRows()
	w.bytes += BatchBytes(b)
	return nil
}

// Rows is the number of rows written so far.
func (w *Writer) Rows() int64 { return w.rows }

// Bytes is the in-memory size of the batches written so far.
func (w *Writer) Bytes() int64 { return w.bytes }

// Finish closes the file and returns it for reading.
func (w *Writer) Finish() (*File, error) {
	err := w.w.Close()
	if err == nil {
		err = w.buf.Flush()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(w.path)
		return nil, fmt.Errorf("spill: writing %s: %w", w.path, err)
	}
	return &File{path: w.path, schema: w.schema, Rows: w.rows, Bytes: w.bytes}, nil
}

// Abort closes and removes the file.
func (w *Writer) Abort() {
	w.w.Close()
	w.f.Close()
	os.Remove(w.path)
}

// File is a finished spill file.
type File struct {
	path   string
	schema *arrow.Schema
	// Rows and Bytes are the rows and the in-memory size of its batches.
	Rows, Bytes int64
}

// Open starts reading f from its beginning; batches are allocated from mem
// (nil: the default allocator).
func (f *File) Open(mem memory.Allocator) (*Reader, error) {
	if mem == nil {
		mem = allocator
	}
	fd, err := os.Open(f.path)
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	r, err := ipc.NewReader(bufio.NewReaderSize(fd, 64<<10), ipc.WithAllocator(mem), ipc.WithSchema(f.schema))
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("spill: reading %s: %w", f.path, err)
	}
	return &Reader{f: fd, r: r, path: f.path}, nil
}

// Remove deletes the file.
func (f *File) Remove() { os.Remove(f.path) }

// Reader reads a spill file's batches in the order they were written.
type Reader struct {
	path string
	f    *os.File
	r    *ipc.Reader
}

// Next returns the next batch, which the caller must release, or io.EOF.
func (r *Reader) Next() (arrow.RecordBatch, error) {
	if r.r.Next() {
		b := r.r.RecordBatch()
		b.Retain()
		return b, nil
	}
	if err := r.r.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("spill: reading %s: %w", r.path, err)
	}
	return nil, io.EOF
}

// Close ends reading.
func (r *Reader) Close() {
	r.r.Release()
	r.f.Close()
}

// ReadAll calls f with every batch of file, in order, and removes the file
// when done; f must release the batch.
func ReadAll(file *File, mem memory.Allocator, f func(arrow.RecordBatch) error) error {
	defer file.Remove()
	r, err := file.Open(mem)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		b, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := f(b); err != nil {
			return err
		}
	}
}
