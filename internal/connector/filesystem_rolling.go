package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/config"
	"github.com/weir-dev/weir/internal/types"
)

// The filesystem sink in streaming mode (execution.runtime-mode =
// streaming), as Flink's streaming file sink: each directory (the table's,
// or each partition's) has one in-progress part file at a time, hidden and
// locked as in batch mode ('.part-<uuid>-0-<n>.inprogress-<pid>'), rolled
// to a new one when it reaches 'sink.rolling-policy.file-size' (default
// 128MB) or has been open 'sink.rolling-policy.rollover-interval' (default
// 30 min; checked as rows arrive), and on every checkpoint.
//
// A checkpoint's barrier (PreCommit) closes the in-progress files and
// renames the files rolled since the last checkpoint to
// '.part-<uuid>-0-<n>.pending', which the checkpoint lists; once the
// checkpoint is stored, CommitCheckpoint renames them to the visible
// 'part-<uuid>-0-<n>'. Without checkpoints the files are committed when the
// job ends, as in batch mode. A job that resumes from checkpoint N renames
// N's pending files (again: a rename already done is skipped) and removes
// the hidden files of the same <uuid> that N does not list (written after
// it), then goes on writing with that uuid and the next numbers. So each
// row reaches the visible files once: through N's files, or written again
// after N.

// streamingOption is set by the planner on the sink of a streaming job.
const streamingOption = "$streaming"

// rollingPolicy is when a part file is rolled.
type rollingPolicy struct {
	fileSize int64
	interval time.Duration
}

var rollingOptions = []string{"sink.rolling-policy.file-size", "sink.rolling-policy.rollover-interval",
	"sink.rolling-policy.check-interval", "sink.rolling-policy.inactivity-interval"}

// readRollingPolicy reads the rolling options (of sources too, where they
// mean nothing, so that one table serves both).
func readRollingPolicy(o *options) (rollingPolicy, error) {
	p := rollingPolicy{fileSize: 128 << 20, interval: 30 * time.Minute}
	if v, ok := o.get("sink.rolling-policy.file-size"); ok {
		n, err := config.ParseMemorySize(v)
		if err != nil || n <= 0 {
			return p, o.bad("sink.rolling-policy.file-size", "must be a memory size such as '128MB' or '1kb'")
		}
		p.fileSize = n
	}
	for _, k := range rollingOptions[1:] {
		if v, ok := o.get(k); ok {
			d, err := config.ParseDuration(v)
			if err != nil || d <= 0 {
				return p, o.bad(k, "must be a duration such as '30 min' or '10 s'")
			}
			if k == "sink.rolling-policy.rollover-interval" {
				p.interval = d
			}
		}
	}
	return p, nil
}

// rolling is the state the directories of one streaming sink share.
type rolling struct {
	table  string
	root   string
	policy rollingPolicy
	// prefix names the sink's files 'part-<uuid>-0-'; next numbers them.
	prefix string
	next   int
	// newFile creates the hidden in-progress file dir/name of a part.
	newFile func(dir, name string) (*fileSink, error)
	buckets map[string]*bucket
	order   []string
	now     func() time.Time
}

// bucket writes the part files of one directory.
type bucket struct {
	r       *rolling
	dir     string
	cur     *fileSink // the in-progress file, or nil
	opened  time.Time
	rolled  []*fileSink // finished, still hidden and locked, not yet in a checkpoint
	pending []pendingFile
	rows    int64
	closed  bool
}

// pendingFile is a file a checkpoint listed, hidden until it commits.
type pendingFile struct {
	id   int64
	path string // the hidden '.pending' file
}

// committedName is the visible name of a '.part-....pending' file.
func committedName(path string) string {
	dir, name := filepath.Split(path)
	return filepath.Join(dir, strings.TrimSuffix(strings.TrimPrefix(name, "."), pendingSuffix))
}

const pendingSuffix = ".pending"

func (r *rolling) bucket(dir string) *bucket {
	if b, ok := r.buckets[dir]; ok {
		return b
	}
	b := &bucket{r: r, dir: dir}
	r.buckets[dir] = b
	r.order = append(r.order, dir)
	return b
}

func (b *bucket) Rows() int64 { return b.rows }

