package gateway

import (
	"context"
	"strings"
	"testing"
)

// TestSessionOptions: SET, RESET and TableConfig.set go through
// config.Session: bad values are refused with the option's name, and RESET
// returns to the session's initial options.
func TestSessionOptions(t *testing.T) {
	ctx := context.Background()
	s, err := NewSession(map[string]string{"parallelism.default": "2"}, t.TempDir(), "python3", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.Execute(ctx, "SET 'python.fn-execution.bundle.time' = '1 mins'"); err == nil ||
		!strings.Contains(err.Error(), "line 1, column 1") || !strings.Contains(err.Error(), "option 'python.fn-execution.bundle.time' = '1 mins'") {
		t.Errorf("SET of a bad duration: %v", err)
	}
	if err := s.Set(map[string]string{"parallelism.default": "5", "python.fn-execution.bundle.size": "none"}); err == nil ||
		!strings.Contains(err.Error(), "option 'python.fn-execution.bundle.size' = 'none'") {
		t.Errorf("TableConfig.set of a bad value: %v", err)
	}
	if got := s.runSettings()["parallelism.default"]; got != "2" {
		t.Errorf("a refused TableConfig.set changed parallelism.default to %q", got)
	}
	if err := s.Set(map[string]string{"parallelism.default": "5"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Execute(ctx, "SET 'python.fn-execution.bundle.time' = '5 min'"); err != nil {
		t.Fatal(err)
	}
	m := s.runSettings()
	if m["parallelism.default"] != "5" || m["python.fn-execution.bundle.time"] != "5 min" {
		t.Errorf("after set and SET: %v", m)
	}
	if _, _, err := s.Execute(ctx, "RESET"); err != nil {
		t.Fatal(err)
	}
	m = s.runSettings()
	if m["parallelism.default"] != "2" || m["python.fn-execution.bundle.time"] != "" {
		t.Errorf("after RESET: %v, want the initial options", m)
	}
}
