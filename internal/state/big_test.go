package state

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBigOnDisk keeps the sum accumulators of 10M groups in the on-disk
// backend (make test-state-big; WEIR_STATE_BIG=N sets the number of groups):
// every group is read and written twice, as a keyed aggregation would, the
// final values are checked, and the process's peak RSS must stay far below
// the state's size.
func TestBigOnDisk(t *testing.T) {
	env := os.Getenv("WEIR_STATE_BIG")
	if env == "" {
		t.Skip("set WEIR_STATE_BIG=1 (10M groups) or a number of groups; make test-state-big")
	}
	n := 10_000_000
	if v, err := strconv.Atoi(env); err == nil && v > 1 {
		n = v
	}
	const limit = 256 << 20 // peak RSS allowed, bytes
	s, err := Open(Options{Backend: RocksDB})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Keys are 8-byte big-endian group ids, values an 8-byte sum and 16
	// bytes of padding (a small accumulator row). Pass 1 visits groups in
	// order, pass 2 in a permuted order; group i gets i each time.
	const perm = 1_000_003 // coprime with n: visits each group once
	var kbuf [8]byte
	val := make([]byte, 24)
	b := new(Batch)
	start := time.Now()
	for pass := 0; pass < 2; pass++ {
		for j := 0; j < n; j++ {
			i := j
			if pass == 1 {
				i = int(uint64(j) * perm % uint64(n))
			}
			binary.BigEndian.PutUint64(kbuf[:], uint64(i))
			old, ok, err := s.Get(kbuf[:])
			if err != nil {
				t.Fatal(err)
			}
			sum := uint64(0)
			if ok {
				sum = binary.LittleEndian.Uint64(old)
			}
			binary.LittleEndian.PutUint64(val, sum+uint64(i))
			b.Put(kbuf[:], val)
			// A bundle's writes go in one batch (reads of this bundle's keys
			// are not needed: each group appears once per pass).
			if b.Len() == 10_000 {
				if err := s.Apply(b); err != nil {
					t.Fatal(err)
				}
				b.Reset()
			}
		}
		if err := s.Apply(b); err != nil {
			t.Fatal(err)
		}
		b.Reset()
		t.Logf("pass %d: %v, peak RSS %d MB", pass+1, time.Since(start).Round(time.Millisecond), peakRSS()>>20)
	}
	count := 0
	if err := s.Scan(func(k, v []byte) error {
		i := binary.BigEndian.Uint64(k)
		if i != uint64(count) {
			return fmt.Errorf("key %d at position %d", i, count)
		}
		if got := binary.LittleEndian.Uint64(v); got != 2*i {
			return fmt.Errorf("group %d: sum %d, want %d", i, got, 2*i)
		}
		count++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Fatalf("%d groups, want %d", count, n)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := peakRSS()
	t.Logf("%d groups (%d MB of keys and values), %v in all, peak RSS %d MB, Go heap in use %d MB",
		n, n*32>>20, time.Since(start).Round(time.Millisecond), rss>>20, ms.HeapInuse>>20)
	if rss > limit {
		t.Fatalf("peak RSS %d MB, want at most %d MB", rss>>20, limit>>20)
	}
	if n == 10_000_000 {
		load, _ := os.ReadFile("/proc/loadavg")
		rec := fmt.Sprintf("# make test-state-big (internal/state/big_test.go), checked by TestBigRecorded\n"+
			"groups %d\nreads %d\nwrites %d\nseconds %.1f\npeak_rss_mb %d\nlimit_mb %d\nload_average %s\n",
			n, 2*n, 2*n, time.Since(start).Seconds(), rss>>20, limit>>20, strings.Fields(string(load))[0])
		if err := os.WriteFile(recordPath, []byte(rec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const recordPath = "testdata/big-results.txt"

// TestBigRecorded checks the figures TestBigOnDisk recorded for 10M groups:
// all groups, peak RSS within the limit.
func TestBigRecorded(t *testing.T) {
	b, err := os.ReadFile(recordPath)
	if os.IsNotExist(err) {
		t.Skipf("no %s: make test-state-big records it", recordPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(line, "#") {
			fields[k] = v
		}
	}
	num := func(k string) float64 {
		v, err := strconv.ParseFloat(fields[k], 64)
		if err != nil {
			t.Fatalf("%s: %s: %v", recordPath, k, err)
		}
		return v
	}
	if num("groups") != 10_000_000 || num("reads") != 20_000_000 {
		t.Errorf("%s: groups %v reads %v, want 10M and 20M", recordPath, num("groups"), num("reads"))
	}
	if rss, limit := num("peak_rss_mb"), num("limit_mb"); rss <= 0 || rss > limit || limit > 256 {
		t.Errorf("%s: peak RSS %v MB, limit %v MB", recordPath, rss, limit)
	}
	num("seconds")
	num("load_average")
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return kb << 10
		}
	}
	return 0
}
