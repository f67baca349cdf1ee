package coder

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// crossScript decodes each batch with weir's Python coder and encodes the
// values again; it prints the coder in use, then one hex line per batch.
const crossScript = `
import json, sys
from weir.coder import RowDecoder, RowEncoder, IMPLEMENTATION
from weir.types import parse_type
print(IMPLEMENTATION)
for line in sys.stdin:
    case = json.loads(line)
    ts = [parse_type(t) for t in case["types"]]
    rows = RowDecoder(ts).decode(bytes.fromhex(case["hex"]))
    print(RowEncoder(ts).encode(rows).hex())
`

// pythonExact reports whether Python's values hold every value of t
// exactly: its datetimes stop at microseconds. (The untyped NULL type never
// reaches Python: the planner sends NULL constants as a nullable STRING.)
func pythonExact(t types.T) bool {
	switch t.Kind {
	case types.Null:
		return false
	case types.Timestamp, types.TimestampLTZ:
		return t.Precision <= 6
	case types.Array:
		return pythonExact(*t.Elem)
	case types.Map:
		return pythonExact(*t.Key) && pythonExact(*t.Value)
	case types.Row:
		for _, f := range t.Fields {
			if !pythonExact(f.Type) {
				return false
			}
		}
	}
	return true
}

// Python's dates and datetimes span the years 1 to 9999.
var (
	minPythonTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxPythonTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

// inPythonRange reports whether every date and timestamp in row fits
// Python's datetime, no map repeats a key and no FLOAT is a signaling NaN.
func inPythonRange(ts []types.T, row []any) bool {
	for i, t := range ts {
		if !valueInPythonRange(t, row[i]) {
			return false
		}
	}
	return true
}

func valueInPythonRange(t types.T, v any) bool {
	if v == nil {
		return true
	}
	switch t.Kind {
	case types.Float:
		// Python widens FLOAT to a double, which quiets a signaling NaN.
		bits := math.Float32bits(v.(float32))
		return bits&0x7f800000 != 0x7f800000 || bits&0x007fffff == 0 || bits&0x00400000 != 0
	case types.Date:
		d := v.(arrow.Date32).ToTime()
		return !d.Before(minPythonTime) && !d.After(maxPythonTime)
	case types.Timestamp, types.TimestampLTZ:
		ts := v.(arrow.Timestamp).ToTime(types.TimestampUnit(t.Precision))
		return !ts.Before(minPythonTime) && !ts.After(maxPythonTime)
	case types.Array:
		for _, x := range v.([]any) {
			if !valueInPythonRange(*t.Elem, x) {
				return false
			}
		}
	case types.Map:
		// A Python dict holds each key once, as SQL maps do.
		seen := map[string]bool{}
		for _, kv := range v.([][2]any) {
			k := fmt.Sprintf("%#v", kv[0])
			switch x := kv[0].(type) { // Python: -0.0 == 0.0
			case float64:
				if x == 0 {
					k = "zero"
				}
			case float32:
				if x == 0 {
					k = "zero"
				}
			}
			if seen[k] || !valueInPythonRange(*t.Key, kv[0]) || !valueInPythonRange(*t.Value, kv[1]) {
				return false
			}
			seen[k] = true
		}
	case types.Row:
		for i, f := range t.Fields {
			if !valueInPythonRange(f.Type, v.([]any)[i]) {
				return false
			}
		}
	}
	return true
}

// TestCrossLanguageRoundTrip: random schemas and values, Go encode ->
// Python decode -> Python encode -> Go decode, with both Python coders; the
// bytes come back identical and decode to the input.
func TestCrossLanguageRoundTrip(t *testing.T) {
	python := os.Getenv("WEIR_PYTHON")
	if python == "" {
		t.Skip("WEIR_PYTHON is not set: run through 'make test', which installs weir into .venv")
	}
	r := rand.New(rand.NewPCG(7, 11))
	var schemas [][]types.T
	var batches [][]byte
	var input strings.Builder
	for len(schemas) < 300 {
		ts := randSchema(r, 2)
		exact := true
		for _, t := range ts {
			exact = exact && pythonExact(t)
		}
		if !exact {
			continue
		}
		var data []byte
		var err error
		n := 0
		for _, row := range randBatch(r, ts, 1+r.IntN(30)) {
			if !inPythonRange(ts, row) {
				continue
			}
			if data, err = EncodeValues(data, ts, row); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n == 0 {
			continue
		}
		names := make([]string, len(ts))
		for i, t := range ts {
			names[i] = t.String()
		}
		line, _ := json.Marshal(map[string]any{"types": names, "hex": hex.EncodeToString(data)})
		input.Write(line)
		input.WriteByte('\n')
		schemas = append(schemas, ts)
		batches = append(batches, data)
	}
	for _, impl := range []string{"fast", "slow"} {
		t.Run(impl, func(t *testing.T) {
			cmd := exec.Command(python, "-c", crossScript)
			cmd.Env = append(os.Environ(), "WEIR_CYTHON="+map[string]string{"fast": "1", "slow": "0"}[impl])
			cmd.Stdin = strings.NewReader(input.String())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("python: %v\n%s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if lines[0] != impl {
				t.Fatalf("Python used the %s coder, want %s", lines[0], impl)
			}
			lines = lines[1:]
			if len(lines) != len(batches) {
				t.Fatalf("python answered %d batches, want %d", len(lines), len(batches))
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			for i, l := range lines {
				back, err := hex.DecodeString(l)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(back, batches[i]) {
					t.Fatalf("types %v: Python re-encoded\n%x\nGo encoded\n%x", schemas[i], back, batches[i])
				}
				dec := NewDecoder(mem, schemas[i])
				if _, err := dec.Decode(back); err != nil {
					t.Fatalf("types %v: Go cannot decode Python's bytes: %v", schemas[i], err)
				}
				for _, a := range dec.NewArrays() {
					a.Release()
				}
				dec.Release()
			}
		})
	}
}
