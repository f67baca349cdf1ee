package coder

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// u128 is an unsigned 128-bit magnitude.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

// mulAdd returns a*10 + d; the caller keeps the result below 2^128.
func (a u128) mulAdd(d uint64) u128 {
	h, l := bits.Mul64(a.lo, 10)
	l, c := bits.Add64(l, d, 0)
	return u128{a.hi*10 + h + c, l}
}

// pow10 holds 10^0 .. 10^38.
var pow10 = func() (p [39]u128) {
	p[0] = u128{0, 1}
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1].mulAdd(0)
	}
	return p
}()

// magnitude returns |n| (2^127 for the smallest Num) and whether n is negative.
func magnitude(n decimal128.Num) (m u128, neg bool) {
	hi, lo := uint64(n.HighBits()), n.LowBits()
	if int64(hi) >= 0 {
		return u128{hi, lo}, false
	}
	lo, c := bits.Add64(^lo, 1, 0)
	return u128{^hi + c, lo}, true
}

func fromMagnitude(m u128, neg bool) decimal128.Num {
	if neg {
		lo, c := bits.Add64(^m.lo, 1, 0)
		return decimal128.New(int64(^m.hi+c), lo)
	}
	return decimal128.New(int64(m.hi), m.lo)
}

// appendDecimalText appends n, a decimal of the given scale, in plain
// notation with exactly scale fraction digits; it fails when n needs more
// than prec digits.
func appendDecimalText(dst []byte, n decimal128.Num, prec, scale int) ([]byte, error) {
	m, neg := magnitude(n)
	if !m.less(pow10[prec]) {
		return dst, fmt.Errorf("decimal %s does not fit DECIMAL(%d, %d)", n.BigInt().String(), prec, scale)
	}
	var buf [40]byte
	digits := buf[:0]
	if m.hi == 0 {
		digits = strconv.AppendUint(digits, m.lo, 10)
	} else {
		// m < 10^38, so m.hi < 2^63 < 10^19 and the quotient fits 64 bits.
		q, r := bits.Div64(m.hi, m.lo, 1e19)
		digits = strconv.AppendUint(digits, q, 10)
		var low [19]byte
		for i := 18; i >= 0; i-- {
			low[i] = byte('0' + r%10)
			r /= 10
		}
		digits = append(digits, low[:]...)
	}
	if neg {
		dst = append(dst, '-')
	}
	if scale == 0 {
		return append(dst, digits...), nil
	}
	if len(digits) <= scale {
		dst = append(dst, '0', '.')
		for i := len(digits); i < scale; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...), nil
	}
	k := len(digits) - scale
	dst = append(dst, digits[:k]...)
	dst = append(dst, '.')
	return append(dst, digits[k:]...), nil
}

// appendDecimal appends n as an int32 length and its text.
func appendDecimal(dst []byte, n decimal128.Num, prec, scale int) ([]byte, error) {
	at := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst, err := appendDecimalText(dst, n, prec, scale)
	if err != nil {
		return dst[:at], err
	}
	binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	return dst, nil
}

func quote(b []byte) string {
	const max = 48
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..."
	}
	return strconv.Quote(string(b))
}

func isDigit(c byte) bool { return c-'0' < 10 }

// parseDecimal parses decimal text (an optional sign, digits with an optional
// point, an optional exponent), rounds it half-up (away from zero) to scale
// and checks that the result has at most prec digits.
func parseDecimal(b []byte, prec, scale int) (decimal128.Num, error) {
	i := 0
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	intStart := i
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	intEnd := i
	fracStart, fracEnd := i, i
	if i < len(b) && b[i] == '.' {
		i++
		fracStart = i
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		fracEnd = i
	}
	nInt, nFrac := intEnd-intStart, fracEnd-fracStart
	if nInt+nFrac == 0 {
		return decimal128.Num{}, fmt.Errorf("invalid decimal text %s", quote(b))
	}
	var exp int64
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		if i == len(b) || !isDigit(b[i]) {
			return decimal128.Num{}, fmt.Errorf("invalid decimal text %s", quote(b))
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
			if exp < 1e12 { // beyond this the value is zero or overflows anyway
				exp = exp*10 + int64(b[i]-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(b) {
		return decimal128.Num{}, fmt.Errorf("invalid decimal text %s", quote(b))
	}
	digit := func(k int) byte {
		if k < nInt {
			return b[intStart+k]
		}
		return b[fracStart+k-nInt]
	}
	total := nInt + nFrac
	first := 0
	for first < total && digit(first) == '0' {
		first++
	}
	nd := int64(total - first)
	if nd == 0 {
		return decimal128.Num{}, nil
	}
	shift := exp - int64(nFrac) + int64(scale) // value * 10^scale = D * 10^shift
	overflow := func() error {
		return fmt.Errorf("decimal %s does not fit DECIMAL(%d, %d)", quote(b), prec, scale)
	}
	var m u128
	if shift >= 0 {
		if nd+shift > int64(prec) {
			return decimal128.Num{}, overflow()
		}
		for k := first; k < total; k++ {
			m = m.mulAdd(uint64(digit(k) - '0'))
		}
		for ; shift > 0; shift-- {
			m = m.mulAdd(0)
		}
		return fromMagnitude(m, neg), nil
	}
	keep := nd + shift
	if keep > int64(prec) {
		return decimal128.Num{}, overflow()
	}
	up := false
	if keep >= 0 {
		for k := first; k < first+int(keep); k++ {
			m = m.mulAdd(uint64(digit(k) - '0'))
		}
		up = digit(first+int(keep)) >= '5'
	}
	if up {
		var c uint64
		m.lo, c = bits.Add64(m.lo, 1, 0)
		m.hi += c
		if !m.less(pow10[prec]) {
			return decimal128.Num{}, overflow()
		}
	}
	if m == (u128{}) {
		neg = false
	}
	return fromMagnitude(m, neg), nil
}
