package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/weir-dev/weir/internal/job"
)

// progressMode reads --progress.
func progressMode(v string) (string, error) {
	switch v {
	case "auto", "tty", "plain", "off":
		return v, nil
	case "never", "none", "false", "no":
		return "off", nil
	}
	return "", fmt.Errorf("--progress=%s: want auto, tty, plain or off", v)
}

// setupProgress picks the progress report of mode for stderr. With a live
// line, it returns writers for stdout and stderr that keep other output off
// the line.
func (c *common) setupProgress(mode string, stdout, stderr io.Writer) (job.Progress, io.Writer, io.Writer) {
	if mode == "auto" {
		mode = "plain"
		if isTerminal(stderr) && os.Getenv("TERM") != "dumb" {
			mode = "tty"
		}
	}
	switch mode {
	case "plain":
		return job.Progress{Mode: job.ProgressLines, Out: stderr, Interval: c.interval}, stdout, stderr
	case "tty":
		t := job.NewTerminal(stderr, func() int { return terminalWidth(stderr) })
		if isTerminal(stdout) {
			stdout = t.Wrap(stdout)
		}
		return job.Progress{Mode: job.ProgressLive, Terminal: t}, stdout, t.Wrap(stderr)
	}
	return job.Progress{}, stdout, stderr
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool { return terminalWidth(w) >= 0 }

// terminalWidth returns the width of terminal w in columns (0 when it does
// not say), or -1 when w is not a terminal.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return -1
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return -1
	}
	return int(ws.Col)
}
