package connector

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/weir-dev/weir/internal/types"
)

// dictSchema has columns of many distinct values (id, y, s), of few (c, t,
// n, half of them NULL) and DECIMAL, which is never dictionary-encoded.
var dictSchema = types.Schema{
	{Name: "id", Type: types.BIGINT}, {Name: "y", Type: types.DOUBLE}, {Name: "s", Type: types.STRING},
	{Name: "c", Type: types.INT}, {Name: "t", Type: types.STRING}, {Name: "n", Type: types.DOUBLE},
	{Name: "dec", Type: types.DECIMAL(10, 2)},
}

// wantDict is whether each column of dictSchema should be dictionary-encoded.
var wantDict = []bool{false, false, false, true, true, true, false}

func dictRows(r *rand.Rand, n int) [][]any {
	decs := make([]any, 5)
	for i := range decs {
		for decs[i] == nil {
			decs[i] = randomFormatValue(r, types.DECIMAL(10, 2))
		}
	}
	ids := r.Perm(n)
	rows := make([][]any, n)
	for i := range rows {
		var nv any
		if r.Intn(2) == 0 {
			nv = float64(r.Intn(3)) / 4
		}
		rows[i] = []any{int64(ids[i]), r.Float64(), fmt.Sprintf("name-%d", ids[i]*7919),
			int32(r.Intn(1 + r.Intn(50))), fmt.Sprintf("t%d", r.Intn(20)), nv, decs[r.Intn(len(decs))]}
	}
	return rows
}

// columnDictionaries reports for each column of the Parquet file at path
// whether a row group's chunk of it is dictionary-encoded, and the number
// of row groups.
func columnDictionaries(t *testing.T, path string) ([]bool, int) {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	md := pf.MetaData()
	dict := make([]bool, md.Schema.NumColumns())
	for g := 0; g < md.NumRowGroups(); g++ {
		for j := range dict {
			cc, err := md.RowGroup(g).ColumnChunk(j)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range cc.Encodings() {
				if e == parquet.Encodings.RLEDict || e == parquet.Encodings.PlainDict {
					dict[j] = true
				}
			}
		}
	}
	return dict, md.NumRowGroups()
}

// TestParquetDictionaryDecision: a file's columns of many distinct values
// are written PLAIN, those of few with a dictionary, whatever the batch
// sizes (the first batches of a Python stage have 1, 2, 4 ... rows), and
// everything reads back; files shorter than the sample decide on what
// they have, and an empty file is still a Parquet file.
func TestParquetDictionaryDecision(t *testing.T) {
	r := rand.New(rand.NewSource(rand.Int63()))
	for _, n := range []int{0, 1, 37, parquetDictSampleRows + 1 + r.Intn(40000)} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			mem := newMem(t)
			rows := dictRows(r, n)
			dir := filepath.Join(t.TempDir(), "t")
			opts := map[string]string{"connector": "filesystem", "path": dir, "format": "parquet"}
			sink, err := OpenSink("t", dictSchema, opts, nil)
			must(t, err)
			for start, size := 0, 1; start < n; start, size = start+size, min(2*size, 1+r.Intn(valuesBatch)) {
				src := ValuesSource(dictSchema, rows[start:min(start+size, n)], mem)
				b, err := src.Next(context.Background())
				must(t, err)
				must(t, sink.Write(context.Background(), b))
				b.Release()
			}
			must(t, sink.Commit())
			src, err := OpenSource("t", dictSchema, opts, 1000, mem)
			must(t, err)
			got, _ := drain(t, src)
			if want := comparableRows(rows); len(got) != len(want) || n > 0 && !reflect.DeepEqual(got, want) {
				t.Fatalf("read %d rows back of %d, or other values", len(got), len(want))
			}
			files := visible(t, dir)
			if n == 0 {
				return // no part file for no rows
			}
			if len(files) != 1 {
				t.Fatalf("files %v", files)
			}
			dict, _ := columnDictionaries(t, filepath.Join(dir, files[0]))
			if n > 1000 && !slices.Equal(dict, wantDict) {
				t.Errorf("dictionary-encoded columns %v, want %v", dict, wantDict)
			}
			if dict[6] {
				t.Error("a DECIMAL column is dictionary-encoded, which Flink's reader refuses")
			}
		})
	}
}

// TestParquetDictionaryPays compares dictionaryPays with sizes counted
// another way (sorting), for columns of random lengths and numbers of
// distinct values.
func TestParquetDictionaryPays(t *testing.T) {
	r := rand.New(rand.NewSource(rand.Int63()))
	schema := types.Schema{{Name: "x", Type: types.DOUBLE}, {Name: "s", Type: types.STRING}, {Name: "i", Type: types.SMALLINT}}
	for trial := 0; trial < 200; trial++ {
		n := 1 + r.Intn(3000)
		card := 1 + r.Intn(n)
		rows := make([][]any, n)
		for i := range rows {
			k := r.Intn(card)
			rows[i] = []any{float64(k) * 1.5, fmt.Sprintf("v%0*d", r.Intn(3)*8, k), int16(k)}
			if r.Intn(10) == 0 {
				rows[i] = []any{nil, nil, nil}
			}
		}
		mem := newMem(t)
		var sample []arrow.RecordBatch
		for start := 0; start < n; start += valuesBatch {
			b, err := ValuesSource(schema, rows[start:min(start+valuesBatch, n)], mem).Next(context.Background())
			must(t, err)
			sample = append(sample, b)
		}
		for j, f := range schema {
			var vals []string
			plain := 0
			for _, row := range rows {
				if row[j] != nil {
					v := fmt.Sprint(row[j])
					vals = append(vals, v)
					plain += map[int]int{0: 8, 1: 4 + len(v), 2: 4}[j]
				}
			}
			slices.Sort(vals)
			distinct := slices.Compact(vals)
			dict := 0
			for _, v := range distinct {
				dict += map[int]int{0: 8, 1: 4 + len(v), 2: 4}[j]
			}
			nv := plain / map[int]int{0: 8, 1: 1, 2: 4}[j]
			if j == 1 {
				nv = 0
				for _, row := range rows {
					if row[j] != nil {
						nv++
					}
				}
			}
			want := nv == 0 || dict+nv*bits.Len(uint(max(len(distinct)-1, 1)))/8 < plain
			if got := dictionaryPays(sample, j, f.Type); got != want {
				t.Fatalf("trial %d column %s: %d values, %d distinct: dictionaryPays %v, want %v", trial, f.Name, nv, len(distinct), got, want)
			}
		}
		for _, b := range sample {
			b.Release()
		}
	}
}
