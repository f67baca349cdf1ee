package state

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"

	"github.com/weir-dev/weir/internal/tmpdir"
)

// pebbleStore is the on-disk backend: a Pebble database in a local directory.
//
// Its write-ahead log is off: the state of a failed job is rebuilt from a
// checkpoint, never from the working directory, so a synced log would only
// cost writes. Checkpoint flushes the memtable first so that the copy has
// every applied write.
type pebbleStore struct {
	db     *pebble.DB
	dir    string // the database's directory
	remove string // removed by Close: the private directory Open made, or ""

	mu     sync.RWMutex // Close waits for calls in flight
	closed bool
	batch  *pebble.Batch // reused by Apply, under mu's write lock
	amu    sync.Mutex
	limit  int64 // added to the Go heap's memory limit while open
}

// The memtables of an on-disk store: memTables of memTableSize at most
// (writes wait while that many are full), reserved in its block cache.
const (
	memTableSize    = 16 << 20
	memTables       = 2
	memTableReserve = memTables * memTableSize
)

// quietLogger drops Pebble's informational messages (flushes and
// compactions) and keeps its errors on stderr.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "weir: state (pebble): "+format+"\n", args...)
}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("weir: state (pebble): "+format, args...))
}

// openPebble opens an empty on-disk store in o.Dir or a private directory.
func openPebble(o Options) (Store, error) {
	return openPebbleWith(o, nil)
}

// openPebbleWith opens the store; fill, when set, puts a database's files
// into the new directory before Pebble opens it.
func openPebbleWith(o Options, fill func(dir string) error) (Store, error) {
	s := &pebbleStore{}
	root := o.Dir
	if root == "" {
		var err error
		if root, err = tmpdir.Make("weir-state-"); err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		s.remove = root
	} else if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	s.dir = filepath.Join(root, pebbleDir)
	fail := func(err error) (Store, error) {
		if s.remove != "" {
			os.RemoveAll(s.remove)
		}
		return nil, err
	}
	if _, err := os.Stat(s.dir); err == nil {
		return fail(fmt.Errorf("state: %s holds a database already; give an empty directory", s.dir))
	}
	if fill != nil {
		if err := fill(s.dir); err != nil {
			return fail(err)
		}
	}
	cacheBytes := o.CacheBytes
	if cacheBytes <= 0 {
		cacheBytes = 32 << 20
	}
	// Pebble reserves the memory of its memtables (the one being written
	// and the ones waiting for their flush) out of the block cache: a cache
	// of cacheBytes alone left no room for blocks once two memtables were
	// held, and every read went to the files (the filter block of each
	// table read and checksummed again per key). The cache holds both.
	cache := pebble.NewCache(cacheBytes + memTableReserve)
	opts := &pebble.Options{
		Cache:                       cache,
		DisableWAL:                  true,
		FormatMajorVersion:          pebble.FormatNewest,
		Logger:                      quietLogger{},
		MemTableSize:                memTableSize,
		MemTableStopWritesThreshold: memTables,
		MaxOpenFiles:                256,
	}
	// Bloom filters spare most reads of a key (a new group) the table files
	// that cannot hold it. Blocks are not compressed: accumulators are small
	// and read at random, so decompressing a block per read cost more (a
	// fifth of the CPU time of a keyed sum over 300k groups) than the disk.
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		opts.Levels[i].Compression = func() *sstable.CompressionProfile { return sstable.NoCompression }
	}
	db, err := pebble.Open(s.dir, opts)
	cache.Unref() // the database holds its own reference
	if err != nil {
		return fail(fmt.Errorf("state: opening the on-disk store in %s: %w", s.dir, err))
	}
	s.db = db
	s.batch = db.NewBatch()
	s.limit = addMemoryLimit(cacheBytes + memTableReserve)
	return s, nil
}

