package coder

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzDecode feeds arbitrary bytes to decoders of fixed schemas: the decoder
// must not panic, must hold no more than allocBound of the input, and, when
// it accepts the input, encoding what it read and decoding that again must
// give the same values.
func FuzzDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(11, 12))
	for s, sch := range allocSchemas {
		ts := mustTypes(f, sch...)
		for range 3 {
			data := []byte{byte(s)}
			for _, row := range randBatch(r, ts, 1+r.IntN(4)) {
				data = append(data, refEncodeRow(ts, row)...)
			}
			f.Add(data)
		}
	}
	f.Add([]byte{0, 5, 0, 0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		ts := mustTypes(t, allocSchemas[int(data[0])%len(allocSchemas)]...)
		in := data[1:]
		checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer checked.AssertSize(t, 0)
		mem := &countingAllocator{inner: checked}
		dec := NewDecoder(mem, ts)
		defer dec.Release()
		n, err := dec.Decode(in)
		if dec.Len() != n {
			t.Fatalf("Len %d after %d rows", dec.Len(), n)
		}
		if err != nil && !errPattern.MatchString(err.Error()) {
			t.Fatalf("error %q does not name row/column", err)
		}
		arrs := dec.NewArrays()
		defer releaseAll(arrs)
		if mem.peak > allocBound(len(in)) {
			t.Fatalf("input of %d bytes made the decoder hold %d bytes", len(in), mem.peak)
		}
		for _, a := range arrs {
			if a.Len() != n {
				t.Fatalf("array of %d values after %d rows", a.Len(), n)
			}
			if err := validate(a); err != nil {
				t.Fatal(err)
			}
		}
		if err != nil {
			return
		}
		rows := readRows(arrs, ts)
		again, err := NewEncoder(ts).Encode(nil, arrs, 0, n)
		if err != nil {
			t.Fatalf("encode of decoded values: %v", err)
		}
		var ref []byte
		for _, row := range rows {
			ref = append(ref, refEncodeRow(ts, row)...)
		}
		if !bytes.Equal(again, ref) {
			t.Fatalf("Encode %x, reference %x", again, ref)
		}
		dec2 := NewDecoder(checked, ts)
		defer dec2.Release()
		if _, err := dec2.Decode(again); err != nil {
			t.Fatalf("decode of re-encoded %x: %v", again, err)
		}
		arrs2 := dec2.NewArrays()
		defer releaseAll(arrs2)
		if canon(readRows(arrs2, ts)) != canon(rows) {
			t.Fatalf("values changed through encode and decode")
		}
	})
}

// bytesSource is a rand.Source that plays the fuzzer's bytes, then a PCG
// seeded by them.
type bytesSource struct {
	data []byte
	pcg  *rand.PCG
}

func newBytesSource(data []byte) *bytesSource {
	h := fnv.New64a()
	h.Write(data)
	return &bytesSource{data: data, pcg: rand.NewPCG(h.Sum64(), uint64(len(data)))}
}

func (s *bytesSource) Uint64() uint64 {
	if len(s.data) >= 8 {
		v := binary.LittleEndian.Uint64(s.data)
		s.data = s.data[8:]
		return v
	}
	return s.pcg.Uint64()
}

// FuzzRoundTrip derives a schema and values from the fuzzer's bytes and
// checks Encode against EncodeValues and the reference encoder, and that
// Decode gives the values back.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("weir row coder round trip seed 1"))
	f.Add(bytes.Repeat([]byte{0xff, 0x13, 0x00, 0x80}, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := rand.New(newBytesSource(data))
		ts := randSchema(r, 3)
		rows := randBatch(r, ts, r.IntN(20))
		checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer checked.AssertSize(t, 0)
		checkRoundTrip(t, checked, r, ts, rows)
	})
}
