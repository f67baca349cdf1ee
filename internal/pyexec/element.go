package pyexec

import (
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
	n := len(buf) - elementReserve
	var v [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(v[:], uint64(n))
	start := elementReserve - k - len(elementHeader)
	copy(buf[start:], elementHeader[:])
	copy(buf[start+len(elementHeader):], v[:k])
	return buf[start:]
}

// splitChunks parses a bundle's output, which arrives in chunks, into the
// value of each element. An element split across chunks is joined; others
// are not copied.
func splitChunks(chunks [][]byte) ([][]byte, error) {
	var out [][]byte
	var carry []byte
	for _, c := range chunks {
		data := c
		if len(carry) > 0 {
			data = append(carry, c...)
		}
		values, rest := parseElements(data)
		out = append(out, values...)
		carry = append([]byte(nil), rest...)
	}
	if len(carry) > 0 {
		_, err := splitElements(carry)
		if err == nil {
			err = errors.New("pyexec: output ends inside an element")
		}
		return nil, err
	}
	return out, nil
}

// parseElements parses the complete elements at the start of data and
// returns their values and the unparsed rest.
func parseElements(data []byte) (values [][]byte, rest []byte) {
	for len(data) > 0 {
		vs, err := splitElements(firstElement(data))
		if err != nil || len(vs) != 1 {
			return values, data
		}
		n := len(firstElement(data))
		values = append(values, vs[0])
		data = data[n:]
	}
	return values, nil
}

// firstElement returns the bytes of the first element of data, or all of
// data when it holds no complete element.
func firstElement(data []byte) []byte {
	if len(data) < 13 {
		return data
	}
	i := 13
	for k := 0; k < int(data[12]>>4); k++ {
		_, n := binary.Uvarint(data[i:])
		if n <= 0 {
			return data
		}
		i += n
	}
	v, n := binary.Uvarint(data[i:])
	if n <= 0 || v > uint64(len(data)-i-n) {
		return data
	}
	return data[:i+n+int(v)]
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
