package connector

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/exec"
)

// readFrom reads a source to its end, row by row as text.
func readFrom(t *testing.T, src exec.Source) []string {
	t.Helper()
	rows, _ := drain(t, src)
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprint(r...))
	}
	return out
}

// TestFileSourcePosition: a source stopped after a random batch, its
// position taken, and a new source (another batch size) sought to that
// position reads exactly the rows the first one read after it, in every
// format, with and without partitions.
func TestFileSourcePosition(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	ctx := context.Background()
	for trial := 0; trial < 12; trial++ {
		format := []string{"csv", "json", "parquet"}[trial%3]
		partitioned := trial%2 == 1
		dir := t.TempDir()
		opts := readOpts(dir, format, partitioned)
		// Several INSERTs: several files (per partition).
		next := 0
		for f := 0; f < 2+rng.IntN(4); f++ {
			n := 1 + rng.IntN(40)
			sink, err := OpenSink("t", rollSchema, opts, nil)
			must(t, err)
			writeRows(t, sink, rollRows(next, next+n))
			must(t, sink.Commit())
			next += n
		}
		open := func(batch int) exec.Source {
			src, err := OpenSource("t", rollSchema, opts, batch, newMem(t))
			must(t, err)
			return src
		}
		all := readFrom(t, open(7))
		if len(all) != next {
			t.Fatalf("read %d rows of %d", len(all), next)
		}
		src := open(1 + rng.IntN(9))
		var before []string
		stop := rng.IntN(next + 1)
		for len(before) < stop {
			b, err := src.Next(ctx)
			if err == io.EOF {
				break
			}
			must(t, err)
			for i := 0; i < int(b.NumRows()); i++ {
				row := make([]any, b.NumCols())
				for j := range row {
					row[j] = exec.ValueAt(b.Column(j), i)
				}
				before = append(before, fmt.Sprint(row...))
			}
			b.Release()
		}
		pos, err := src.(checkpoint.Source).Position()
		must(t, err)
		src.Close()
		again := open(1 + rng.IntN(9))
		must(t, again.(checkpoint.Source).Seek(pos))
		after := readFrom(t, again)
		again.Close()
		if got := append(slices.Clone(before), after...); !slices.Equal(got, all) {
			t.Fatalf("trial %d (%s, partitioned %v): %d rows before the position %s and %d after, want the %d rows once:\n%v\n%v",
				trial, format, partitioned, len(before), pos, len(after), len(all), got, all)
		}
	}
}

// TestFileSourceSeekGone: a checkpoint's file that is gone fails the seek,
// naming it.
func TestFileSourceSeekGone(t *testing.T) {
	dir := t.TempDir()
	insert(t, dir, false, 1, 2)
	src, err := OpenSource("t", abSchema, fsOpts(dir), 1, newMem(t))
	must(t, err)
	b, err := src.Next(context.Background())
	must(t, err)
	b.Release()
	pos, err := src.(checkpoint.Source).Position()
	must(t, err)
	src.Close()
	insert(t, dir, true, 3)
	src, err = OpenSource("t", abSchema, fsOpts(dir), 1, newMem(t))
	must(t, err)
	defer src.Close()
	err = src.(checkpoint.Source).Seek(pos)
	if err == nil || !strings.Contains(err.Error(), "is no longer in the table") || !strings.Contains(err.Error(), filepath.Base(dir)) {
		t.Errorf("seek to a removed file: %v", err)
	}
}
