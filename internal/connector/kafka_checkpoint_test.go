package connector

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/kafkatest"
	"github.com/weir-dev/weir/internal/types"
)

// TestKafkaSeek: a Kafka source resumed at a checkpoint's position (per
// partition offsets) reads the records after it and no other, whatever
// 'scan.startup.mode' says; an idle unbounded source returns batches of no
// rows instead of blocking.
func TestKafkaSeek(t *testing.T) {
	broker, err := kafkatest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Stop()
	k := &kafkaEnv{t: t, addr: broker.Addr}
	topic := k.topic(t, 3)
	want := map[string]bool{}
	for p := int32(0); p < 3; p++ {
		var vals [][]byte
		for i := 0; i < 700; i++ {
			v := fmt.Sprintf("p%d-%d", p, i)
			vals = append(vals, []byte(v))
			want[v] = true
		}
		k.produce(t, topic, p, vals...)
	}
	schema := types.Schema{{Name: "v", Type: types.STRING}}
	opts := map[string]string{"connector": "kafka", "topic": topic, "properties.bootstrap.servers": k.addr,
		"format": "raw", "scan.startup.mode": "earliest-offset"}
	mem := memory.NewGoAllocator()
	open := func(mode string) exec.Source {
		o := maps(opts)
		o["scan.startup.mode"] = mode
		src, err := OpenSource("src", schema, o, 50, mem)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	read := func(src exec.Source, n int) []string {
		var out []string
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		idle := 0
		for len(out) < n && idle < 5 {
			b, err := src.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if b.NumRows() == 0 {
				idle++
			}
			for r := 0; r < int(b.NumRows()); r++ {
				out = append(out, fmt.Sprint(exec.ValueAt(b.Column(0), r)))
			}
			b.Release()
		}
		return out
	}
	r := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 4; round++ {
		first := open("earliest-offset")
		head := read(first, r.IntN(2000))
		pos, err := first.(checkpoint.Source).Position()
		first.Close()
		if err != nil {
			t.Fatal(err)
		}
		again := open("latest-offset") // a checkpoint's offsets win
		if err := again.(checkpoint.Source).Seek(pos); err != nil {
			t.Fatal(err)
		}
		tail := read(again, 1<<30) // ends after idle polls
		again.Close()
		got := append(head, tail...)
		if len(got) != len(want) {
			t.Fatalf("round %d: %d rows before the position and %d after, want %d in all", round, len(head), len(tail), len(want))
		}
		slices.Sort(got)
		for i := 1; i < len(got); i++ {
			if got[i] == got[i-1] {
				t.Fatalf("round %d: %s read twice", round, got[i])
			}
		}
		for _, v := range got {
			if !want[v] {
				t.Fatalf("round %d: unexpected %s", round, v)
			}
		}
	}
}

func maps(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}