func (b *bucket) Write(ctx context.Context, batch arrow.RecordBatch) error {
	if b.closed {
		return errClosed
	}
	if b.cur == nil {
		name := b.r.prefix + strconv.Itoa(b.r.next)
		b.r.next++
		f, err := b.r.newFile(b.dir, name)
		if err != nil {
			return err
		}
		b.cur, b.opened = f, b.r.now()
	}
	if err := b.cur.Write(ctx, batch); err != nil {
		return err
	}
	b.rows += batch.NumRows()
	if b.cur.size() >= b.r.policy.fileSize || b.r.now().Sub(b.opened) >= b.r.policy.interval {
		return b.roll()
	}
	return nil
}

// roll finishes the in-progress file (kept open and locked, so that no
// other writer's cleanup takes it, until a checkpoint or the end).
func (b *bucket) roll() error {
	if b.cur == nil {
		return nil
	}
	f := b.cur
	b.cur = nil
	if f.rows == 0 {
		f.Abort(nil)
		return nil
	}
	if err := f.finishFile(); err != nil {
		f.Abort(err)
		return fmt.Errorf("table '%s': finishing '%s': %w", b.r.table, filepath.Join(f.dir, f.tmp), err)
	}
	b.rolled = append(b.rolled, f)
	return nil
}

// preCommit rolls the in-progress file and renames the rolled ones to
// their pending names for checkpoint id.
func (b *bucket) preCommit(id int64) error {
	if err := b.roll(); err != nil {
		return err
	}
	for len(b.rolled) > 0 {
		f := b.rolled[0]
		p := filepath.Join(f.dir, "."+f.part+pendingSuffix)
		if err := os.Rename(filepath.Join(f.dir, f.tmp), p); err != nil {
			return fmt.Errorf("table '%s': checkpoint %d: %w", b.r.table, id, err)
		}
		f.closed = true
		f.f.Close()
		b.rolled = b.rolled[1:]
		b.pending = append(b.pending, pendingFile{id: id, path: p})
	}
	return syncDir(b.dir)
}

// commit publishes the pending files of checkpoints up to id.
func (b *bucket) commit(id int64) error {
	keep := b.pending[:0]
	for _, p := range b.pending {
		if p.id > id {
			keep = append(keep, p)
			continue
		}
		if err := os.Rename(p.path, committedName(p.path)); err != nil {
			return fmt.Errorf("table '%s': committing checkpoint %d: %w", b.r.table, id, err)
		}
	}
	b.pending = keep
	return syncDir(b.dir)
}

// Commit, at the job's end, publishes every file of the bucket.
func (b *bucket) Commit() error {
	if b.closed {
		return errClosed
	}
	if err := b.roll(); err != nil {
		b.Abort(err)
		return err
	}
	b.closed = true
	for len(b.rolled) > 0 {
		f := b.rolled[0]
		err := os.Rename(filepath.Join(f.dir, f.tmp), filepath.Join(f.dir, f.part))
		f.closed = true
		f.f.Close()
		b.rolled = b.rolled[1:]
		if err != nil {
			b.closed = false
			b.Abort(err)
			return fmt.Errorf("table '%s': committing '%s': %w", b.r.table, b.dir, err)
		}
	}
	if err := b.commit(1<<62 - 1); err != nil {
		return err
	}
	return nil
}

// Abort removes the files no checkpoint lists; pending ones stay for a
// job that resumes from their checkpoint.
func (b *bucket) Abort(cause error) {
	if b.closed {
		return
	}
	b.closed = true
	if b.cur != nil {
		b.cur.Abort(cause)
		b.cur = nil
	}
	for _, f := range b.rolled {
		f.closed = false
		f.Abort(cause)
	}
	b.rolled = nil
}

// streamingFileSink is the filesystem sink of a streaming job: a
// partitionedSink (with no keys for a table without partitions) whose
// directories are buckets of rolling part files, committed on checkpoints.
type streamingFileSink struct {
	*partitionedSink
	r *rolling
}

var _ checkpoint.Sink = (*streamingFileSink)(nil)

// checkpointData is what a checkpoint stores of the sink.
type checkpointData struct {
	Prefix  string   `json:"prefix"`
	Next    int      `json:"next"`
	Pending []string `json:"pending"` // relative to the table's path
}

func (s *streamingFileSink) PreCommit(ctx context.Context, id int64) ([]byte, error) {
	d := checkpointData{Prefix: s.r.prefix}
	for _, dir := range s.r.order {
		b := s.r.buckets[dir]
		if err := b.preCommit(id); err != nil {
			return nil, err
		}
		for _, p := range b.pending {
			rel, err := filepath.Rel(s.r.root, p.path)
			if err != nil {
				return nil, err
			}
			d.Pending = append(d.Pending, rel)
		}
	}
	d.Next = s.r.next
	return json.Marshal(d)
}

