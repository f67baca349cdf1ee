package connector

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A filesystem table's directory, as Flink lays it out: visible files
// (names not starting with '.' or '_') are the table's data, in any
// subdirectory; hidden ones are ignored by readers.
//
// weir adds two kinds of hidden files, both named '...inprogress-<pid>' and
// locked (flock) by their writer while it lives:
//
//   - '.part-<uuid>-task-0-file-0.inprogress-<pid>': a part file being
//     written; Commit renames it to 'part-<uuid>-task-0-file-0'.
//   - '.overwrite-<uuid>.inprogress-<pid>': the journal of an INSERT
//     OVERWRITE commit: the new part's name, then the visible entries it
//     replaces, one quoted name a line. It is written before the new part
//     is renamed into place (the commit point) and removed after the old
//     entries are. Readers ignore the entries a journal lists once its part
//     is visible, so an overwrite appears to them as one step, even when the
//     engine dies half-way through removing the old entries.
//
// An overwrite's commit holds an exclusive lock (flock) on the directory
// itself, and readers a shared one while they list it and open its files,
// so that a listing sees a commit whole or not at all.
//
// A writer opening the directory removes the hidden files of writers that are
// gone (their lock is free and their process has exited, or the file is older
// than staleAge), finishing the overwrites whose part was published.

const (
	inprogressMark = ".inprogress-"
	journalPrefix  = ".overwrite-"
	// staleAge is when a hidden file whose lock is free counts as stale even
	// though a process with its pid runs (the pid was reused): a writer locks
	// its file microseconds after creating it.
	staleAge = time.Minute
)

// hidden reports whether Flink's readers skip a file or directory name.
func hidden(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// createLocked creates dir/name exclusively and locks it, so that other
// writers' stale-file cleanup sees it as alive.
func createLocked(dir, name string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil && !lockUnsupported(err) {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// lockUnsupported: some filesystems refuse flock; the pid in the name then
// decides alone.
func lockUnsupported(err error) bool {
	return errors.Is(err, syscall.ENOLCK) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EINVAL)
}

// writerPid returns the pid in a hidden file's name, or 0.
func writerPid(name string) int {
	if !hidden(name) {
		return 0
	}
	i := strings.LastIndex(name, inprogressMark)
	if i < 0 {
		return 0
	}
	pid, err := strconv.Atoi(name[i+len(inprogressMark):])
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// stale reports whether the hidden file dir/name of the writer pid was left
// by a writer that is gone. It never says so of a file a live writer holds.
func stale(dir, name string, pid int) bool {
	p := filepath.Join(dir, name)
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil && !lockUnsupported(err) {
		return false // a live writer holds it
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	// The pid runs, maybe reused by another program: only an old file whose
	// lock is free is stale.
	st, err := f.Stat()
	return err == nil && time.Since(st.ModTime()) > staleAge
}

// cleanStale removes the hidden files of dead writers in dir, and finishes
// their published overwrites. It returns what it removed.
func cleanStale(dir string) ([]string, error) {
	unlock, err := lockDir(dir, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	// Journals first: finishing an overwrite looks at which parts are visible.
	slices.SortStableFunc(entries, func(a, b os.DirEntry) int {
		ja, jb := strings.HasPrefix(a.Name(), journalPrefix), strings.HasPrefix(b.Name(), journalPrefix)
		switch {
		case ja && !jb:
			return -1
		case jb && !ja:
			return 1
		}
		return 0
	})
	for _, e := range entries {
		name := e.Name()
		pid := writerPid(name)
		if pid == 0 || e.IsDir() || !stale(dir, name, pid) {
			continue
		}
		if strings.HasPrefix(name, journalPrefix) {
			if j, err := readJournal(filepath.Join(dir, name)); err == nil && j.published(dir) {
				for _, old := range j.old {
					if err := os.RemoveAll(filepath.Join(dir, old)); err != nil {
						return removed, fmt.Errorf("finishing the INSERT OVERWRITE of a dead writer: %w", err)
					}
				}
			}
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, err
		}
		removed = append(removed, name)
	}
	return removed, nil
}

// journal is an INSERT OVERWRITE in progress: the part it publishes and the
// visible entries it replaces.
type journal struct {
	part string
	old  []string
}

func (j *journal) published(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, j.part))
	return err == nil
}

func (j *journal) encode() []byte {
	var b []byte
	b = strconv.AppendQuote(b, j.part)
	b = append(b, '\n')
	for _, o := range j.old {
		b = strconv.AppendQuote(b, o)
		b = append(b, '\n')
	}
	return b
}

func readJournal(path string) (*journal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var names []string
	for sc.Scan() {
		n, err := strconv.Unquote(sc.Text())
		if err != nil || n == "" || strings.ContainsRune(n, '/') {
			return nil, fmt.Errorf("%s: malformed journal line %q", path, sc.Text())
		}
		names = append(names, n)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: empty journal", path)
	}
	return &journal{part: names[0], old: names[1:]}, nil
}

// visibleEntries lists the names in dir that readers see.
func visibleEntries(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !hidden(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// maxDepth bounds how deep a reader goes into subdirectories (a symbolic
// link to a parent directory would otherwise never end).
const maxDepth = 32

// dataFiles lists the files a reader of a table's directory reads, in name
// order, recursing into visible subdirectories; the entries that published
// overwrites replace are left out. The caller holds dir's shared lock.
func dataFiles(dir string) ([]string, error) { return dataFilesAt(dir, 0) }

func dataFilesAt(dir string, depth int) ([]string, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("'%s' is more than %d directories deep (a symbolic link loop?)", dir, maxDepth)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.Name()] = true
	}
	replaced := map[string]bool{}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), journalPrefix) {
			continue
		}
		j, err := readJournal(filepath.Join(dir, e.Name()))
		if err != nil || !listed[j.part] {
			continue // not committed: the old entries stand
		}
		for _, o := range j.old {
			replaced[o] = true
		}
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if hidden(name) || replaced[name] {
			continue
		}
		p := filepath.Join(dir, name)
		st, err := os.Stat(p) // follows symbolic links, as a reader would
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the listing, by someone else than weir
		}
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			sub, err := dataFilesAt(p, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		} else if st.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	return out, nil
}

// lockWait bounds how long a reader or writer waits for a directory's lock,
// which a writer holds only for the few renames and removals of a commit.
const lockWait = 30 * time.Second

// lockDir takes a shared (readers listing the directory) or exclusive (an
// overwrite's commit, a dead writer's cleanup) lock on dir itself, and
// returns its release. readdir is not atomic: the lock keeps a listing from
// seeing half of a commit.
func lockDir(dir string, exclusive bool) (func(), error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(int(d.Fd()), how|syscall.LOCK_NB)
		if err == nil || lockUnsupported(err) {
			return func() { d.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			d.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("directory '%s' stayed locked by another weir job for %s (a stopped process?)", dir, lockWait)
			}
			return nil, fmt.Errorf("locking directory '%s': %w", dir, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// syncDir makes a directory's entries (renames, removals) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) {
		return nil // a filesystem without directory sync
	}
	return err
}
