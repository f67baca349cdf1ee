//go:build linux

package shm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/weir-dev/weir/internal/tmpdir"
)

// shmDir is where the arena's file lives: a tmpfs, so its pages are memory.
var shmDir = "/dev/shm"

type mapping struct {
	dir, path string
	mem       []byte
}

// create makes the file (in a private directory named after this process),
// reserves its size and maps it.
func create(size int) (*mapping, error) {
	if st, err := os.Stat(shmDir); err != nil || !st.IsDir() {
		return nil, ErrUnsupported
	}
	dir, err := tmpdir.MakeIn(shmDir, "weir-shm-")
	if err != nil {
		return nil, fmt.Errorf("shm: %w", err)
	}
	m := &mapping{dir: dir, path: filepath.Join(dir, "arena")}
	if err := m.open(size); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return m, nil
}

func (m *mapping) open(size int) error {
	f, err := os.OpenFile(m.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("shm: %w", err)
	}
	defer f.Close() // the mapping stays valid without the descriptor
	// Reserve the pages now: a write to a page that tmpfs cannot supply
	// later would be a SIGBUS.
	for {
		err = syscall.Fallocate(int(f.Fd()), 0, 0, int64(size))
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("shm: reserve %d bytes in %s: %w", size, shmDir, err)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("shm: map %s: %w", m.path, err)
	}
	m.mem = mem
	return nil
}

func (m *mapping) close() error {
	var err error
	if m.mem != nil {
		err = syscall.Munmap(m.mem)
		m.mem = nil
	}
	if rerr := os.RemoveAll(m.dir); err == nil {
		err = rerr
	}
	return err
}
