package connector

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/checkpoint"
)

// Positions of filesystem sources, for checkpoints: the file being read
// and how far into it (lines of csv and json, rows of parquet) the batches
// returned so far reach. A job resumed from a checkpoint lists the table
// again, skips the files before that one (in the listing's order, which is
// name order) and the lines or rows of it already read. A file of the
// checkpoint that is gone from the listing fails the resume, naming it;
// files added since are read when their turn comes.

// filePos is where a file source is.
type filePos struct {
	Path string `json:"path"` // the file being read, "" before the first
	N    int64  `json:"n"`    // its lines (csv, json) or rows (parquet) read
	// skip, set by seek: the lines or rows of Path to pass over.
	skip *filePos
}

// enter records that the source opened path.
func (p *filePos) enter(path string) { p.Path, p.N = path, 0 }

// skipping records that line (counted from 1) of the current file was read
// and reports whether the checkpoint's position is beyond it.
func (p *filePos) skipping(line int) bool {
	p.N = int64(line)
	return p.skip != nil && p.skip.Path == p.Path && p.N <= p.skip.N
}

// skipRows records a batch of rows of the current file and returns the
// part of it beyond the checkpoint's position (nil for none; b is released
// when not returned whole).
func (p *filePos) skipRows(b arrow.RecordBatch) arrow.RecordBatch {
	start := p.N
	p.N += b.NumRows()
	if p.skip == nil || p.skip.Path != p.Path || start >= p.skip.N {
		return b
	}
	defer b.Release()
	if p.N <= p.skip.N {
		return nil
	}
	return b.NewSlice(p.skip.N-start, b.NumRows())
}

func (p *filePos) encode() ([]byte, error) { return json.Marshal(p) }

// seek decodes a position and drops the files before its file from files
// (and opened, the first of them opened upfront).
func (p *filePos) seek(table string, pos []byte, files *[]string, opened *[]*os.File) error {
	var at filePos
	if err := json.Unmarshal(pos, &at); err != nil {
		return fmt.Errorf("table '%s': a checkpoint's position %q is not one of a filesystem source: %w", table, pos, err)
	}
	if at.Path == "" {
		return nil
	}
	i := slices.Index(*files, at.Path)
	if i < 0 {
		return fmt.Errorf("table '%s': file '%s', read up to the checkpoint, is no longer in the table; restore it, or start the job without the checkpoint", table, at.Path)
	}
	for k := 0; k < i && k < len(*opened); k++ {
		(*opened)[k].Close()
	}
	*opened = (*opened)[min(i, len(*opened)):]
	*files = (*files)[i:]
	p.skip = &at
	return nil
}

var (
	_ checkpoint.Source = (*fileSource)(nil)
	_ checkpoint.Source = (*jsonFileSource)(nil)
	_ checkpoint.Source = (*parquetSource)(nil)
	_ checkpoint.Source = (*partitionedSource)(nil)
)

func (s *fileSource) Position() ([]byte, error) { return s.pos.encode() }
func (s *fileSource) Seek(pos []byte) error     { return s.pos.seek(s.table, pos, &s.files, &s.opened) }

func (s *jsonFileSource) Position() ([]byte, error) { return s.pos.encode() }
func (s *jsonFileSource) Seek(pos []byte) error     { return s.pos.seek(s.table, pos, &s.files, &s.opened) }

func (s *parquetSource) Position() ([]byte, error) { return s.pos.encode() }
func (s *parquetSource) Seek(pos []byte) error     { return s.pos.seek(s.table, pos, &s.files, &s.opened) }

// partitionPos is where a partitioned source is: its partition directory
// and the position of that directory's source (nil once it ended).
type partitionPos struct {
	Part  string          `json:"part"`
	Inner json.RawMessage `json:"inner,omitempty"`
}

func (s *partitionedSource) Position() ([]byte, error) {
	p := partitionPos{Part: s.curPath}
	if s.cur != nil {
		cs, ok := s.cur.(checkpoint.Source)
		if !ok {
			return nil, fmt.Errorf("table '%s': its format's source keeps no position", s.table)
		}
		inner, err := cs.Position()
		if err != nil {
			return nil, err
		}
		p.Inner = inner
	}
	return json.Marshal(p)
}

func (s *partitionedSource) Seek(pos []byte) error {
	var p partitionPos
	if err := json.Unmarshal(pos, &p); err != nil {
		return fmt.Errorf("table '%s': a checkpoint's position %q is not one of a partitioned filesystem source: %w", s.table, pos, err)
	}
	if p.Part == "" {
		return nil
	}
	i := slices.IndexFunc(s.parts, func(d partitionDir) bool { return d.path == p.Part })
	if i < 0 {
		return fmt.Errorf("table '%s': partition '%s', read up to the checkpoint, is no longer in the table; restore it, or start the job without the checkpoint", s.table, p.Part)
	}
	s.parts = s.parts[i:]
	if p.Inner == nil { // that partition had been read to its end
		s.parts = s.parts[1:]
		return nil
	}
	if err := s.openPart(); err != nil {
		return err
	}
	cs, ok := s.cur.(checkpoint.Source)
	if !ok {
		return fmt.Errorf("table '%s': its format's source keeps no position", s.table)
	}
	return cs.Seek(p.Inner)
}
