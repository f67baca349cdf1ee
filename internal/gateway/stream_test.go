package gateway

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// TestStreamSendsEveryRowThenTheCount: a streamed query's messages are the
// header, bodies whose rows are the query's, and a last one with the count.
func TestStreamSendsEveryRowThenTheCount(t *testing.T) {
	ctx := context.Background()
	s, err := NewSession(nil, t.TempDir(), "python3", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 1 + rand.IntN(20000)
	as := make([]int32, n)
	ss := make([]string, n)
	var want int64
	for i := range as {
		as[i] = int32(rand.IntN(1000))
		want += int64(as[i])
	}
	if _, err := s.RegisterTable("t", []Column{{"a", "INT"}, {"s", "STRING"}}, ipcOf(t, as, ss)); err != nil {
		t.Fatal(err)
	}
	var msgs []*Response
	var got, rows int64
	emit := func(r *Response, body []byte) error {
		msgs = append(msgs, r)
		if len(body) == 0 {
			return nil
		}
		rd, err := ipc.NewReader(bytes.NewReader(body))
		if err != nil {
			return err
		}
		for rd.Next() {
			c := rd.RecordBatch().Column(0).(*array.Int32)
			for i := 0; i < c.Len(); i++ {
				got += int64(c.Value(i))
				rows++
			}
		}
		return rd.Err()
	}
	last, _, err := s.Stream(ctx, "SELECT a FROM t", emit)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) < 1 || !msgs[0].More || msgs[0].Kind != "select" || len(msgs[0].Columns) != 1 || msgs[0].RowKind {
		t.Fatalf("first message %+v; want the columns of a select, with more to come", msgs[0])
	}
	if last.More || last.Rows != int64(n) || rows != int64(n) || got != want {
		t.Fatalf("last %+v, %d rows summing to %d; want %d rows summing to %d", last, rows, got, n, want)
	}
	// A client that is gone stops the job: the error is the sender's.
	gone := errors.New("client gone")
	if _, _, err := s.Stream(ctx, "SELECT a FROM t", func(*Response, []byte) error { return gone }); !errors.Is(err, gone) {
		t.Fatalf("Stream with a failing emit: %v, want %v", err, gone)
	}
}

func TestCommitGate(t *testing.T) {
	g := &commitGate{waiting: 2, done: make(chan struct{})}
	boom := errors.New("boom")
	go g.fail(boom)
	if err := g.arrive(); !errors.Is(err, boom) {
		t.Fatalf("arrive after a failure: %v, want %v", err, boom)
	}
	g = &commitGate{waiting: 2, done: make(chan struct{})}
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- g.arrive() }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	g.fail(boom) // after everyone arrived: a commit's own failure, not the gate's
	if g.err != nil {
		t.Fatalf("fail after all arrived set the gate's error")
	}
}

func TestExtractRefusesEntriesOutsideTheTarget(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"../escape.txt", "a/../../escape.txt"} {
		path := filepath.Join(dir, "bad.zip")
		var buf bytes.Buffer
		z := zip.NewWriter(&buf)
		w, _ := z.Create(name)
		w.Write([]byte("x"))
		z.Close()
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		err := extract(path, filepath.Join(dir, "out"))
		if err == nil || !strings.Contains(err.Error(), "outside") {
			t.Fatalf("%s: err = %v, want an entry outside the directory refused", name, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "escape.txt")); err == nil {
			t.Fatalf("%s: a file was written outside the target", name)
		}
	}
	good := filepath.Join(dir, "good.zip")
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, _ := z.Create("d/f.txt")
	w.Write([]byte("hello"))
	z.Close()
	os.WriteFile(good, buf.Bytes(), 0o600)
	if err := extract(good, filepath.Join(dir, "g")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "g", "d", "f.txt")); err != nil || string(b) != "hello" {
		t.Fatalf("extracted file: %q, %v", b, err)
	}
}
