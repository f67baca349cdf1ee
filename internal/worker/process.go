// Package worker starts, watches and stops weir's Python worker processes.
//
// A worker runs in its own process group and is killed with its parent
// (Pdeathsig), so that no worker outlives the engine. Stop goes graceful
// (SIGTERM) then forced (SIGKILL) and is safe to call more than once.
//
// What a worker writes to stdout and stderr is logged line by line: the
// Beam harness starting up at debug level, and the user's output (print in
// a function), which follows UserOutputMarker, at INFO with its worker's
// name, rate-limited (OutputLimit). The last stderr lines are kept for crash
// reports.
//
// worker imports only the standard library.
package worker

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Options describe how to start one worker process.
type Options struct {
	// Python is the interpreter (Flink's python.executable); default "python3".
	Python string
	// Args follow the interpreter, e.g. ["-m", "weir.worker"].
	Args []string
	// Env is added to the engine's environment.
	Env []string
	// Name labels the worker in logs.
	Name string
	// Dir is the working directory; empty means the engine's.
	Dir string
	// Log receives what the worker writes to stdout and stderr, line by
	// line, with attributes worker (Name) and stream. Before the worker
	// prints UserOutputMarker (the Beam harness starting up) lines are
	// logged at debug level. After it, they are the user's (print in a
	// function) and are logged at INFO whatever Log's level, so that they
	// show at weir's default verbosity, within OutputLimit. The last stderr
	// lines are kept for reports either way (Stderr). Nil logs nothing.
	Log *slog.Logger
	// OutputLimit bounds the lines of user output logged; the zero value
	// means a burst of 100 lines, then 10 lines a second.
	OutputLimit OutputLimit
}

// Process is a running worker.
type Process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	out  *output

	stopOnce sync.Once
}

// stderrTail is how many of the last stderr lines are kept for reports.
const stderrTail = 400

// waitDelay bounds how long the output of a process that has exited is
// read: a process it started in another session may hold it open for ever.
const waitDelay = 2 * time.Second

// Start starts a worker.
func Start(o Options) (*Process, error) {
	python := o.Python
	if python == "" {
		python = "python3"
	}
	cmd := exec.Command(python, o.Args...)
	cmd.Env = append(cmd.Environ(), o.Env...)
	cmd.Dir = o.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// exec copies the process's output into these pipes until it has
	// exited and its output ended, or waitDelay after it exited, in case a
	// process it started outside its group holds the output open.
	stdout, stdoutW := io.Pipe()
	stderr, stderrW := io.Pipe()
	cmd.Stdout, cmd.Stderr = stdoutW, stderrW
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) || errors.Is(err, syscall.ENOENT) {
			return nil, fmt.Errorf("worker %s: cannot start Python interpreter %q (python.executable): %w; set python.executable to a Python 3 that has the weir package installed", o.Name, python, err)
		}
		return nil, fmt.Errorf("worker %s: start %q: %w", o.Name, python, err)
	}
	p := &Process{name: o.Name, cmd: cmd, done: make(chan struct{}), out: newOutput(o.Name, o.Log, o.OutputLimit)}
	var copying sync.WaitGroup
	copying.Add(2)
	go func() {
		defer copying.Done()
		p.out.copy(stdout, "stdout")
	}()
	go func() {
		defer copying.Done()
		p.out.copy(stderr, "stderr")
	}()
	go func() {
		p.err = cmd.Wait()
		stdoutW.Close()
		stderrW.Close()
		copying.Wait()
		p.out.close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the worker's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// ExitReason describes how the process ended ("exit code 1", "killed by
// signal SIGKILL"), or "" while it runs.
func (p *Process) ExitReason() string {
	select {
	case <-p.done:
	default:
		return ""
	}
	st := p.cmd.ProcessState
	if st == nil {
		return fmt.Sprint(p.err)
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("killed by signal %s", unix.SignalName(ws.Signal()))
	}
	return fmt.Sprintf("exit code %d", st.ExitCode())
}

// Stderr returns the last lines the process wrote to stderr.
func (p *Process) Stderr() string { return p.StderrTail(stderrTail) }

// StderrTail returns at most the last n lines the process wrote to stderr.
func (p *Process) StderrTail(n int) string {
	return strings.Join(p.out.stderrTail(n), "\n")
}

// Stop asks the process group to terminate and kills it after grace. It
// returns once the process has exited. Calling it again is harmless.
func (p *Process) Stop(grace time.Duration) {
	p.stopOnce.Do(func() {
		pgid := -p.cmd.Process.Pid
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
		// Kill the group even after the leader exited: a UDF may have
		// started children of its own.
		_ = syscall.Kill(pgid, syscall.SIGKILL)
	})
	<-p.done
}

// Kill kills the process group at once (used by fault-injection tests).
func (p *Process) Kill() { _ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) }