func (s *streamingFileSink) CommitCheckpoint(ctx context.Context, id int64) error {
	for _, dir := range s.r.order {
		if err := s.r.buckets[dir].commit(id); err != nil {
			return err
		}
	}
	return nil
}

// Recover finishes checkpoint id's commit and removes the files of this
// sink's lineage written after it.
func (s *streamingFileSink) Recover(ctx context.Context, id int64, data []byte) (bool, error) {
	var d checkpointData
	if err := json.Unmarshal(data, &d); err != nil || !strings.HasPrefix(d.Prefix, "part-") || strings.ContainsRune(d.Prefix, '/') {
		return false, fmt.Errorf("table '%s': checkpoint %d holds no filesystem sink state of this table (%v); start the job without that checkpoint", s.table, id, err)
	}
	for _, rel := range d.Pending {
		p := filepath.Join(s.r.root, rel)
		if !strings.HasPrefix(filepath.Clean(p), filepath.Clean(s.r.root)+string(filepath.Separator)) {
			return false, fmt.Errorf("table '%s': checkpoint %d lists '%s', outside the table's path", s.table, id, rel)
		}
		err := os.Rename(p, committedName(p))
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat(committedName(p)); serr == nil {
				continue // committed before the crash
			}
			return false, fmt.Errorf("table '%s': file '%s' of checkpoint %d is gone (neither pending nor committed); its rows cannot be restored", s.table, p, id)
		}
		if err != nil {
			return false, fmt.Errorf("table '%s': committing checkpoint %d: %w", s.table, id, err)
		}
	}
	// Files of the lineage newer than the checkpoint: in progress, rolled or
	// pending for a checkpoint that was never completed.
	mark := "." + d.Prefix
	err := filepath.WalkDir(s.r.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := e.Name()
		if e.IsDir() {
			if p != s.r.root && hidden(name) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(name, mark) {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("table '%s': removing the files written after checkpoint %d: %w", s.table, id, err)
	}
	s.r.prefix, s.r.next = d.Prefix, d.Next
	return true, nil
}

// openStreamingFileSink opens the rolling sink of a streaming job.
func openStreamingFileSink(o *options, part *partitioning, schema types.Schema, policy rollingPolicy) (*streamingFileSink, error) {
	root, err := readFilePath(o)
	if err != nil {
		return nil, err
	}
	if part == nil {
		part = &partitioning{defaultName: defaultPartitionName}
	}
	data, dataCols := part.dataSchema(schema)
	if err := checkFormatOptions(o, data); err != nil {
		return nil, err
	}
	if err := prepareSinkDir(o.table, root); err != nil {
		return nil, err
	}
	r := &rolling{table: o.table, root: root, policy: policy, prefix: "part-" + newUUID() + "-0-",
		buckets: map[string]*bucket{}, now: time.Now}
	cleaned := map[string]bool{}
	r.newFile = func(dir, name string) (*fileSink, error) {
		in := innerOptions(o, dir)
		in.m[streamingPartOption] = name
		if !cleaned[dir] {
			cleaned[dir] = true
		} else {
			in.m[streamingNoCleanOption] = "true"
		}
		w, err := openFileSink(in, data, false)
		if err != nil {
			return nil, err
		}
		return w.(*fileSink), nil
	}
	ps := &partitionedSink{table: o.table, schema: schema, data: data, dataCols: dataCols, part: part, root: root,
		writers: map[string]partWriter{}}
	ps.mem = memory.DefaultAllocator
	ps.open = func(dir string) (partWriter, error) { return r.bucket(dir), nil }
	return &streamingFileSink{partitionedSink: ps, r: r}, nil
}

// The options by which a streaming sink names its part files and skips
// the cleanup of a directory it cleaned already (internal: set by the sink).
const (
	streamingPartOption    = "$part-name"
	streamingNoCleanOption = "$no-clean"
)

// size is how many bytes the part file holds so far, those its writer
// keeps back included.
func (s *fileSink) size() int64 {
	n, _ := s.f.Seek(0, io.SeekCurrent)
	n += int64(s.w.Buffered())
	if pe, ok := s.enc.(*parquetEncoder); ok {
		n += pe.size()
	}
	return n
}

// finishFile writes what the format keeps back and makes the file durable,
// leaving it open, locked and hidden.
func (s *fileSink) finishFile() error {
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
	return err
}
