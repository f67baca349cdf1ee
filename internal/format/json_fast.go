package format

import (
	"encoding/json"
	"unicode/utf8"
)

// This file holds the json decoder's fast path: a scanner of flat JSON
// objects that finds each member's raw value without building a map. It
// reads only what it is sure of: plain keys (no escapes), scalar values
// (strings, numbers, true, false, null), strict JSON syntax. Anything else
// (nested values, escaped keys, any syntax error) makes it give up, and the
// simple path (encoding/json) decides, so both give the same rows and
// errors; FuzzJSONFastSlow checks that.

// scanFlat scans rec as a flat JSON object, setting raw[j] to the value of
// the member named as column j (nil when absent). ok is false when the
// record must go to the simple path.
func (d *jsonDecoder) scanFlat(rec []byte, raw []json.RawMessage) (ok bool) {
	for j := range raw {
		raw[j] = nil
	}
	i := skipSpace(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		return false
	}
	i = skipSpace(rec, i+1)
	if i < len(rec) && rec[i] == '}' {
		return skipSpace(rec, i+1) == len(rec)
	}
	for {
		// A key: a string without escapes.
		if i >= len(rec) || rec[i] != '"' {
			return false
		}
		start := i + 1
		i = start
		for i < len(rec) && rec[i] != '"' {
			if rec[i] == '\\' || rec[i] < 0x20 {
				return false
			}
			i++
		}
		if i >= len(rec) {
			return false
		}
		key := rec[start:i]
		if !utf8.Valid(key) {
			return false
		}
		i = skipSpace(rec, i+1)
		if i >= len(rec) || rec[i] != ':' {
			return false
		}
		i = skipSpace(rec, i+1)
		end := scanScalar(rec, i)
		if end < 0 {
			return false
		}
		if j, found := d.c.index[string(key)]; found {
			raw[j] = rec[i:end:end]
		}
		i = skipSpace(rec, end)
		if i >= len(rec) {
			return false
		}
		switch rec[i] {
		case ',':
			i = skipSpace(rec, i+1)
		case '}':
			return skipSpace(rec, i+1) == len(rec)
		default:
			return false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanScalar returns the end of the scalar JSON value at b[i:], or -1 when
// there is none (or it is an object or array).
func scanScalar(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		i++
		for i < len(b) {
			switch c := b[i]; {
			case c == '"':
				return i + 1
			case c < 0x20:
				return -1
			case c == '\\':
				if i+1 >= len(b) {
					return -1
				}
				switch b[i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					i += 2
				case 'u':
					if i+6 > len(b) {
						return -1
					}
					for _, h := range b[i+2 : i+6] {
						if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
							return -1
						}
					}
					i += 6
				default:
					return -1
				}
			default:
				i++
			}
		}
		return -1
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return scanNumber(b, i)
	}
	return -1
}

func literal(b []byte, i int, word string) int {
	if len(b)-i >= len(word) && string(b[i:i+len(word)]) == word {
		return i + len(word)
	}
	return -1
}

// scanNumber scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func scanNumber(b []byte, i int) int {
	digits := func() bool {
		s := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > s
	}
	if b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if !digits() {
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return -1
		}
	}
	return i
}

// jsonString returns the text of a JSON string value: its bytes when it
// has no escapes and is valid UTF-8, else what encoding/json makes of it.
func jsonString(raw []byte) (string, error) {
	body := raw[1 : len(raw)-1]
	plain := utf8.Valid(body)
	for _, c := range body {
		if c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return string(body), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}
