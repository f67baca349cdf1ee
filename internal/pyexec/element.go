package pyexec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// An element on the data plane is a windowed value in the global window:
// 8-byte timestamp, int32 window count (1; the global window encodes as
// nothing), one pane-info byte, then the value as varint length + bytes.
// weir's value is one batch of rows.
var elementHeader = [13]byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x0f}

// elementReserve is the room left in front of a batch for its element header
// and the varint of its length, so a batch can be wrapped without copying.
const elementReserve = len(elementHeader) + binary.MaxVarintLen32

// wrapElement turns buf, whose first elementReserve bytes are free and whose
// rest is a batch, into one encoded element, and returns the element's slice.
func wrapElement(buf []byte) []byte {
	return elementHead(buf, len(buf)-elementReserve)
}

// elementHead writes the header of an element whose value is n bytes into
// the free elementReserve bytes at the start of buf, just before what
// follows them, and returns buf from the header on.
func elementHead(buf []byte, n int) []byte {
	var v [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(v[:], uint64(n))
	start := elementReserve - k - len(elementHeader)
	copy(buf[start:], elementHeader[:])
	copy(buf[start+len(elementHeader):], v[:k])
	return buf[start:]
}

// encoded is one input element as parts, its bytes one after the other: a
// row-format element is one part; an Arrow element refers to the
// buffers of the columns it was written from, with the IPC stream's headers
// between them, and is sent so (fnapi.Bundle.SendParts), without being
// joined. What an element refers to is kept by its bundle (bundle.keep)
// until the bundle's results are complete, so that a replay sends the same
// bytes.
type encoded [][]byte

// size is the element's length in bytes.
func (e encoded) size() int {
	n := 0
	for _, p := range e {
		n += len(p)
	}
	return n
}

// bytes is the element in one buffer: its only part, or a copy of the parts
// joined (for the crash search, which reads elements back).
func (e encoded) bytes() []byte {
	if len(e) == 1 {
		return e[0]
	}
	return bytes.Join(e, nil)
}

// splitChunks parses a bundle's output, which arrives in chunks, into the
// value of each element. An element split across chunks is copied once into
// a buffer of its size; others are not copied.
func splitChunks(chunks [][]byte) ([][]byte, error) {
	var out [][]byte
	var open []byte // an element begun in an earlier chunk
	left := 0       // bytes in the chunks not yet read
	for _, c := range chunks {
		left += len(c)
	}
	// truncated is the error of an element longer than what is left: its
	// stated length is not trusted with an allocation.
	truncated := func(n int) error {
		if _, err := splitElements(open); err != nil {
			return err
		}
		return fmt.Errorf("pyexec: output ends inside an element (%d of its %d bytes)", len(open)+left, n)
	}
	for _, c := range chunks {
		left -= len(c)
		if len(open) > 0 {
			n := elementSize(open)
			if n == 0 {
				// Its header is cut too: join enough of it to read it.
				had := len(open)
				open = append(open, c[:min(len(c), maxHeader)]...)
				if n = elementSize(open); n == 0 {
					if len(open) >= maxHeader {
						return nil, headerError(open)
					}
					continue
				}
				// Keep only what the element needs; the rest is read below.
				open = open[:min(n, len(open))]
				c = c[len(open)-had:]
			}
			if len(open) < n {
				if n > len(open)+len(c)+left {
					return nil, truncated(n)
				}
				if cap(open) < n {
					open = append(make([]byte, 0, n), open...)
				}
				k := min(n-len(open), len(c))
				open = append(open, c[:k]...)
				c = c[k:]
				if len(open) < n {
					continue
				}
			}
			vs, err := splitElements(open[:n])
			if err != nil {
				return nil, err
			}
			out = append(out, vs...)
			open = nil
		}
		values, rest := parseElements(c)
		out = append(out, values...)
		if len(rest) > 0 {
			// Room for the whole element, if what is left can hold it.
			open = append(make([]byte, 0, max(min(elementSize(rest), len(rest)+left), len(rest))), rest...)
		}
	}
	if len(open) > 0 {
		_, err := splitElements(open)
		if err == nil {
			err = errors.New("pyexec: output ends inside an element")
		}
		return nil, err
	}
	return out, nil
}

// maxHeader bounds an element's header: timestamp, window count, pane byte,
// two pane indexes and the value's length.
const maxHeader = 13 + 3*binary.MaxVarintLen64

func headerError(data []byte) error {
	if _, err := splitElements(data); err != nil {
		return err
	}
	return errors.New("pyexec: bad element header from worker")
}

// parseElements parses the complete elements at the start of data and
// returns their values and the unparsed rest.
func parseElements(data []byte) (values [][]byte, rest []byte) {
	for len(data) > 0 {
		n := elementSize(data)
		if n == 0 || n > len(data) {
			return values, data
		}
		vs, err := splitElements(data[:n])
		if err != nil || len(vs) != 1 {
			return values, data
		}
		values = append(values, vs[0])
		data = data[n:]
	}
	return values, nil
}

// elementSize returns the size of the element that starts data, header
// included, once its header is in data; 0 while it is not, or when it is
// malformed (which splitElements then reports).
func elementSize(data []byte) int {
	if len(data) < 13 {
		return 0
	}
	i := 13
	for k := 0; k < int(data[12]>>4); k++ {
		_, n := binary.Uvarint(data[i:])
		if n <= 0 {
			return 0
		}
		i += n
	}
	v, n := binary.Uvarint(data[i:])
	if n <= 0 || v > 1<<40 {
		return 0
	}
	return i + n + int(v)
}

// continued is the first byte of every part of an input element's results
// but the last, when the worker sent them in several output elements
// (python/weir/_limits.py). No batch of rows starts with it: a batch starts
// with the varint length of a row, which is at least 1.
const continued = 0x00

// groupParts groups the output values of a bundle into the results of each
// input element: the parts that start with the continuation byte (which is
// dropped) and the final part after them.
func groupParts(values [][]byte) ([][][]byte, error) {
	var out [][][]byte
	var cur [][]byte
	for _, v := range values {
		if len(v) > 0 && v[0] == continued {
			cur = append(cur, v[1:])
			continue
		}
		out = append(out, append(cur, v))
		cur = nil
	}
	if cur != nil {
		return nil, fmt.Errorf("pyexec: the worker's output ends inside the results of an input element (%d parts without the last)", len(cur))
	}
	return out, nil
}

// splitElements parses the concatenated elements of a bundle's output and
// returns the value of each.
func splitElements(data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 13 {
			return nil, errors.New("pyexec: truncated element header from worker")
		}
		if binary.BigEndian.Uint32(data[8:12]) != 1 {
			return nil, fmt.Errorf("pyexec: element in %d windows, want the global window", binary.BigEndian.Uint32(data[8:12]))
		}
		pane := data[12]
		data = data[13:]
		// Pane encodings other than "first" carry one or two varint indexes.
		for i := 0; i < int(pane>>4); i++ {
			_, k := binary.Uvarint(data)
			if k <= 0 {
				return nil, errors.New("pyexec: bad pane index in element from worker")
			}
			data = data[k:]
		}
		n, k := binary.Uvarint(data)
		if k <= 0 || n > uint64(len(data)-k) {
			return nil, errors.New("pyexec: bad element length from worker")
		}
		out = append(out, data[k:k+int(n)])
		data = data[k+int(n):]
	}
	return out, nil
}
