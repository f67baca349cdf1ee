package job_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/connector"
	"github.com/weir-dev/weir/internal/job"
	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/sql"
)

// The spill test (make test-spill): an aggregation, a join and a sort over
// about 2 GB of generated input each, in an engine given 64 MB of managed
// memory. Each runs in a child process (this test binary again) whose sink
// checks the rows as they come (order, for the sort) and sums a hash of
// every row; the parent computes the same sums independently, straight from
// the generated tables with plain Go maps and slices, and reads the child's
// peak resident memory (VmHWM of /proc, which the child reports). WEIR_SPILL_SCALE (default 1) scales
// the row counts.

const (
	spillBudget = "64 mb"
	// spillRSSLimit is the most the engine may hold resident.
	spillRSSLimit = 300 << 20
)

// spillTables returns the tables' DDL and their row counts at scale.
func spillTables(scale float64) (ddl string, bigRows, buildRows, probeRows, keys int64) {
	bigRows = int64(20e6 * scale) // ~108 bytes a row: ~2.2 GB
	keys = int64(2e6 * scale)
	buildRows = int64(8e6 * scale) // ~112 bytes a row: ~0.9 GB
	probeRows = int64(10e6 * scale)
	seq := func(col string, n int64) string {
		return fmt.Sprintf("'fields.%s.kind' = 'sequence', 'fields.%s.start' = '0', 'fields.%s.end' = '%d'", col, col, col, n-1)
	}
	ddl = fmt.Sprintf(`
CREATE TABLE big (id BIGINT, k BIGINT, v BIGINT, s STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '%d',
  %s, 'fields.k.min' = '0', 'fields.k.max' = '%d', 'fields.v.min' = '0', 'fields.v.max' = '1000000', 'fields.s.length' = '80');
CREATE TABLE build (id BIGINT, s STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '%d',
  %s, 'fields.s.length' = '100', 'fields.s.seed' = '77');
CREATE TABLE probe (id BIGINT, k BIGINT, v BIGINT, s STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '%d',
  %s, 'fields.k.min' = '0', 'fields.k.max' = '%d', 'fields.v.min' = '0', 'fields.v.max' = '1000000',
  'fields.k.seed' = '78', 'fields.s.length' = '80');
`, bigRows, seq("id", bigRows), keys-1, buildRows, seq("id", buildRows), probeRows, seq("id", probeRows), buildRows-1)
	return
}

var spillQueries = map[string]string{
	"aggregate": "SELECT k, COUNT(*) AS c, SUM(v) AS sv, MIN(s) AS ms FROM big GROUP BY k",
	"join":      "SELECT probe.id, probe.v, probe.s AS ps, build.s AS bs FROM probe JOIN build ON probe.k = build.id",
	"sort":      "SELECT id, k, v, s FROM big ORDER BY k DESC, id",
}

func spillScale(t *testing.T) float64 {
	scale := 1.0
	if v := os.Getenv("WEIR_SPILL_SCALE"); v != "" {
		var err error
		if scale, err = strconv.ParseFloat(v, 64); err != nil {
			t.Fatalf("WEIR_SPILL_SCALE=%q: %v", v, err)
		}
	}
	return scale
}

// TestSpillLarge runs the three jobs in child processes and checks their
// sums and peak memory.
func TestSpillLarge(t *testing.T) {
	if os.Getenv("WEIR_SPILL_TEST") == "" {
		t.Skip("slow: run by make test-spill")
	}
	scale := spillScale(t)
	for _, name := range []string{"aggregate", "join", "sort"} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			cmd := exec.Command(os.Args[0], "-test.run=^TestSpillChild$", "-test.v")
			cmd.Env = append(os.Environ(), "WEIR_SPILL_CHILD="+name)
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			elapsed := time.Since(start)
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			var rows, sum uint64
			var rss int64
			var found bool
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for sc.Scan() {
				if n, _ := fmt.Sscanf(sc.Text(), "spill-result rows=%d sum=%d hwm=%d", &rows, &sum, &rss); n == 3 {
					found = true
				}
			}
			if !found {
				t.Fatalf("child printed no result:\n%s", out)
			}
			wantRows, wantSum := expectedSums(t, name, scale)
			t.Logf("%s: %d rows out in %.1f s, engine peak RSS %.0f MB (budget %s)", name, rows, elapsed.Seconds(), float64(rss)/(1<<20), spillBudget)
			if rows != wantRows || sum != wantSum {
				t.Errorf("%s: %d rows with sum %d, want %d rows with sum %d", name, rows, sum, wantRows, wantSum)
			}
			if rss > spillRSSLimit {
				t.Errorf("%s: peak RSS %d MB, want under %d MB", name, rss>>20, spillRSSLimit>>20)
			}
		})
	}
}

