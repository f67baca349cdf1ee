package tmpdir

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv selects the child role: the test binary, run again, makes a
// directory with Make, prints its path and waits to be killed.
const childEnv = "WEIR_TMPDIR_TEST_CHILD"

func TestMain(m *testing.M) {
	if prefix := os.Getenv(childEnv); prefix != "" {
		dir, err := Make(prefix)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(filepath.Join(dir, "data"), []byte("x"), 0o600); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(dir)
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startChild runs a child process that makes a directory of prefix in tmp,
// and returns the process and the directory.
func startChild(t *testing.T, tmp, prefix string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+prefix, "TMPDIR="+tmp)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, tmp) {
		t.Fatalf("child said %q (%v)", line, err)
	}
	return cmd, strings.TrimSpace(line)
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// TestKilledOwnerRemovedLiveKept: the directory of a process killed by
// SIGKILL is removed by the next Make of that prefix; the directory of a
// process still running is kept, with its files.
func TestKilledOwnerRemovedLiveKept(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	const prefix = "weir-test-kill-"
	dead, deadDir := startChild(t, tmp, prefix)
	_, liveDir := startChild(t, tmp, prefix)
	if err := dead.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	dead.Wait()
	if !exists(deadDir) {
		t.Fatalf("%s vanished before any sweep", deadDir)
	}
	dir, err := Make(prefix) // the next run
	if err != nil {
		t.Fatal(err)
	}
	if exists(deadDir) {
		t.Errorf("%s of a killed process was not removed", deadDir)
	}
	if !exists(filepath.Join(liveDir, "data")) {
		t.Errorf("%s of a running process was removed", liveDir)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("Make made %s: %v, mode %v; want a private directory", dir, err, fi.Mode())
	}
	o, ok := parseOwner(filepath.Base(dir), prefix)
	if !ok || o.pid != os.Getpid() || o.start == 0 || o.start != startTime(os.Getpid()) {
		t.Errorf("%s records owner %+v (ok %v), want pid %d started at %d", dir, o, ok, os.Getpid(), startTime(os.Getpid()))
	}
	if exists(liveDir) && len(Sweep(tmp, prefix)) != 0 {
		t.Errorf("a second sweep removed directories of live processes")
	}
}

// TestSweepOwners sweeps a random mix of directories: only those whose
// owner is certainly gone (no such pid, a reused pid, another boot) go.
func TestSweepOwners(t *testing.T) {
	const prefix = "weir-test-"
	me := os.Getpid()
	start := startTime(me)
	boot := bootID()
	if start == 0 || boot == "" || pidNamespace() == "" {
		t.Skip("no /proc: start times and boot ids are unknown here")
	}
	type entry struct {
		name  string
		stale bool
	}
	ns := pidNamespace()
	name := func(pid int, start any, boot, ns string, i int) string {
		return fmt.Sprintf("%s%d-%v-%s-%s-%d", prefix, pid, start, boot, ns, i)
	}
	kinds := []func(i int) entry{
		func(i int) entry { return entry{name(me, start, boot, ns, i), false} },                                  // live: this process
		func(i int) entry { return entry{name(me, start+1+uint64(i), boot, ns, i), true} },                       // pid reused
		func(i int) entry { return entry{name(1<<30, start, boot, ns, i), true} },                                // no such pid
		func(i int) entry { return entry{name(me, start, "0badb007", ns, i), true} },                             // another boot
		func(i int) entry { return entry{name(1<<30, start, "0badb007", "1", i), true} },                         // another boot and namespace
		func(i int) entry { return entry{name(1<<30, start, boot, "1", i), false} },                              // another pid namespace
		func(i int) entry { return entry{name(1<<30, start, boot, "", i), false} },                               // namespace unknown
		func(i int) entry { return entry{name(me, 0, "", ns, i), false} },                                        // live, start unknown
		func(i int) entry { return entry{fmt.Sprintf("%s%d", prefix, 100000+i), false} },                         // no owner recorded
		func(i int) entry { return entry{name(1<<30, "x", boot, ns, i), false} },                                 // unreadable owner
		func(i int) entry { return entry{fmt.Sprintf("%s%d-%d-%s-%d", prefix, 1<<30, start, boot, i), false} },   // old layout
		func(i int) entry { return entry{"weir-other-" + name(1<<30, start, boot, ns, i)[len(prefix):], false} }, // another prefix
	}
	for round := 0; round < 5; round++ {
		tmp := t.TempDir()
		var want, keep []string
		for i := 0; i < 30; i++ {
			e := kinds[rand.IntN(len(kinds))](i)
			path := filepath.Join(tmp, e.name)
			if err := os.MkdirAll(filepath.Join(path, "sub"), 0o700); err != nil {
				t.Fatal(err)
			}
			if e.stale {
				want = append(want, path)
			} else {
				keep = append(keep, path)
			}
		}
		// A symbolic link with a stale name is neither followed nor removed.
		target := filepath.Join(tmp, "target")
		os.Mkdir(target, 0o700)
		link := filepath.Join(tmp, name(1<<30, start, boot, ns, 9999))
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		got := Sweep(tmp, prefix)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: Sweep removed\n%q\nwant\n%q", round, got, want)
		}
		for _, p := range keep {
			if !exists(filepath.Join(p, "sub")) {
				t.Errorf("round %d: %s was removed", round, p)
			}
		}
		if _, err := os.Lstat(link); err != nil || !exists(target) {
			t.Errorf("round %d: the symbolic link or its target was removed", round)
		}
	}
}

func TestStartTime(t *testing.T) {
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	mine, child := startTime(os.Getpid()), startTime(cmd.Process.Pid)
	if mine == 0 {
		t.Skip("no /proc here")
	}
	if child < mine {
		t.Errorf("a child started at tick %d, before its parent (%d)", child, mine)
	}
	if startTime(1<<30) != 0 {
		t.Errorf("startTime of a pid that does not exist is not 0")
	}
}
