// Package state keeps the keyed state of one operator: key bytes -> value
// bytes, such as the accumulators of Python aggregate functions by group key.
//
// A Store is read with Get and written with a Batch of puts and deletes that
// Apply makes visible all at once, so a bundle's writes are either all in
// the store or none. Checkpoint writes a consistent copy of the store to a
// directory; Open with Options.Restore starts a store from such a copy (of
// either backend).
//
// Two backends, chosen by Flink's option state.backend.type:
//
//   - "hashmap" (the default, as in Flink): a Go map in memory.
//   - "pebble" (also accepted as "rocksdb", Flink's on-disk backend): an
//     embedded Pebble LSM store in a local directory, for state larger than
//     memory. weir uses Pebble (CockroachDB's Go key-value store, with
//     RocksDB's design and file layout ideas) rather than RocksDB itself.
//
// state imports only tmpdir of weir's packages (and Pebble).
package state

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Backend names accepted by Open (and the option state.backend.type).
const (
	HashMap = "hashmap"
	Pebble  = "pebble"
	RocksDB = "rocksdb" // Flink's name for its on-disk backend; weir's is Pebble
)

// Store is the keyed state of one operator. Get, Scan and Checkpoint may run
// concurrently with Apply; a Get sees every Apply that returned before it.
type Store interface {
	// Get returns the value of key; ok is false when key has none. The
	// returned slice belongs to the caller until its next call on the store
	// and must not be modified.
	Get(key []byte) (value []byte, ok bool, err error)
	// Apply makes the batch's writes visible, in the batch's order, all at
	// once. The store copies keys and values: the batch may be reused after
	// Reset.
	Apply(b *Batch) error
	// Scan calls fn with every key and value in ascending key order; the
	// slices are valid only during the call. A non-nil error from fn stops
	// the scan and is returned.
	Scan(fn func(key, value []byte) error) error
	// Checkpoint writes a consistent copy of the store into dir, which must
	// not exist yet (it is created). Writes applied after Checkpoint returns
	// are not in it.
	Checkpoint(dir string) error
	// Backend names the store's backend (HashMap or Pebble).
	Backend() string
	// Close releases the store; the on-disk backend removes its working
	// directory when Open made it. Checkpoints are kept.
	Close() error
}

// Options open a Store.
type Options struct {
	// Backend is "hashmap" (the default when empty), "pebble" or "rocksdb".
	Backend string
	// Dir is the on-disk backend's working directory; empty means a private
	// temporary directory removed by Close (and by the next run when this
	// process dies).
	Dir string
	// Restore, when set, is a directory written by Checkpoint: the store
	// starts with its contents (the checkpoint itself is not changed).
	Restore string
	// CacheBytes is the on-disk backend's block cache; 0 means 32 MiB.
	CacheBytes int64
}

// GetMany calls fn once for each of keys with its index in keys and its
// value (ok false when it has none), in an order of the store's choosing;
// value is valid only during the call. A non-nil error from fn stops it and
// is returned. The on-disk backend reads the keys in ascending order with
// one iterator, so that the keys of a batch that share blocks read each
// block once; other stores call Get per key.
func GetMany(s Store, keys [][]byte, fn func(i int, value []byte, ok bool) error) error {
	if m, ok := s.(interface {
		getMany([][]byte, func(int, []byte, bool) error) error
	}); ok {
		return m.getMany(keys, fn)
	}
	return getEach(s, keys, fn)
}

// getEach is GetMany by Get, key by key.
func getEach(s Store, keys [][]byte, fn func(i int, value []byte, ok bool) error) error {
	for i, k := range keys {
		v, ok, err := s.Get(k)
		if err != nil {
			return err
		}
		if err := fn(i, v, ok); err != nil {
			return err
		}
	}
	return nil
}

// ErrClosed is returned by calls on a closed store.
var ErrClosed = errors.New("state: store is closed")

