package pyexec

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestElementGolden pins the windowed-value framing of one element: the
// Beam Python harness decodes exactly these bytes.
func TestElementGolden(t *testing.T) {
	buf := make([]byte, elementReserve, elementReserve+3)
	buf = append(buf, 0xaa, 0xbb, 0xcc)
	got := hex.EncodeToString(wrapElement(buf))
	// timestamp, 1 window (global: no bytes), pane NO_FIRING, varint 3, value
	want := "8000000000000000" + "00000001" + "0f" + "03" + "aabbcc"
	if got != want {
		t.Errorf("wrapElement = %s, want %s", got, want)
	}
}

func TestElementsRoundTrip(t *testing.T) {
	var all []byte
	var values [][]byte
	for _, n := range []int{0, 1, 127, 128, 300, 70000} {
		v := bytes.Repeat([]byte{byte(n)}, n)
		values = append(values, v)
		buf := append(make([]byte, elementReserve), v...)
		all = append(all, wrapElement(buf)...)
	}
	got, err := splitElements(all)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(values) {
		t.Fatalf("splitElements gave %d values, want %d", len(got), len(values))
	}
	for i := range values {
		if !bytes.Equal(got[i], values[i]) {
			t.Errorf("value %d differs", i)
		}
	}
	// Pane infos with indexes, as a harness may send them.
	withIndex := []byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x21, 5, 9, 2, 'h', 'i'}
	got, err = splitElements(withIndex)
	if err != nil || len(got) != 1 || string(got[0]) != "hi" {
		t.Errorf("splitElements(pane with indexes) = %q, %v", got, err)
	}
}

func TestSplitElementsRejects(t *testing.T) {
	for name, data := range map[string][]byte{
		"short header":    {0x80, 0, 0},
		"two windows":     {0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x0f, 0},
		"length too long": {0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x0f, 9, 1},
		"bad varint":      {0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x0f, 0xff},
	} {
		if _, err := splitElements(data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzSplitElements: whatever a worker sends, parsing never panics, and
// valid framing round-trips.
func FuzzSplitElements(f *testing.F) {
	f.Add([]byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x0f, 2, 'h', 'i'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		values, err := splitElements(data)
		if err != nil {
			return
		}
		var again []byte
		for _, v := range values {
			again = append(again, wrapElement(append(make([]byte, elementReserve), v...))...)
		}
		back, err := splitElements(again)
		if err != nil || len(back) != len(values) {
			t.Fatalf("re-split of %d values: %d, %v", len(values), len(back), err)
		}
		for i := range values {
			if !bytes.Equal(back[i], values[i]) {
				t.Fatalf("value %d changed", i)
			}
		}
	})
}

// TestSplitChunks: the same elements come out however the output is cut
// into chunks, and a cut mid-element at the end is an error.
func TestSplitChunks(t *testing.T) {
	var all []byte
	var want [][]byte
	for _, n := range []int{3, 0, 200, 1} {
		v := bytes.Repeat([]byte{byte(n + 1)}, n)
		want = append(want, v)
		all = append(all, wrapElement(append(make([]byte, elementReserve), v...))...)
	}
	for cut1 := 0; cut1 <= len(all); cut1 += 7 {
		for cut2 := cut1; cut2 <= len(all); cut2 += 13 {
			got, err := splitChunks([][]byte{all[:cut1], all[cut1:cut2], all[cut2:]})
			if err != nil {
				t.Fatalf("cuts %d,%d: %v", cut1, cut2, err)
			}
			if len(got) != len(want) {
				t.Fatalf("cuts %d,%d: %d values, want %d", cut1, cut2, len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("cuts %d,%d: value %d differs", cut1, cut2, i)
				}
			}
		}
	}
	if _, err := splitChunks([][]byte{all[:len(all)-1]}); err == nil {
		t.Error("truncated output: no error")
	}
}
