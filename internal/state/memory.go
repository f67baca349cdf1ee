package state

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Memory is the hashmap backend: a Go map guarded by a lock.
type Memory struct {
	mu     sync.RWMutex
	m      map[string][]byte
	closed bool
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{m: map[string][]byte{}} }

// Get implements Store.
func (s *Memory) Get(key []byte) ([]byte, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, false, ErrClosed
	}
	v, ok := s.m[string(key)]
	return v, ok, nil
}

// Apply implements Store.
func (s *Memory) Apply(b *Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return b.each(func(del bool, k, v []byte) error {
		if del {
			delete(s.m, string(k))
		} else {
			// A stored value never shares memory with the batch.
			s.m[string(k)] = append(make([]byte, 0, len(v)), v...)
		}
		return nil
	})
}

// Len is the number of keys.
func (s *Memory) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

// Scan implements Store; it sorts the keys, so it costs O(n log n).
func (s *Memory) Scan(fn func(key, value []byte) error) error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	vals := make([][]byte, len(keys))
	slices.Sort(keys)
	for i, k := range keys {
		vals[i] = s.m[k]
	}
	// Values are never changed in place (Apply stores new slices), so the
	// scan can run without the lock on a snapshot of the map.
	s.mu.RUnlock()
	for i, k := range keys {
		if err := fn([]byte(k), vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// Backend implements Store.
func (s *Memory) Backend() string { return HashMap }

// Close implements Store.
func (s *Memory) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.m = nil
	return nil
}

// The checkpoint of the memory backend is one file of records
// (uvarint key length, key, uvarint value length, value) in ascending key
// order, then an end mark (a key length of 2^63) and the CRC-32C of all
// bytes before it.
const (
	markerFile  = "WEIR_STATE"
	entriesFile = "entries"
	pebbleDir   = "pebble"
	endMark     = uint64(1) << 63
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Checkpoint implements Store.
func (s *Memory) Checkpoint(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("state: checkpoint: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, entriesFile))
	if err != nil {
		return fmt.Errorf("state: checkpoint: %w", err)
	}
	crc := crc32.New(crcTable)
	w := bufio.NewWriterSize(io.MultiWriter(f, crc), 1<<16)
	var num [binary.MaxVarintLen64]byte
	err = s.Scan(func(k, v []byte) error {
		w.Write(num[:binary.PutUvarint(num[:], uint64(len(k)))])
		w.Write(k)
		w.Write(num[:binary.PutUvarint(num[:], uint64(len(v)))])
		_, err := w.Write(v)
		return err
	})
	if err == nil {
		w.Write(num[:binary.PutUvarint(num[:], endMark)])
		err = w.Flush()
	}
	if err == nil {
		_, err = f.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = writeMarker(dir, HashMap)
	}
	if err != nil {
		return fmt.Errorf("state: checkpoint into %s: %w", dir, err)
	}
	return nil
}

// restoreMemory reads a memory checkpoint.
func restoreMemory(dir string) (*Memory, error) {
	path := filepath.Join(dir, entriesFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("state: restore: %w", err)
	}
	defer f.Close()
	r := &crcReader{r: bufio.NewReaderSize(f, 1<<16)}
	bad := func(what string, err error) (*Memory, error) {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("state: checkpoint %s is damaged (%s): %v; restore from another checkpoint", path, what, err)
	}
	s := NewMemory()
	for {
		kl, err := binary.ReadUvarint(r)
		if err != nil {
			return bad("key length", err)
		}
		if kl == endMark {
			break
		}
		if kl > 1<<31 {
			return bad("key length", fmt.Errorf("%d bytes", kl))
		}
		k := make([]byte, kl)
		if _, err := io.ReadFull(r, k); err != nil {
			return bad("key", err)
		}
		vl, err := binary.ReadUvarint(r)
		if err != nil || vl > 1<<31 {
			return bad("value length", err)
		}
		v := make([]byte, vl)
		if _, err := io.ReadFull(r, v); err != nil {
			return bad("value", err)
		}
		s.m[string(k)] = v
	}
	want := r.sum
	var sum [4]byte
	if _, err := io.ReadFull(r.r, sum[:]); err != nil {
		return bad("checksum", err)
	}
	if got := binary.LittleEndian.Uint32(sum[:]); got != want {
		return bad("checksum", fmt.Errorf("CRC %08x, want %08x", got, want))
	}
	return s, nil
}

// crcReader sums the bytes read through it.
type crcReader struct {
	r   *bufio.Reader
	sum uint32
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.sum = crc32.Update(c.sum, crcTable, p[:n])
	return n, err
}

func (c *crcReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.sum = crc32.Update(c.sum, crcTable, []byte{b})
	}
	return b, err
}

// writeMarker names the backend of a checkpoint; it is written last, so a
// directory without it is not a complete checkpoint.
func writeMarker(dir, backend string) error {
	path := filepath.Join(dir, markerFile)
	if err := os.WriteFile(path, []byte(backend+"\n"), 0o600); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// checkpointBackend reads the backend that wrote the checkpoint in dir.
func checkpointBackend(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, markerFile))
	if err != nil {
		return "", fmt.Errorf("state: %s is not a complete state checkpoint (%v)", dir, err)
	}
	name := string(b)
	for len(name) > 0 && (name[len(name)-1] == '\n' || name[len(name)-1] == '\r') {
		name = name[:len(name)-1]
	}
	if name != HashMap && name != Pebble {
		return "", fmt.Errorf("state: checkpoint %s names an unknown backend %q", dir, name)
	}
	return name, nil
}