// restorePebble opens a store from a Pebble checkpoint: its table files are
// hard-linked (they are never changed) and the rest copied, so the
// checkpoint stays as it was.
func restorePebble(o Options, cp string) (Store, error) {
	src := filepath.Join(cp, pebbleDir)
	return openPebbleWith(o, func(dst string) error {
		if err := os.Mkdir(dst, 0o700); err != nil {
			return fmt.Errorf("state: restore: %w", err)
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			return fmt.Errorf("state: restore from %s: %w", cp, err)
		}
		for _, e := range entries {
			from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
			if e.IsDir() {
				return fmt.Errorf("state: restore from %s: unexpected directory %s", cp, e.Name())
			}
			if strings.HasSuffix(e.Name(), ".sst") || strings.HasSuffix(e.Name(), ".blob") {
				if os.Link(from, to) == nil {
					continue
				}
			}
			if err := copyFile(from, to); err != nil {
				return fmt.Errorf("state: restore from %s: %w", cp, err)
			}
		}
		return nil
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (s *pebbleStore) Get(key []byte) ([]byte, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, false, ErrClosed
	}
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("state: get: %w", err)
	}
	out := append(make([]byte, 0, len(v)), v...)
	closer.Close()
	return out, true, nil
}

// getMany reads keys in ascending order with one iterator: a prefix seek
// (the whole key is the prefix) consults the bloom filters as Get does, and
// a seek past the previous one moves on from where it stopped instead of
// looking the key up again from the top of every level, which per key (Get)
// cost most of the engine's CPU of a keyed sum over millions of groups.
func (s *pebbleStore) getMany(keys [][]byte, fn func(i int, value []byte, ok bool) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	order := make([]int32, len(keys))
	sorted := true
	for i := range order {
		order[i] = int32(i)
		if i > 0 && sorted && bytes.Compare(keys[i-1], keys[i]) > 0 {
			sorted = false
		}
	}
	if !sorted {
		slices.SortFunc(order, func(a, b int32) int { return bytes.Compare(keys[a], keys[b]) })
	}
	it, err := s.db.NewIter(nil)
	if err != nil {
		return fmt.Errorf("state: get: %w", err)
	}
	for _, i := range order {
		k := keys[i]
		if it.SeekPrefixGE(k) && bytes.Equal(it.Key(), k) {
			v, err := it.ValueAndErr()
			if err == nil {
				err = fn(int(i), v, true)
			}
			if err != nil {
				it.Close()
				return err
			}
			continue
		}
		if err := it.Error(); err != nil {
			it.Close()
			return fmt.Errorf("state: get: %w", err)
		}
		if err := fn(int(i), nil, false); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("state: get: %w", err)
	}
	return nil
}

func (s *pebbleStore) Apply(b *Batch) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.amu.Lock()
	defer s.amu.Unlock()
	pb := s.batch
	pb.Reset()
	err := b.each(func(del bool, k, v []byte) error {
		if del {
			return pb.Delete(k, nil)
		}
		return pb.Set(k, v, nil)
	})
	if err == nil {
		err = pb.Commit(pebble.NoSync)
	}
	if err != nil {
		return fmt.Errorf("state: apply: %w", err)
	}
	return nil
}

func (s *pebbleStore) Scan(fn func(key, value []byte) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	it, err := s.db.NewIter(nil)
	if err != nil {
		return fmt.Errorf("state: scan: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err == nil {
			err = fn(it.Key(), v)
		}
		if err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("state: scan: %w", err)
	}
	return nil
}

func (s *pebbleStore) Checkpoint(dir string) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("state: checkpoint: %w", err)
	}
	// Without a write-ahead log, only flushed writes reach the copy.
	err := s.db.Flush()
	if err == nil {
		err = s.db.Checkpoint(filepath.Join(dir, pebbleDir))
	}
	if err == nil {
		err = writeMarker(dir, Pebble)
	}
	if err != nil {
		return fmt.Errorf("state: checkpoint into %s: %w", dir, err)
	}
	return nil
}

func (s *pebbleStore) Backend() string { return Pebble }

func (s *pebbleStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.batch.Close()
	err := s.db.Close()
	addMemoryLimit(-s.limit)
	if s.remove != "" {
		if rerr := os.RemoveAll(s.remove); err == nil {
			err = rerr
		}
	}
	if err != nil {
		return fmt.Errorf("state: close: %w", err)
	}
	return nil
}
