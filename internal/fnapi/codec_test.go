package fnapi

import (
	"bytes"
	"math/rand/v2"
	"testing"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// randomElements is an Elements of random data entries: empty and non-empty
// ids, data of sizes around inlineData, is_last or not.
func randomElements(r *rand.Rand) *fnpb.Elements {
	m := &fnpb.Elements{}
	for range r.IntN(4) {
		d := &fnpb.Elements_Data{IsLast: r.IntN(2) == 0}
		if r.IntN(4) > 0 {
			d.InstructionId = "i" + string(rune('0'+r.IntN(10)))
		}
		if r.IntN(4) > 0 {
			d.TransformId = "transform-" + string(bytes.Repeat([]byte{'x'}, r.IntN(200)))
		}
		var n int
		switch r.IntN(4) {
		case 0:
			n = 0
		case 1:
			n = r.IntN(100)
		case 2:
			n = inlineData - 2 + r.IntN(4)
		default:
			n = r.IntN(300_000)
		}
		if n > 0 {
			d.Data = make([]byte, n)
			for i := range d.Data {
				d.Data[i] = byte(r.Uint32())
			}
		}
		m.Data = append(m.Data, d)
	}
	return m
}

// split cuts b into a BufferSlice of random pieces (some empty), as gRPC
// holds a message in the frames it arrived in.
func split(r *rand.Rand, b []byte) mem.BufferSlice {
	var out mem.BufferSlice
	for len(b) > 0 {
		k := min(len(b), r.IntN(20_000))
		if r.IntN(10) == 0 {
			k = min(len(b), r.IntN(3))
		}
		out = append(out, mem.SliceBuffer(b[:k]))
		b = b[k:]
	}
	return out
}

func TestCodecElementsMatchesProto(t *testing.T) {
	r := rand.New(rand.NewPCG(rand.Uint64(), 7))
	for i := range 300 {
		m := randomElements(r)
		want, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out, ok := marshalElements(m)
		if !ok {
			t.Fatalf("case %d: fast path declined %v", i, m)
		}
		got := out.Materialize()
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d: marshalled %d bytes, proto.Marshal %d; they differ", i, len(got), len(want))
		}
		// The codec, from the wire split anywhere.
		back := &fnpb.Elements{}
		if err := (codec{}).Unmarshal(split(r, want), back); err != nil {
			t.Fatalf("case %d: unmarshal: %v", i, err)
		}
		if !proto.Equal(back, m) {
			t.Fatalf("case %d: decoded message differs from the original", i)
		}
		// And the fast path alone accepts everything it sends.
		fast := &fnpb.Elements{}
		if err := unmarshalElements(split(r, want), fast); err != nil || !proto.Equal(fast, m) {
			t.Fatalf("case %d: the fast path declined or differs (%v)", i, err)
		}
	}
}

// randomParts cuts data into random parts, small and large, some empty.
func randomParts(r *rand.Rand, data []byte) [][]byte {
	var parts [][]byte
	for len(data) > 0 || r.IntN(3) == 0 {
		var k int
		switch r.IntN(3) {
		case 0:
			k = r.IntN(10)
		case 1:
			k = inlineData - 2 + r.IntN(4)
		default:
			k = r.IntN(100_000)
		}
		k = min(k, len(data))
		parts = append(parts, data[:k])
		data = data[k:]
	}
	return parts
}

