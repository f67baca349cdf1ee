package kafkatest

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// TestStartStop starts a broker, checks it takes connections, stops it and
// checks that no process of its group is left.
func TestStartStop(t *testing.T) {
	start := time.Now()
	b, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("broker up at %s in %v", b.Addr, time.Since(start).Round(time.Millisecond))
	c, err := net.Dial("tcp", b.Addr)
	if err != nil {
		b.Stop()
		t.Fatal(err)
	}
	c.Close()
	pgid := b.Pid()
	b.Stop()
	b.Stop() // twice is fine
	if !b.Exited() {
		t.Fatal("broker still running after Stop")
	}
	if err := syscall.Kill(-pgid, 0); err != syscall.ESRCH {
		t.Fatalf("process group %d still has processes after Stop (kill 0: %v)", pgid, err)
	}
}
