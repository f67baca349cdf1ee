package exec

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"unicode/utf16"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/expr"
)

// Hash functions: the lower-case hex digest of a string's UTF-8 bytes (or of
// a binary string's bytes), NULL for NULL.

func init() {
	register("MD5", 1, 1, hashKernel)
	register("SHA1", 1, 1, hashKernel)
	register("SHA224", 1, 1, hashKernel)
	register("SHA256", 1, 1, hashKernel)
	register("SHA384", 1, 1, hashKernel)
	register("SHA512", 1, 1, hashKernel)
	register("SHA2", 2, 2, hashKernel)
	register("HASH_CODE", 1, 1, hashCodeKernel)
}

// hashCodeKernel is HASH_CODE(s) of a string: Java's String.hashCode, over
// the string's UTF-16 code units.
func hashCodeKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	s, err := strArgOf(ops[0], "the input")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	return ev.mapInt32(c, n, func(i int) (int32, bool, error) {
		v, ok := s.at(i)
		if !ok {
			return 0, false, nil
		}
		var h int32
		for _, r := range v {
			if r >= 0x10000 {
				hi, lo := utf16.EncodeRune(r)
				h = 31*h + int32(hi)
				h = 31*h + int32(lo)
				continue
			}
			h = 31*h + int32(r)
		}
		return h, true, nil
	})
}

// newHash returns the hash of a function name, or of SHA2's bit length.
func newHash(name string, bits int64) hash.Hash {
	switch {
	case name == "MD5":
		return md5.New()
	case name == "SHA1" || name == "SHA2" && bits == 1:
		return sha1.New()
	case name == "SHA224" || name == "SHA2" && bits == 224:
		return sha256.New224()
	case name == "SHA256" || name == "SHA2" && bits == 256:
		return sha256.New()
	case name == "SHA384" || name == "SHA2" && bits == 384:
		return sha512.New384()
	case name == "SHA512" || name == "SHA2" && bits == 512:
		return sha512.New()
	}
	return nil
}

// hashKernel evaluates MD5, SHA1, SHA224, SHA256, SHA384, SHA512 and
// SHA2(s, bits), where bits is 224, 256, 384 or 512 (or 1, SHA-1, as in
// Flink, which names the algorithm "SHA-" + bits); other bit lengths fail.
func hashKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	var input strArg
	var bin binArg
	binary := ops[0].t.IsBinary()
	var err error
	if binary {
		bin, err = binArgOf(ops[0])
	} else {
		input, err = strArgOf(ops[0], "the input")
	}
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	bits := intArg{const_: true}
	if c.Name == "SHA2" {
		if bits, err = intArgOf(ops[1], "the bit length"); err != nil {
			return nil, fmt.Errorf("exec: %s: %w", c, err)
		}
	}
	hashes := map[int64]hash.Hash{}
	var sum, digest []byte
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		var data []byte
		if binary {
			v, ok := bin.at(i)
			if !ok {
				return "", false, nil
			}
			data = v
		} else {
			v, ok := input.at(i)
			if !ok {
				return "", false, nil
			}
			data = append(data[:0], v...)
		}
		b, ok := bits.at(i)
		if !ok {
			return "", false, nil
		}
		h := hashes[b]
		if h == nil {
			if h = newHash(c.Name, b); h == nil {
				return "", false, fmt.Errorf("SHA2 has no %d-bit variant; use 224, 256, 384 or 512", b)
			}
			hashes[b] = h
		}
		h.Reset()
		h.Write(data)
		sum = h.Sum(sum[:0])
		digest = hex.AppendEncode(digest[:0], sum)
		return string(digest), true, nil
	})
}
