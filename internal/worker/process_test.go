package worker

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the worker process: WEIR_TEST_CHILD selects
// what the child does.
func TestMain(m *testing.M) {
	switch os.Getenv("WEIR_TEST_CHILD") {
	case "":
		os.Exit(m.Run())
	case "sleep":
		fmt.Fprintln(os.Stderr, "child: sleeping")
		time.Sleep(time.Minute)
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		fmt.Fprintln(os.Stderr, "child: ignoring SIGTERM")
		time.Sleep(time.Minute)
	case "exit3":
		for i := 0; i < 100; i++ {
			fmt.Fprintf(os.Stderr, "line %d\n", i)
		}
		os.Exit(3)
	case "chatty":
		fmt.Fprintln(os.Stderr, "noise on stderr")
		fmt.Fprintln(os.Stdout, "noise on stdout")
		fmt.Fprintln(os.Stderr, UserOutputMarker)
		fmt.Fprintln(os.Stdout, UserOutputMarker)
		fmt.Fprintln(os.Stderr, "err 0")
		time.Sleep(200 * time.Millisecond) // err 0 is read before the flood
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(os.Stdout, "out %d\n", i)
		}
	case "daemon":
		// Start a grandchild in a session of its own that keeps our
		// stdout and stderr open, report its pid, and exit.
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "WEIR_TEST_CHILD=ignore-term")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			os.Exit(9)
		}
		fmt.Fprintf(os.Stderr, "daemon %d\n", cmd.Process.Pid)
		os.Exit(0)
	case "grandchild":
		// Start a grandchild in the same process group and report its pid.
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "WEIR_TEST_CHILD=ignore-term")
		if err := cmd.Start(); err != nil {
			os.Exit(9)
		}
		fmt.Fprintf(os.Stderr, "grandchild %d\n", cmd.Process.Pid)
		time.Sleep(time.Minute)
	}
	os.Exit(0)
}

func startChild(t *testing.T, mode string) *Process {
	t.Helper()
	p, err := Start(Options{Python: os.Args[0], Env: []string{"WEIR_TEST_CHILD=" + mode}, Name: mode})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() })
	return p
}

func waitStderr(t *testing.T, p *Process, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Stderr(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("child never wrote %q; stderr: %q", want, p.Stderr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStopGraceful(t *testing.T) {
	p := startChild(t, "sleep")
	waitStderr(t, p, "sleeping")
	start := time.Now()
	p.Stop(5 * time.Second)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("graceful stop took %s", d)
	}
	if got := p.ExitReason(); got != "killed by signal SIGTERM" {
		t.Errorf("ExitReason() = %q, want killed by signal SIGTERM", got)
	}
	p.Stop(time.Second) // a second Stop is harmless
}

func TestStopForced(t *testing.T) {
	p := startChild(t, "ignore-term")
	waitStderr(t, p, "ignoring")
	start := time.Now()
	p.Stop(300 * time.Millisecond)
	d := time.Since(start)
	if d < 300*time.Millisecond || d > 3*time.Second {
		t.Errorf("forced stop took %s, want just over the 300ms grace", d)
	}
	if got := p.ExitReason(); got != "killed by signal SIGKILL" {
		t.Errorf("ExitReason() = %q, want killed by signal SIGKILL", got)
	}
}

func TestExitCodeAndStderrTail(t *testing.T) {
	p := startChild(t, "exit3")
	<-p.Done()
	if got := p.ExitReason(); got != "exit code 3" {
		t.Errorf("ExitReason() = %q, want exit code 3", got)
	}
	if got := p.StderrTail(2); got != "line 98\nline 99" {
		t.Errorf("StderrTail(2) = %q", got)
	}
}

func TestStopKillsTheWholeGroup(t *testing.T) {
	p := startChild(t, "grandchild")
	waitStderr(t, p, "grandchild ")
	line := p.StderrTail(1)
	pid, err := strconv.Atoi(strings.TrimPrefix(line, "grandchild "))
	if err != nil {
		t.Fatalf("bad line %q", line)
	}
	p.Stop(200 * time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		// A zombie is gone as far as work goes; reap it if it is ours.
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d survived Stop", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStartMissingInterpreter(t *testing.T) {
	_, err := Start(Options{Python: "/no/such/python", Name: "w"})
	if err == nil || !strings.Contains(err.Error(), "python.executable") {
		t.Fatalf("Start error = %v, want one naming python.executable", err)
	}
}

// TestDoneDespiteOutputHeldOpen: a worker that exits is done even when a
// process it started in another session still holds its output open.
func TestDoneDespiteOutputHeldOpen(t *testing.T) {
	p := startChild(t, "daemon")
	select {
	case <-p.Done():
	case <-time.After(waitDelay + 5*time.Second):
		t.Fatal("not done after the process exited")
	}
	line := p.StderrTail(2)
	i := strings.Index(line, "daemon ")
	if i < 0 {
		t.Fatalf("stderr %q lacks the daemon's pid", line)
	}
	pid, err := strconv.Atoi(strings.Fields(line[i+len("daemon "):])[0])
	if err != nil {
		t.Fatalf("bad line %q", line)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if got := p.ExitReason(); got != "exit code 0" {
		t.Errorf("ExitReason() = %q, want exit code 0", got)
	}
}
