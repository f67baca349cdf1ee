package config

import "testing"

// FuzzParseDuration: no input panics, and a parsed duration spelled by
// FormatDuration parses back to itself.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"5 min", "300s", "1000", "PT1H30M", "PT0.5S", "1 µs", "99999999999999999999", "P", "1 mins"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
		back, err := ParseDuration(FormatDuration(d))
		if err != nil || back != d {
			t.Fatalf("ParseDuration(FormatDuration(%v) = %q) = %v, %v", d, FormatDuration(d), back, err)
		}
	})
}

// FuzzParseMemorySize: no input panics, and sizes are not negative.
func FuzzParseMemorySize(f *testing.F) {
	for _, s := range []string{"64 mb", "1", "1tb", "9999999 tb", "1 x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ParseMemorySize(s); err == nil && n < 0 {
			t.Fatalf("ParseMemorySize(%q) = %d, negative", s, n)
		}
	})
}