// TestCodecPartsMatchProto: data sent in parts (Bundle.SendParts) is
// marshalled to the bytes proto.Marshal gives for the Elements message with
// the parts joined, and decodes to that message; large parts are sent from
// where they are.
func TestCodecPartsMatchProto(t *testing.T) {
	r := rand.New(rand.NewPCG(rand.Uint64(), 11))
	for i := range 300 {
		m := randomElements(r)
		if len(m.Data) == 0 {
			continue
		}
		d := m.Data[0]
		m.Data = m.Data[:1]
		o := &outData{instruction: d.InstructionId, transform: d.TransformId, parts: randomParts(r, d.Data), last: d.IsLast}
		if !proto.Equal(o.message(), m) {
			t.Fatalf("case %d: outData.message differs from the message it was made from", i)
		}
		want, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out, err := (codec{}).Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		if got := out.Materialize(); !bytes.Equal(got, want) {
			t.Fatalf("case %d: marshalled %d bytes, proto.Marshal %d; they differ", i, len(got), len(want))
		}
		for _, p := range o.parts {
			if len(p) <= inlineData {
				continue
			}
			found := false
			for _, b := range out {
				found = found || (b.Len() == len(p) && &b.ReadOnlyData()[0] == &p[0])
			}
			if !found {
				t.Fatalf("case %d: a part of %d bytes was copied into the message", i, len(p))
			}
		}
		back := &fnpb.Elements{}
		if err := (codec{}).Unmarshal(split(r, want), back); err != nil || !proto.Equal(back, m) {
			t.Fatalf("case %d: decoded message differs (%v)", i, err)
		}
	}
}

func TestCodecDataIsNotCopiedOnSend(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 3*inlineData)
	m := &fnpb.Elements{Data: []*fnpb.Elements_Data{{InstructionId: "i1", TransformId: "src", Data: data}}}
	out, err := (codec{}).Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range out {
		found = found || (b.Len() == len(data) && &b.ReadOnlyData()[0] == &data[0])
	}
	if !found {
		t.Fatal("the element's data was copied into the message")
	}
}

// Messages the fast path does not handle are decoded, or refused, as the
// proto codec does.
func TestCodecFallsBack(t *testing.T) {
	timers := &fnpb.Elements{
		Data:   []*fnpb.Elements_Data{{InstructionId: "i1", TransformId: "sink", Data: []byte("abc")}},
		Timers: []*fnpb.Elements_Timers{{InstructionId: "i1", TransformId: "t", TimerFamilyId: "f", Timers: []byte("xyz")}},
	}
	unknown := &fnpb.Elements{Data: []*fnpb.Elements_Data{{InstructionId: "i2", Data: []byte("d")}}}
	unknown.Data[0].ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 9, protowire.VarintType), 5))
	for _, m := range []*fnpb.Elements{timers, unknown} {
		if _, ok := marshalElements(m); ok {
			t.Fatalf("fast path took %v", m)
		}
		out, err := (codec{}).Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		wire := out.Materialize()
		if err := unmarshalElements(mem.BufferSlice{mem.SliceBuffer(wire)}, &fnpb.Elements{}); err == nil {
			t.Fatalf("fast path decoded %v", m)
		}
		back := &fnpb.Elements{}
		if err := (codec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, back); err != nil || !proto.Equal(back, m) {
			t.Fatalf("fallback: %v, or %v differs from %v", err, back, m)
		}
	}
	// Malformed input: every truncation of a valid message is an error for
	// both codecs, or decodes to the same message.
	good, _ := proto.Marshal(&fnpb.Elements{Data: []*fnpb.Elements_Data{{InstructionId: "i3", TransformId: "s", Data: bytes.Repeat([]byte{1}, 300), IsLast: true}}})
	for n := range len(good) {
		b := good[:n]
		want := &fnpb.Elements{}
		wantErr := proto.Unmarshal(b, want)
		got := &fnpb.Elements{}
		gotErr := (codec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, got)
		if (wantErr == nil) != (gotErr == nil) || (wantErr == nil && !proto.Equal(got, want)) {
			t.Fatalf("truncated to %d bytes: proto %v, codec %v", n, wantErr, gotErr)
		}
	}
}

func BenchmarkCodecUnmarshal(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	m := &fnpb.Elements{Data: []*fnpb.Elements_Data{{InstructionId: "i1", TransformId: "sink", Data: make([]byte, 4<<20)}}}
	wire, _ := proto.Marshal(m)
	data := split(r, wire)
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		if err := (codec{}).Unmarshal(data, &fnpb.Elements{}); err != nil {
			b.Fatal(err)
		}
	}
}
