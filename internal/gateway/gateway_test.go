package gateway

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

func TestMessageRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	body := make([]byte, rand.IntN(100000))
	for i := range body {
		body[i] = byte(rand.IntN(256))
	}
	if err := WriteMessage(w, &Request{Op: "execute_sql", SQL: "SELECT 1"}, body); err != nil {
		t.Fatal(err)
	}
	var got Request
	gotBody, err := ReadMessage(&buf, &got)
	if err != nil {
		t.Fatal(err)
	}
	if got.Op != "execute_sql" || got.SQL != "SELECT 1" || !bytes.Equal(gotBody, body) {
		t.Fatalf("ReadMessage(WriteMessage(x)) = %+v, %d bytes; want the request and %d bytes", got, len(gotBody), len(body))
	}
	if _, err := ReadMessage(&buf, &got); err != io.EOF {
		t.Fatalf("ReadMessage at the end = %v, want io.EOF", err)
	}
	// A message cut short is an error, not EOF.
	WriteMessage(w, &Request{Op: "x"}, []byte("abc"))
	cut := buf.Bytes()[:buf.Len()-2]
	if _, err := ReadMessage(bytes.NewReader(cut), &got); err == nil || err == io.EOF {
		t.Fatalf("ReadMessage of a cut message = %v, want an error", err)
	}
}

// ipcOf encodes one int32 column a and one string column s.
func ipcOf(t *testing.T, as []int32, ss []string) []byte {
	schema := types.Schema{{Name: "a", Type: types.T{Kind: types.Int, Nullable: true}}, {Name: "s", Type: types.STRING}}.Arrow()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int32Builder).AppendValues(as, nil)
	b.Field(1).(*array.StringBuilder).AppendValues(ss, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

func TestSessionTableQueryViewAndErrors(t *testing.T) {
	ctx := context.Background()
	s, err := NewSession(nil, t.TempDir(), "python3", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 1 + rand.IntN(5000)
	as := make([]int32, n)
	ss := make([]string, n)
	want := int64(0)
	for i := range as {
		as[i] = int32(rand.IntN(200) - 100)
		ss[i] = strings.Repeat("x", rand.IntN(4))
		if as[i] > 0 {
			want++
		}
	}
	rows, err := s.RegisterTable("t", []Column{{"a", "INT"}, {"s", "STRING"}}, ipcOf(t, as, ss))
	if err != nil || rows != int64(n) {
		t.Fatalf("RegisterTable = %d, %v; want %d rows", rows, err, n)
	}
	if _, err := s.CreateView(ctx, "pos", "SELECT a * 2 AS b, s FROM t WHERE a > 0"); err != nil {
		t.Fatal(err)
	}
	resp, body, err := s.Execute(ctx, "SELECT b + 1 AS c, CHAR_LENGTH(s) AS l FROM pos")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Rows != want || len(resp.Columns) != 2 || resp.Columns[0].Name != "c" || resp.Columns[0].Type != "INT" {
		t.Fatalf("Execute = %+v; want %d rows of c INT, l INT", resp, want)
	}
	r, err := ipc.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for r.Next() {
		c := r.RecordBatch().Column(0).(*array.Int32)
		for k := 0; k < c.Len(); k++ {
			for as[i] <= 0 {
				i++
			}
			if c.Value(k) != as[i]*2+1 {
				t.Fatalf("row %d: c = %d, want %d", k, c.Value(k), as[i]*2+1)
			}
			i++
		}
	}
	// Errors carry the SQL position.
	if _, _, err := s.Execute(ctx, "SELECT nope FROM t"); err == nil || !strings.Contains(err.Error(), "line 1, column 8") {
		t.Fatalf("unknown column: err = %v, want one at line 1, column 8", err)
	}
	if _, err := s.RegisterTable("t", []Column{{"a", "INT"}, {"s", "STRING"}}, ipcOf(t, as, ss)); err == nil {
		t.Fatalf("RegisterTable of an existing name: no error")
	}
	if _, err := s.RegisterTable("u", []Column{{"a", "BIGINT"}, {"s", "STRING"}}, ipcOf(t, as, ss)); err == nil || !strings.Contains(err.Error(), "Arrow int32") {
		t.Fatalf("RegisterTable with the wrong Arrow type: err = %v", err)
	}
	if _, _, err := s.Execute(ctx, "INSERT INTO t SELECT * FROM t"); err == nil {
		t.Fatalf("INSERT INTO a table from Python: no error")
	}
	if !s.DropView("pos") || s.DropView("pos") {
		t.Fatalf("DropView: want true once, then false")
	}
}