// Canonical returns the backend a name means ("" and "hashmap" are the
// memory backend, "pebble" and "rocksdb" the on-disk one), or an error that
// lists the names.
func Canonical(name string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", HashMap:
		return HashMap, nil
	case Pebble, RocksDB:
		return Pebble, nil
	case "forst":
		return "", fmt.Errorf("state: backend 'forst' (Flink's disaggregated state) is not supported: use 'hashmap' (memory) or 'rocksdb' (on local disk, Pebble in weir)")
	}
	return "", fmt.Errorf("state: unknown backend %q: use 'hashmap' (memory) or 'rocksdb' / 'pebble' (on local disk)", name)
}

// Open opens a store of the backend o names, empty or from o.Restore.
func Open(o Options) (Store, error) {
	backend, err := Canonical(o.Backend)
	if err != nil {
		return nil, err
	}
	var from string
	if o.Restore != "" {
		if from, err = checkpointBackend(o.Restore); err != nil {
			return nil, err
		}
	}
	var s Store
	switch backend {
	case HashMap:
		if from == HashMap {
			return restoreMemory(o.Restore)
		}
		s = NewMemory()
	case Pebble:
		if from == Pebble {
			return restorePebble(o, o.Restore)
		}
		if s, err = openPebble(o); err != nil {
			return nil, err
		}
	}
	if from != "" {
		// A checkpoint of the other backend: copy its entries over.
		if err := copyFrom(s, o.Restore, from); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// copyFrom loads the checkpoint in dir, written by backend from, into s.
func copyFrom(s Store, dir, from string) error {
	src, err := Open(Options{Backend: from, Restore: dir})
	if err != nil {
		return err
	}
	defer src.Close()
	b := new(Batch)
	err = src.Scan(func(k, v []byte) error {
		b.Put(k, v)
		if b.Len() >= 4096 {
			if err := s.Apply(b); err != nil {
				return err
			}
			b.Reset()
		}
		return nil
	})
	if err == nil {
		err = s.Apply(b)
	}
	if err != nil {
		return fmt.Errorf("state: restoring %s: %w", dir, err)
	}
	return nil
}

// Batch is an ordered list of puts and deletes, applied at once by
// Store.Apply.
type Batch struct {
	ops  []op
	data []byte // keys and values, back to back
}

type op struct {
	del        bool
	kOff, kLen int
	vOff, vLen int
}

// Put sets key to value (both copied into the batch).
func (b *Batch) Put(key, value []byte) {
	o := op{kOff: len(b.data), kLen: len(key)}
	b.data = append(b.data, key...)
	o.vOff, o.vLen = len(b.data), len(value)
	b.data = append(b.data, value...)
	b.ops = append(b.ops, o)
}

// Delete removes key's value (deleting a missing key is not an error).
func (b *Batch) Delete(key []byte) {
	o := op{del: true, kOff: len(b.data), kLen: len(key)}
	b.data = append(b.data, key...)
	b.ops = append(b.ops, o)
}

// Grow makes room for ops more writes of bytes more key and value bytes,
// so that a batch filled from a request of known size grows once.
func (b *Batch) Grow(ops, bytes int) {
	b.ops = slices.Grow(b.ops, ops)
	b.data = slices.Grow(b.data, bytes)
}

// Len is the number of writes in the batch.
func (b *Batch) Len() int { return len(b.ops) }

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() {
	b.ops = b.ops[:0]
	b.data = b.data[:0]
}

// each calls fn with every write in order; value is nil for a delete.
func (b *Batch) each(fn func(del bool, key, value []byte) error) error {
	for _, o := range b.ops {
		k := b.data[o.kOff : o.kOff+o.kLen : o.kOff+o.kLen]
		var v []byte
		if !o.del {
			v = b.data[o.vOff : o.vOff+o.vLen : o.vOff+o.vLen]
		}
		if err := fn(o.del, k, v); err != nil {
			return err
		}
	}
	return nil
}
