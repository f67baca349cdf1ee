package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"kitten", "sitting", 3}, {"FORM", "FROM", 1}, {"select", "SELECT", 0},
		{"INTT", "INT", 1}, {"fields.c0.mxa", "fields.c0.max", 1}, {"é", "e", 1},
	} {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	names := []string{"number-of-rows", "rows-per-second", "connector"}
	for _, tt := range []struct {
		word string
		max  int
		want string
	}{
		{"number-of-row", 2, "number-of-rows"},
		{"conector", 1, "connector"},
		{"connector", 2, ""}, // an exact name needs no suggestion
		{"zzz", 2, ""},
	} {
		if got := Closest(tt.word, names, tt.max); got != tt.want {
			t.Errorf("Closest(%q, %d) = %q, want %q", tt.word, tt.max, got, tt.want)
		}
	}
}
