package checkpoint

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MetadataFile is the file of a checkpoint directory written last: a
// chk-<id> directory is complete when it holds it (it is renamed into place
// with everything else already on disk).
const MetadataFile = "_metadata"

// metadataVersion is the version of the metadata's encoding.
const metadataVersion = 1

// Metadata describes one complete checkpoint.
type Metadata struct {
	Version int   `json:"version"`
	ID      int64 `json:"id"`
	// Job is the fingerprint of the job's plan: a checkpoint resumes only
	// the job that wrote it. JobText is the job's statement, for messages.
	Job     string    `json:"job"`
	JobText string    `json:"job_text,omitempty"`
	Time    time.Time `json:"time"`
	// Sources are the sources' positions, in the job's order of sources.
	Sources [][]byte `json:"sources"`
	// Operators are the names of the operators that saved state, each in
	// a file of that name beside the metadata.
	Operators []string `json:"operators,omitempty"`
	// Sink is what the sink's PreCommit returned.
	Sink []byte `json:"sink,omitempty"`
}

// Store is a directory of checkpoints: chk-<id> directories, each complete
// once renamed from its chk-<id>.inprogress-<pid> directory; a checkpoint
// the job did not resume from (its sink commit was lost) is renamed
// chk-<id>.discarded, so that its id is never used again.
type Store struct {
	dir string
}

// OpenStore opens (creating it if needed) the checkpoint directory dir: a
// path or a file:// URI.
func OpenStore(dir string) (*Store, error) {
	if rest, ok := strings.CutPrefix(dir, "file://"); ok {
		dir = rest
	} else if i := strings.Index(dir, "://"); i > 0 {
		return nil, fmt.Errorf("checkpoint directory %q: only local paths and file:// URIs are supported", dir)
	}
	if dir == "" {
		return nil, errors.New("checkpoint directory: empty path")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("checkpoint directory: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Path is the directory of complete checkpoint id.
func (s *Store) Path(id int64) string { return filepath.Join(s.dir, fmt.Sprintf("chk-%d", id)) }

// entry is one chk-* name of the directory.
type entry struct {
	id   int64
	name string
	kind string // "" complete (if it has its metadata), "inprogress", "discarded"
}

func (s *Store) list() ([]entry, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint directory: %w", err)
	}
	var out []entry
	for _, de := range des {
		rest, ok := strings.CutPrefix(de.Name(), "chk-")
		if !ok || !de.IsDir() {
			continue
		}
		num, kind, _ := strings.Cut(rest, ".")
		id, err := strconv.ParseInt(num, 10, 64)
		if err != nil || id <= 0 {
			continue
		}
		if strings.HasPrefix(kind, "inprogress") {
			kind = "inprogress"
		}
		out = append(out, entry{id: id, name: de.Name(), kind: kind})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

// Complete returns the ids of the complete checkpoints, oldest first.
// Directories without their metadata (torn) are not complete.
func (s *Store) Complete() ([]int64, error) {
	es, err := s.list()
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, e := range es {
		if e.kind != "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(s.dir, e.name, MetadataFile)); err == nil {
			ids = append(ids, e.id)
		}
	}
	return ids, nil
}

// MaxID is the largest id in the directory, complete or not: new
// checkpoints take ids above it.
func (s *Store) MaxID() (int64, error) {
	es, err := s.list()
	if err != nil || len(es) == 0 {
		return 0, err
	}
	return es[len(es)-1].id, nil
}

// Load reads the metadata of checkpoint id.
func (s *Store) Load(id int64) (*Metadata, error) {
	return LoadMetadata(s.Path(id))
}

// LoadMetadata reads the metadata of the checkpoint directory dir.
func LoadMetadata(dir string) (*Metadata, error) {
	data, err := os.ReadFile(filepath.Join(dir, MetadataFile))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	var m Metadata
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("checkpoint %s: metadata: %w", dir, err)
	}
	if m.Version != metadataVersion {
		return nil, fmt.Errorf("checkpoint %s: metadata version %d, this weir reads version %d", dir, m.Version, metadataVersion)
	}
	return &m, nil
}

// Discard renames checkpoint id so that it is not resumed from, keeping
// its id taken.
func (s *Store) Discard(id int64) error {
	p := s.Path(id)
	if err := os.Rename(p, p+".discarded"); err != nil {
		return fmt.Errorf("checkpoint: discard: %w", err)
	}
	return syncDir(s.dir)
}

// Retain removes all but the newest keep complete checkpoints, the
// discarded ones older than those, and unfinished directories older than
// the newest complete one (left by an engine that died).
func (s *Store) Retain(keep int) error {
	es, err := s.list()
	if err != nil {
		return err
	}
	ids, err := s.Complete()
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	newest := ids[len(ids)-1]
	oldestKept := newest
	if len(ids) > keep {
		oldestKept = ids[len(ids)-keep]
	} else {
		oldestKept = ids[0]
	}
	var errs []error
	for _, e := range es {
		remove := false
		switch e.kind {
		case "":
			remove = e.id < oldestKept
		case "inprogress":
			remove = e.id < newest
		case "discarded":
			remove = e.id < oldestKept
		}
		if remove {
			if err := os.RemoveAll(filepath.Join(s.dir, e.name)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Clear removes every checkpoint of the directory: a job that finished
// has nothing to resume.
func (s *Store) Clear() error {
	es, err := s.list()
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range es {
		if err := os.RemoveAll(filepath.Join(s.dir, e.name)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Pending is a checkpoint being written: its files go into a hidden
// directory renamed into place by Finish.
type Pending struct {
	store *Store
	id    int64
	dir   string
}

// Begin starts writing checkpoint id.
func (s *Store) Begin(id int64) (*Pending, error) {
	dir := s.Path(id) + fmt.Sprintf(".inprogress-%d", os.Getpid())
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("checkpoint %d: %w", id, err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("checkpoint %d: %w", id, err)
	}
	return &Pending{store: s, id: id, dir: dir}, nil
}

// WriteFile writes one file of the checkpoint (synced to disk) with write.
func (p *Pending) WriteFile(name string, write func(w io.Writer) error) error {
	f, err := os.OpenFile(filepath.Join(p.dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("checkpoint %d: %w", p.id, err)
	}
	bw := newBufWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("checkpoint %d: %s: %w", p.id, name, err)
	}
	return nil
}

// Finish writes the metadata and renames the directory into place: the
// checkpoint is then complete, on disk.
func (p *Pending) Finish(m *Metadata) error {
	m.Version, m.ID = metadataVersion, p.id
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("checkpoint %d: %w", p.id, err)
	}
	if err := p.WriteFile(MetadataFile, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return err
	}
	if err := syncDir(p.dir); err != nil {
		return fmt.Errorf("checkpoint %d: %w", p.id, err)
	}
	if err := os.Rename(p.dir, p.store.Path(p.id)); err != nil {
		return fmt.Errorf("checkpoint %d: %w", p.id, err)
	}
	if err := syncDir(p.store.dir); err != nil {
		return fmt.Errorf("checkpoint %d: %w", p.id, err)
	}
	return nil
}

// Abort removes the unfinished checkpoint.
func (p *Pending) Abort() { os.RemoveAll(p.dir) }

// OpenFile opens a file of a complete checkpoint directory.
func OpenFile(dir, name string) (*os.File, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	return f, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func newBufWriter(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 1<<16) }
