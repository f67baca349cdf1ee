package worker

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a slog.Handler that keeps the records it is given. Its level
// is WARN, as weir's default, so records below it that arrive anyway are
// the ones logged whatever the level.
type recorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler           { return r }
func (r *recorder) WithGroup(string) slog.Handler                { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}

// lines returns "LEVEL msg k=v ..." of each record.
func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.recs {
		s := rec.Level.String() + " " + rec.Message
		rec.Attrs(func(a slog.Attr) bool {
			s += " " + a.String()
			return true
		})
		out = append(out, s)
	}
	return out
}

func TestOutputSeparatesStartUpNoiseFromUserOutput(t *testing.T) {
	rec := &recorder{}
	o := newOutput("worker-0", slog.New(rec), OutputLimit{})
	stderr := strings.Join([]string{
		"INFO:apache_beam.runners.worker.sdk_worker_main:Logging handler created.",
		UserOutputMarker,
		"user says hi",
		"Thread 0x00007f6c2b7fe640 (most recent call first):",
		`  File "/x/weir/_beam.py", line 80 in process`,
		"",
		"Current thread 0x00007f6c2c8a1740 (most recent call first):",
		`  File "/x/threading.py", line 320 in wait`,
		"user says bye",
	}, "\n") // the last line without a newline
	o.copy(strings.NewReader(stderr), "stderr")
	o.copy(strings.NewReader("early stdout\n"+UserOutputMarker+"\nprinted\r\n"), "stdout")
	o.close()
	want := []string{
		"INFO user says hi worker=worker-0 stream=stderr",
		"INFO user says bye worker=worker-0 stream=stderr",
		"INFO printed worker=worker-0 stream=stdout",
	}
	if got := rec.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("logged:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	tail := o.stderrTail(stderrTail)
	if len(tail) != 8 || tail[0] != "INFO:apache_beam.runners.worker.sdk_worker_main:Logging handler created." || tail[7] != "user says bye" {
		t.Errorf("stderr tail = %q, want every stderr line but the marker", tail)
	}
}

func TestOutputRateLimit(t *testing.T) {
	rec := &recorder{}
	o := newOutput("w", slog.New(rec), OutputLimit{Burst: 5, PerSecond: 2})
	now := time.Unix(1000, 0)
	o.now = func() time.Time { return now }
	o.every = time.Hour // counts are logged only by close here
	feed := func(n int) {
		var b strings.Builder
		b.WriteString(UserOutputMarker + "\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "line %d\n", i)
		}
		o.copy(strings.NewReader(b.String()), "stdout")
	}
	feed(20) // the burst of 5 shows, 15 do not
	now = now.Add(1500 * time.Millisecond)
	feed(10) // 1.5 s at 2 a second: 3 more
	now = now.Add(time.Hour)
	feed(7) // the bucket holds at most the burst
	o.close()
	shown, suppressed := 0, 0
	for _, l := range rec.lines() {
		if strings.HasPrefix(l, "INFO line ") {
			shown++
		} else if m := regexp.MustCompile(`^WARN (\d+) lines of Python output not shown .* suppressed=(\d+)$`).FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[2])
			suppressed += n
		} else {
			t.Errorf("unexpected record %q", l)
		}
	}
	if shown != 5+3+5 || suppressed != 37-13 {
		t.Errorf("shown %d, suppressed %d; want 13 and 24", shown, suppressed)
	}
}

// TestOutputSuppressedCountIsTimely: while output is held back, its count
// is logged every `every`, not only when the worker ends.
func TestOutputSuppressedCountIsTimely(t *testing.T) {
	rec := &recorder{}
	o := newOutput("w", slog.New(rec), OutputLimit{Burst: 1, PerSecond: 0.001})
	o.every = 20 * time.Millisecond
	o.copy(strings.NewReader(UserOutputMarker+"\na\nb\nc\n"), "stdout")
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := strings.Join(rec.lines(), "\n")
		if strings.Contains(got, "WARN 2 lines of Python output not shown") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no count of the 2 suppressed lines; logged:\n%s", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
	o.close()
	if n := len(rec.lines()); n != 2 {
		t.Errorf("logged %d records, want the first line and one count: %q", n, rec.lines())
	}
}

func TestOutputLongLines(t *testing.T) {
	rec := &recorder{}
	o := newOutput("w", slog.New(rec), OutputLimit{})
	long := strings.Repeat("x", maxLine+12345)
	o.copy(strings.NewReader(UserOutputMarker+"\n"+long+"\nnext\n"+long), "stderr")
	tail := o.stderrTail(10)
	wantLong := strings.Repeat("x", maxLine) + "... (12345 more bytes of this line not shown)"
	if len(tail) != 3 || tail[0] != wantLong || tail[1] != "next" || tail[2] != wantLong {
		t.Errorf("tail has %d lines; want the long line cut, next, and the long last line cut", len(tail))
	}
}

// TestOutputRandomChunks: lines split across writes at random places come
// out whole, in order.
func TestOutputRandomChunks(t *testing.T) {
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	var want []string
	var all strings.Builder
	for i := 0; i < 300; i++ {
		l := fmt.Sprintf("line %d %s", i, strings.Repeat("y", rng.Intn(5000)))
		want = append(want, l)
		all.WriteString(l + "\n")
	}
	text := all.String()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for s := text; s != ""; {
			n := 1 + rng.Intn(9000)
			if n > len(s) {
				n = len(s)
			}
			_, _ = w.WriteString(s[:n])
			s = s[n:]
		}
		w.Close()
	}()
	o := newOutput("w", nil, OutputLimit{})
	o.copy(r, "stderr")
	if got := o.stderrTail(stderrTail); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines came out changed (%d lines, want %d)", len(got), len(want))
	}
}

// TestProcessLogsUserOutput runs a real child that writes start-up noise,
// the marker, then user output on both streams.
func TestProcessLogsUserOutput(t *testing.T) {
	rec := &recorder{}
	p, err := Start(Options{Python: os.Args[0], Env: []string{"WEIR_TEST_CHILD=chatty"}, Name: "worker-7", Log: slog.New(rec),
		OutputLimit: OutputLimit{Burst: 50, PerSecond: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	<-p.Done()
	got := rec.lines()
	shown := 0
	for _, l := range got {
		if strings.HasPrefix(l, "INFO out ") && strings.HasSuffix(l, " worker=worker-7 stream=stdout") {
			shown++
		}
		if strings.Contains(l, "noise") {
			t.Errorf("start-up noise logged above debug level: %q", l)
		}
	}
	if shown < 49 || shown > 51 {
		t.Errorf("%d stdout lines shown, want the burst of 50 (give or take the refill)", shown)
	}
	if !strings.Contains(strings.Join(got, "\n"), "INFO err 0 worker=worker-7 stream=stderr") {
		t.Errorf("the stderr line of user output is missing: %q", got)
	}
	last := got[len(got)-1]
	if m := regexp.MustCompile(`^WARN .* suppressed=(\d+)$`).FindStringSubmatch(last); m == nil {
		t.Errorf("last record %q, want the count of suppressed lines", last)
	} else if n, _ := strconv.Atoi(m[1]); shown+1+n != 1001 {
		t.Errorf("%d lines shown and %d suppressed, want 1001 in all", shown+1, n)
	}
	if p.StderrTail(2) != "noise on stderr\nerr 0" {
		t.Errorf("StderrTail(2) = %q", p.StderrTail(2))
	}
}
