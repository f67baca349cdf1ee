package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

var rollSchema = types.Schema{{Name: "a", Type: types.BIGINT}, {Name: "s", Type: types.STRING}, {Name: "k", Type: types.INT}}

// rollOpts are the options of a streaming sink of rollSchema at dir.
func rollOpts(dir, format string, partitioned bool, kv ...string) map[string]string {
	m := map[string]string{"connector": "filesystem", "path": dir, "format": format, streamingOption: "true"}
	if partitioned {
		m[partitionKeysOption] = "key=k"
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func readOpts(dir, format string, partitioned bool) map[string]string {
	m := rollOpts(dir, format, partitioned)
	delete(m, streamingOption)
	return m
}

// rollRows are rows a = from .. to-1.
func rollRows(from, to int) [][]any {
	var rows [][]any
	for a := from; a < to; a++ {
		rows = append(rows, []any{int64(a), fmt.Sprintf("row-%d", a), int32(a % 3)})
	}
	return rows
}

func writeRows(t *testing.T, sink exec.Sink, rows [][]any) {
	t.Helper()
	if len(rows) == 0 {
		return
	}
	b, err := ValuesSource(rollSchema, rows, newMem(t)).Next(context.Background())
	must(t, err)
	defer b.Release()
	must(t, sink.Write(context.Background(), b))
}

// tableA reads column a of the table, sorted.
func tableA(t *testing.T, opts map[string]string) []int64 {
	t.Helper()
	src, err := OpenSource("t", rollSchema, opts, 100, newMem(t))
	must(t, err)
	defer src.Close()
	rows, _ := drain(t, src)
	var out []int64
	for _, r := range rows {
		if r[2].(int32) != int32(r[0].(int64)%3) || r[1].(string) != fmt.Sprintf("row-%d", r[0]) {
			t.Fatalf("row %v is not as written", r)
		}
		out = append(out, r[0].(int64))
	}
	slices.Sort(out)
	return out
}

func hiddenTree(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && hidden(e.Name()) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestRollingFiles: files roll at the size and on each checkpoint; a
// checkpoint's files are visible only once committed, and all at the end.
func TestRollingFiles(t *testing.T) {
	for _, format := range []string{"csv", "json", "parquet"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			sink, err := OpenSink("t", rollSchema, rollOpts(dir, format, false, "sink.rolling-policy.file-size", "2kb"), nil)
			must(t, err)
			cs := sink.(checkpoint.Sink)
			ctx := context.Background()
			for i := 0; i < 10; i++ {
				writeRows(t, sink, rollRows(i*100, i*100+100))
			}
			if got := tableA(t, readOpts(dir, format, false)); len(got) != 0 {
				t.Fatalf("%d rows visible before any commit", len(got))
			}
			_, err = cs.PreCommit(ctx, 1)
			must(t, err)
			if got := tableA(t, readOpts(dir, format, false)); len(got) != 0 {
				t.Fatalf("%d rows visible after the pre-commit", len(got))
			}
			must(t, cs.CommitCheckpoint(ctx, 1))
			if got := tableA(t, readOpts(dir, format, false)); len(got) != 1000 {
				t.Fatalf("%d rows visible after checkpoint 1, want 1000", len(got))
			}
			if format != "parquet" && len(visible(t, dir)) < 2 {
				t.Errorf("1000 rows in 2kb files made %d file(s)", len(visible(t, dir)))
			}
			writeRows(t, sink, rollRows(1000, 1010))
			must(t, sink.Commit())
			got := tableA(t, readOpts(dir, format, false))
			if len(got) != 1010 || got[1009] != 1009 {
				t.Fatalf("after the end: %d rows", len(got))
			}
			if h := hiddenTree(t, dir); len(h) != 0 {
				t.Errorf("hidden files left: %v", h)
			}
		})
	}
}

// TestRollingRollover: a file open longer than the rollover interval rolls.
func TestRollingRollover(t *testing.T) {
	dir := t.TempDir()
	sink, err := OpenSink("t", rollSchema, rollOpts(dir, "csv", false, "sink.rolling-policy.rollover-interval", "1 min"), nil)
	must(t, err)
	s := sink.(*streamingFileSink)
	now := time.Unix(1e9, 0)
	s.r.now = func() time.Time { return now }
	writeRows(t, sink, rollRows(0, 5))
	writeRows(t, sink, rollRows(5, 10))
	now = now.Add(61 * time.Second)
	writeRows(t, sink, rollRows(10, 15)) // this file is over a minute old: rolled after the write
	writeRows(t, sink, rollRows(15, 20))
	must(t, sink.Commit())
	if n := len(visible(t, dir)); n != 2 {
		t.Errorf("%d files, want 2 (one rolled by the interval)", n)
	}
	if got := tableA(t, readOpts(dir, "csv", false)); len(got) != 20 {
		t.Errorf("%d rows", len(got))
	}
}

// TestRollingRecover: a job that dies at a random point and resumes from
// its last complete checkpoint (replaying the rows after it, as its
// sources do) leaves every row in the committed files exactly once.
func TestRollingRecover(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	ctx := context.Background()
	for trial := 0; trial < 12; trial++ {
		format := []string{"csv", "json", "parquet"}[trial%3]
		partitioned := trial%2 == 0
		dir := t.TempDir()
		opts := rollOpts(dir, format, partitioned, "sink.rolling-policy.file-size", fmt.Sprintf("%db", 200+rng.IntN(3000)))
		total := 200 + rng.IntN(800)
		// Run 1: writes in random batches, checkpoints now and then, and dies
		// (no Commit, no Abort) at a random point.
		sink, err := OpenSink("t", rollSchema, opts, nil)
		must(t, err)
		cs := sink.(checkpoint.Sink)
		type saved struct {
			id   int64
			data []byte
			rows int // rows written before its barrier
		}
		var last *saved // the newest checkpoint stored (complete)
		written, id := 0, int64(0)
		dieAt := rng.IntN(total)
		for written < dieAt {
			n := min(1+rng.IntN(60), dieAt-written)
			writeRows(t, sink, rollRows(written, written+n))
			written += n
			if rng.IntN(3) == 0 {
				id++
				data, err := cs.PreCommit(ctx, id)
				must(t, err)
				switch rng.IntN(3) {
				case 0: // the process dies before the checkpoint is stored
					goto died
				case 1: // stored, but dies before CommitCheckpoint
					last = &saved{id, data, written}
					goto died
				}
				last = &saved{id, data, written}
				must(t, cs.CommitCheckpoint(ctx, id))
			}
		}
	died:
		// Run 2: resumes from the last stored checkpoint (or from the
		// start), replays the rows after it and ends normally.
		sink2, err := OpenSink("t", rollSchema, opts, nil)
		must(t, err)
		from := 0
		if last != nil {
			ok, err := sink2.(checkpoint.Sink).Recover(ctx, last.id, last.data)
			must(t, err)
			if !ok {
				t.Fatal("Recover: the files of a stored checkpoint were not committed")
			}
			from = last.rows
		}
		for a := from; a < total; {
			n := min(1+rng.IntN(60), total-a)
			writeRows(t, sink2, rollRows(a, a+n))
			a += n
		}
		must(t, sink2.Commit())
		got := tableA(t, readOpts(dir, format, partitioned))
		want := make([]int64, total)
		for i := range want {
			want[i] = int64(i)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d (%s, partitioned %v, died after %d rows, checkpoint %+v): %d rows committed, want each of %d once",
				trial, format, partitioned, dieAt, last, len(got), total)
		}
		// Only the dead run's files without a checkpoint may stay hidden.
		if last != nil {
			var d checkpointData
			must(t, json.Unmarshal(last.data, &d))
			for _, h := range hiddenTree(t, dir) {
				if strings.Contains(h, "."+d.Prefix) {
					t.Errorf("trial %d: a file of the resumed lineage is left: %s", trial, h)
				}
			}
		}
	}
}
