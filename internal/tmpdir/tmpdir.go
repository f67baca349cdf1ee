// Package tmpdir makes private temporary directories that name the process
// owning them, and removes those whose owner is gone.
//
// An engine killed by SIGKILL cannot remove its temporary directories (the
// workers' files, the Fn API socket). So the name of each directory records
// its owner: its pid, the process's start time (so that a new process that
// reuses the pid is not taken for the owner), the boot it ran in and its pid
// namespace:
//
//	weir-job-<pid>-<start ticks>-<boot id>-<pid namespace>-<random>
//
// Make removes, before making a new directory, the directories of the same
// prefix whose owner process no longer exists. A directory whose owner is
// alive, may be alive (a process of another pid namespace, e.g. another
// container sharing /tmp), or whose name records no owner, is never touched.
//
// tmpdir imports only the standard library.
package tmpdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Make creates a new directory, readable only by its owner, in os.TempDir()
// with a name that starts with prefix and records this process as its owner.
// It first removes the directories of that prefix left by processes that are
// gone (see Sweep); that clean-up is best effort and never fails Make.
func Make(prefix string) (string, error) {
	return MakeIn(os.TempDir(), prefix)
}

// MakeIn is Make in directory base instead of os.TempDir() (e.g. /dev/shm,
// for files shared in memory).
func MakeIn(base, prefix string) (string, error) {
	sweepOnce(base, prefix)
	dir, err := os.MkdirTemp(base, prefix+self()+"-")
	if err != nil {
		return "", fmt.Errorf("tmpdir: %w", err)
	}
	return dir, nil
}

// swept records the directories and prefixes already swept by this process:
// stale directories appear only when a process dies, so once per run is
// enough.
var swept sync.Map

func sweepOnce(base, prefix string) {
	if _, done := swept.LoadOrStore(base+"\x00"+prefix, true); !done {
		Sweep(base, prefix)
	}
}

var (
	selfOnce sync.Once
	selfID   string
)

// self is this process's owner record, "<pid>-<start>-<boot>-<ns>".
func self() string {
	selfOnce.Do(func() {
		pid := os.Getpid()
		selfID = fmt.Sprintf("%d-%d-%s-%s", pid, startTime(pid), bootID(), pidNamespace())
	})
	return selfID
}

// owner is what a directory's name says about the process that made it.
type owner struct {
	pid   int
	start uint64 // clock ticks after boot; 0 when unknown
	boot  string // first characters of the boot id; "" when unknown
	ns    string // the pid namespace's inode; "" when unknown
}

// parseOwner reads the owner from a directory name made by Make with
// prefix; ok is false for names that do not record one.
func parseOwner(name, prefix string) (o owner, ok bool) {
	rest, found := strings.CutPrefix(name, prefix)
	if !found {
		return o, false
	}
	// pid, start, boot, namespace and MkdirTemp's random suffix.
	parts := strings.Split(rest, "-")
	if len(parts) != 5 {
		return o, false
	}
	pid, err := strconv.Atoi(parts[0])
	if err != nil || pid <= 0 {
		return o, false
	}
	start, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil {
		return o, false
	}
	return owner{pid: pid, start: start, boot: parts[2], ns: parts[3]}, true
}

// gone reports whether the owner process certainly no longer exists. When in
// doubt (a process with that pid exists and its start time cannot be read),
// the owner is taken to be alive.
func (o owner) gone() bool {
	if b := bootID(); o.boot != "" && b != "" && o.boot != b {
		return true // made before the last reboot
	}
	if o.ns != pidNamespace() {
		return false // another pid namespace: its pid means nothing here
	}
	if err := syscall.Kill(o.pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	// A process with that pid exists (EPERM means another user's): it is
	// the owner unless it started at another time, i.e. the pid was reused.
	if o.start == 0 {
		return false
	}
	st := startTime(o.pid)
	return st != 0 && st != o.start
}

// Sweep removes the directories in dir named prefix... by Make whose owner
// process is gone, and returns their paths. Directories of other users,
// symbolic links and names without an owner are left alone.
func Sweep(dir, prefix string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	uid := os.Getuid()
	var removed []string
	for _, e := range entries {
		o, ok := parseOwner(e.Name(), prefix)
		if !ok || !e.IsDir() { // IsDir is false for a symbolic link
			continue
		}
		path := filepath.Join(dir, e.Name())
		fi, err := os.Lstat(path)
		if err != nil || !fi.IsDir() {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != uid {
			continue
		}
		if !o.gone() {
			continue
		}
		if os.RemoveAll(path) == nil {
			removed = append(removed, path)
		}
	}
	return removed
}

// startTime returns when process pid started, in clock ticks after boot
// (field 22 of /proc/<pid>/stat), or 0 where /proc does not tell.
func startTime(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces and
	// parentheses itself: the fields after it follow the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state), so field 22 is fields[19].
	if len(fields) < 20 {
		return 0
	}
	n, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// pidNamespace returns the inode of this process's pid namespace, or ""
// where /proc does not tell: pids are only comparable within one.
var pidNamespace = sync.OnceValue(func() string {
	l, err := os.Readlink("/proc/self/ns/pid") // "pid:[4026531836]"
	if err != nil {
		return ""
	}
	l = strings.TrimSuffix(strings.TrimPrefix(l, "pid:["), "]")
	if _, err := strconv.ParseUint(l, 10, 64); err != nil {
		return ""
	}
	return l
})

var (
	bootOnce sync.Once
	bootStr  string
)

// bootID returns the first 8 hex digits of this boot's id, or "" where
// /proc does not tell: start times count from the boot, so a directory
// from another boot is certainly stale.
func bootID() string {
	bootOnce.Do(func() {
		b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
		if err != nil {
			return
		}
		s := strings.ReplaceAll(strings.TrimSpace(string(b)), "-", "")
		if len(s) >= 8 {
			bootStr = s[:8]
		}
	})
	return bootStr
}
