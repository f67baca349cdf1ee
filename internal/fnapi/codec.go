package fnapi

import (
	"bytes"
	"errors"
	"fmt"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the proto codec used for other messages
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// codec is the server's gRPC codec: protobuf, with a faster path for the
// data plane's Elements, which carry nearly all the bytes between the engine
// and its workers. gRPC's own proto codec copies a message's bytes once more
// on each side: an outgoing element's data into a marshalled message, and an
// incoming message's frames into one buffer before proto.Unmarshal copies
// its data fields out of it. Here an outgoing element's data is sent from
// where it is (Bundle.Send's caller does not change it afterwards), and an
// incoming data field is copied once, from gRPC's frames into a buffer of
// its size. Every other message, and an Elements this path does not handle
// (timers, unknown fields, anything malformed), goes through the proto codec.
type codec struct{}

// protoCodec is gRPC's default codec, registered by its proto package.
var protoCodec = encoding.GetCodecV2("proto")

func (codec) Name() string { return "proto" }

func (codec) Marshal(v any) (mem.BufferSlice, error) {
	switch m := v.(type) {
	case *outData:
		return m.marshal(), nil
	case *fnpb.Elements:
		if out, ok := marshalElements(m); ok {
			return out, nil
		}
	}
	return protoCodec.Marshal(v)
}

func (codec) Unmarshal(data mem.BufferSlice, v any) error {
	if m, ok := v.(*fnpb.Elements); ok {
		if unmarshalElements(data, m) == nil {
			return nil
		}
		proto.Reset(m)
	}
	return protoCodec.Unmarshal(data, v)
}

// inlineData is the size up to which a part of an element's data is copied
// into the message's other bytes rather than sent as a buffer of its own.
const inlineData = 4 << 10

// outData is an Elements message with one Data entry whose data is its parts
// one after the other: what Bundle.SendParts sends, encoded by the codec as
// the Elements message with the parts joined, without joining them (an
// Arrow element is its batches' buffers as they are, with the IPC headers
// between them).
type outData struct {
	instruction, transform string
	parts                  [][]byte
	last                   bool
}

// message is the Elements message d encodes as.
func (d *outData) message() *fnpb.Elements {
	return &fnpb.Elements{Data: []*fnpb.Elements_Data{{
		InstructionId: d.instruction, TransformId: d.transform, Data: bytes.Join(d.parts, nil), IsLast: d.last,
	}}}
}

func (d *outData) marshal() mem.BufferSlice {
	out, head := appendData(nil, nil, d.instruction, d.transform, d.parts, d.last)
	if len(head) > 0 {
		out = append(out, mem.SliceBuffer(head))
	}
	return out
}

// marshalElements encodes m as proto.Marshal does (fields in order, proto3
// defaults left out), referring to its large data fields instead of copying
// them. It declines messages with timers or unknown fields.
func marshalElements(m *fnpb.Elements) (mem.BufferSlice, bool) {
	if len(m.GetTimers()) > 0 || len(m.ProtoReflect().GetUnknown()) > 0 {
		return nil, false
	}
	var out mem.BufferSlice
	var head []byte
	for _, d := range m.GetData() {
		if d == nil || len(d.ProtoReflect().GetUnknown()) > 0 {
			return nil, false
		}
		out, head = appendData(out, head, d.GetInstructionId(), d.GetTransformId(), [][]byte{d.GetData()}, d.GetIsLast())
	}
	if len(head) > 0 {
		out = append(out, mem.SliceBuffer(head))
	}
	return out, true
}

// appendData encodes one Elements.Data entry (field 1 of Elements) whose data
// is parts joined: small bytes are appended to head, the message's bytes not
// yet in out; a large part goes to out as a buffer of its own, after head.
// It returns out and what is left of head.
func appendData(out mem.BufferSlice, head []byte, id, tr string, parts [][]byte, last bool) (mem.BufferSlice, []byte) {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	n := 0
	if id != "" {
		n += 1 + protowire.SizeBytes(len(id))
	}
	if tr != "" {
		n += 1 + protowire.SizeBytes(len(tr))
	}
	if size > 0 {
		n += 1 + protowire.SizeBytes(size)
	}
	if last {
		n += 2
	}
	head = protowire.AppendTag(head, 1, protowire.BytesType)
	head = protowire.AppendVarint(head, uint64(n))
	if id != "" {
		head = protowire.AppendTag(head, 1, protowire.BytesType)
		head = protowire.AppendString(head, id)
	}
	if tr != "" {
		head = protowire.AppendTag(head, 2, protowire.BytesType)
		head = protowire.AppendString(head, tr)
	}
	if size > 0 {
		head = protowire.AppendTag(head, 3, protowire.BytesType)
		head = protowire.AppendVarint(head, uint64(size))
		for _, p := range parts {
			if len(p) <= inlineData {
				head = append(head, p...)
				continue
			}
			if len(head) > 0 {
				out = append(out, mem.SliceBuffer(head))
			}
			out = append(out, mem.SliceBuffer(p))
			// A new head: the one in out is gRPC's to read.
			head = nil
		}
	}
	if last {
		head = protowire.AppendTag(head, 4, protowire.VarintType)
		head = protowire.AppendVarint(head, 1)
	}
	return out, head
}

// errDecline makes Unmarshal use the proto codec, which decodes what this
// path does not handle, or reports what is wrong with it.
var errDecline = errors.New("fnapi: not decoded by the fast path")

// unmarshalElements decodes data into m, which must be empty, reading it
// where gRPC holds it; each data field is copied once into its own buffer.
func unmarshalElements(data mem.BufferSlice, m *fnpb.Elements) error {
	r := sliceReader{bufs: make([][]byte, len(data))}
	for i, b := range data {
		r.bufs[i] = b.ReadOnlyData()
		r.left += len(r.bufs[i])
	}
	for r.left > 0 {
		num, typ, err := r.tag()
		if err != nil || num != 1 || typ != protowire.BytesType {
			return errDecline
		}
		n, err := r.varint()
		if err != nil || n > uint64(r.left) {
			return errDecline
		}
		d, err := r.data(int(n))
		if err != nil {
			return err
		}
		m.Data = append(m.Data, d)
	}
	return nil
}

// data decodes one Elements.Data message of n bytes.
func (r *sliceReader) data(n int) (*fnpb.Elements_Data, error) {
	d := &fnpb.Elements_Data{}
	end := r.left - n
	for r.left > end {
		num, typ, err := r.tag()
		if err != nil {
			return nil, errDecline
		}
		switch {
		case num >= 1 && num <= 3 && typ == protowire.BytesType:
			k, err := r.varint()
			if err != nil || k > uint64(r.left-end) {
				return nil, errDecline
			}
			parts := r.take(int(k))
			switch num {
			case 1:
				d.InstructionId = string(bytes.Join(parts, nil))
			case 2:
				d.TransformId = string(bytes.Join(parts, nil))
			default:
				// Join allocates without zeroing the buffer first.
				d.Data = bytes.Join(parts, nil)
			}
		case num == 4 && typ == protowire.VarintType:
			v, err := r.varint()
			if err != nil {
				return nil, errDecline
			}
			d.IsLast = v != 0
		default:
			return nil, errDecline
		}
	}
	if r.left != end {
		return nil, errDecline
	}
	return d, nil
}

// sliceReader reads the protobuf wire format from a message held in several
// buffers.
type sliceReader struct {
	bufs [][]byte // unread, the first one from off
	off  int
	left int // bytes unread
}

func (r *sliceReader) byte() (byte, error) {
	for len(r.bufs) > 0 && r.off == len(r.bufs[0]) {
		r.bufs, r.off = r.bufs[1:], 0
	}
	if len(r.bufs) == 0 {
		return 0, errDecline
	}
	c := r.bufs[0][r.off]
	r.off++
	r.left--
	return c, nil
}

func (r *sliceReader) varint() (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("fnapi: varint over 64 bits: %w", errDecline)
}

func (r *sliceReader) tag() (protowire.Number, protowire.Type, error) {
	v, err := r.varint()
	if err != nil {
		return 0, 0, err
	}
	num, typ := protowire.DecodeTag(v)
	if num < protowire.MinValidNumber {
		return 0, 0, errDecline
	}
	return num, typ, nil
}

// take returns the next n bytes (n <= left) as slices of the buffers.
func (r *sliceReader) take(n int) [][]byte {
	var parts [][]byte
	r.left -= n
	for n > 0 {
		b := r.bufs[0][r.off:]
		if len(b) == 0 {
			r.bufs, r.off = r.bufs[1:], 0
			continue
		}
		k := min(n, len(b))
		parts = append(parts, b[:k])
		r.off += k
		n -= k
	}
	return parts
}