// TestSpillChild is the child of TestSpillLarge: it runs one job with the
// budget and prints its sink's row count and sum.
func TestSpillChild(t *testing.T) {
	name := os.Getenv("WEIR_SPILL_CHILD")
	if name == "" {
		t.Skip("the child of TestSpillLarge")
	}
	ddl, _, _, _, _ := spillTables(spillScale(t))
	q := spillQueries[name]
	stmts, err := sql.Parse(ddl + sinkDDL(name) + "INSERT INTO snk " + q + ";\n")
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{"taskmanager.memory.managed.size": spillBudget}
	prog, err := (&plan.Planner{Settings: settings}).Plan(stmts)
	if err != nil {
		t.Fatal(err)
	}
	j := prog.Jobs[len(prog.Jobs)-1]
	sink := &sumSink{name: name}
	if _, err := job.Run(context.Background(), j, prog.Settings, job.Options{Sink: sink, Out: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if sink.err != nil {
		t.Fatal(sink.err)
	}
	fmt.Printf("spill-result rows=%d sum=%d hwm=%d\n", sink.rows, sink.sum, peakRSS(t))
}

// peakRSS is this process's peak resident memory (VmHWM), in bytes. The
// child reports its own: getrusage's maxrss of a child also counts the
// memory of the parent it was forked from, at the moment of its exec.
func peakRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" && f[2] == "kB" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

func sinkDDL(name string) string {
	switch name {
	case "aggregate":
		return "CREATE TABLE snk (k BIGINT, c BIGINT, sv BIGINT, ms STRING) WITH ('connector' = 'blackhole');\n"
	case "join":
		return "CREATE TABLE snk (id BIGINT, v BIGINT, ps STRING, bs STRING) WITH ('connector' = 'blackhole');\n"
	}
	return "CREATE TABLE snk (id BIGINT, k BIGINT, v BIGINT, s STRING) WITH ('connector' = 'blackhole');\n"
}

// mix is splitmix64's finalizer.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// fnv is FNV-1a of s: the same in every process.
func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

func rowHash(vals ...uint64) uint64 {
	h := uint64(0x1234567)
	for _, v := range vals {
		h = mix(h ^ v)
	}
	return h
}

// sumSink sums the rows' hashes; for the sort it also checks the order
// (k descending, then id ascending).
type sumSink struct {
	name      string
	rows, sum uint64
	prevK     int64
	prevID    int64
	err       error
}

func (s *sumSink) Write(_ context.Context, b arrow.RecordBatch) error {
	i64 := func(c int) []int64 { return b.Column(c).(*array.Int64).Int64Values() }
	str := func(c int) *array.String { return b.Column(c).(*array.String) }
	n := int(b.NumRows())
	switch s.name {
	case "aggregate":
		k, c, sv, ms := i64(0), i64(1), i64(2), str(3)
		for r := 0; r < n; r++ {
			s.sum += rowHash(uint64(k[r]), uint64(c[r]), uint64(sv[r]), fnv(ms.Value(r)))
		}
	case "join":
		id, v, ps, bs := i64(0), i64(1), str(2), str(3)
		for r := 0; r < n; r++ {
			s.sum += rowHash(uint64(id[r]), uint64(v[r]), fnv(ps.Value(r)), fnv(bs.Value(r)))
		}
	case "sort":
		id, k, v, str := i64(0), i64(1), i64(2), str(3)
		for r := 0; r < n; r++ {
			if s.rows+uint64(r) > 0 && (k[r] > s.prevK || (k[r] == s.prevK && id[r] <= s.prevID)) && s.err == nil {
				s.err = fmt.Errorf("row %d (k %d, id %d) after (k %d, id %d): out of order", s.rows+uint64(r), k[r], id[r], s.prevK, s.prevID)
			}
			s.prevK, s.prevID = k[r], id[r]
			s.sum += rowHash(uint64(id[r]), uint64(k[r]), uint64(v[r]), fnv(str.Value(r)))
		}
	}
	s.rows += uint64(n)
	return nil
}

func (s *sumSink) Commit() error { return nil }
func (s *sumSink) Abort(error)   {}

// expectedSums computes a job's row count and hash sum from the generated
// tables directly.
func expectedSums(t *testing.T, name string, scale float64) (rows, sum uint64) {
	ddl, bigRows, buildRows, _, keys := spillTables(scale)
	stmts, err := sql.Parse(ddl)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := (&plan.Planner{}).Plan(stmts)
	if err != nil {
		t.Fatal(err)
	}
	scan := func(table string, f func(b arrow.RecordBatch)) {
		tb := prog.Tables[table]
		src, err := connector.OpenSource(tb.Name, tb.Schema, tb.Options, 0, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		for {
			b, err := src.Next(context.Background())
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f(b)
			b.Release()
		}
	}
	col := func(b arrow.RecordBatch, c int) []int64 { return b.Column(c).(*array.Int64).Int64Values() }
	switch name {
	case "aggregate":
		cnt, sv := make([]int64, keys), make([]int64, keys)
		ms := make([]string, keys)
		scan("big", func(b arrow.RecordBatch) {
			k, v, s := col(b, 1), col(b, 2), b.Column(3).(*array.String)
			for r := range k {
				x := s.Value(r)
				if cnt[k[r]] == 0 || x < ms[k[r]] {
					ms[k[r]] = strings.Clone(x)
				}
				cnt[k[r]]++
				sv[k[r]] += v[r]
			}
		})
		for k := range cnt {
			if cnt[k] > 0 {
				rows++
				sum += rowHash(uint64(k), uint64(cnt[k]), uint64(sv[k]), fnv(ms[k]))
			}
		}
	case "join":
		hs := make([]uint64, buildRows)
		scan("build", func(b arrow.RecordBatch) {
			id, s := col(b, 0), b.Column(1).(*array.String)
			for r := range id {
				hs[id[r]] = fnv(s.Value(r))
			}
		})
		scan("probe", func(b arrow.RecordBatch) {
			id, k, v, s := col(b, 0), col(b, 1), col(b, 2), b.Column(3).(*array.String)
			for r := range id {
				rows++
				sum += rowHash(uint64(id[r]), uint64(v[r]), fnv(s.Value(r)), hs[k[r]])
			}
		})
	case "sort":
		scan("big", func(b arrow.RecordBatch) {
			id, k, v, s := col(b, 0), col(b, 1), col(b, 2), b.Column(3).(*array.String)
			for r := range id {
				rows++
				sum += rowHash(uint64(id[r]), uint64(k[r]), uint64(v[r]), fnv(s.Value(r)))
			}
		})
	}
	if rows == 0 || (name == "sort" && rows != uint64(bigRows)) {
		t.Fatalf("%s: the generated tables gave %d rows", name, rows)
	}
	return rows, sum
}
