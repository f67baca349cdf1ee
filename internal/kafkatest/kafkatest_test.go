package kafkatest

import (
	"encoding/base64"
	"net"
	"strings"
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

// TestClusterID: ids are 16 bytes in URL-safe base64 that kafka-storage
// takes as a value (none starts with '-'), and differ.
func TestClusterID(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := clusterID()
		b, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil || len(b) != 16 || strings.HasPrefix(id, "-") || seen[id] {
			t.Fatalf("cluster id %q: %v, %d bytes, seen before %v", id, err, len(b), seen[id])
		}
		seen[id] = true
	}
}
