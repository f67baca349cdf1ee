package job

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSettings(t *testing.T) {
	s, err := ParseSettings(map[string]string{
		"parallelism.default":                         "2",
		"python.fn-execution.bundle.time":             "1 s",
		"python.fn-execution.bundle.progress-timeout": "250",
		"python.files":                                "a.py, dir ,b.zip",
		"python.fn-execution.arrow.batch.size":        "500000",
		"python.fn-execution.bundle.size":             "1000",
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Parallelism != 2 || s.BundleTime != time.Second || s.ProgressTimeout != 250*time.Millisecond {
		t.Errorf("ParseSettings = %+v", s)
	}
	if !reflect.DeepEqual(s.PyFiles, []string{"a.py", "dir", "b.zip"}) {
		t.Errorf("PyFiles = %q", s.PyFiles)
	}
	if s.BatchRows != 1000 {
		t.Errorf("a batch larger than a bundle: BatchRows = %d, want the bundle size 1000", s.BatchRows)
	}
	for key, bad := range map[string]string{
		"parallelism.default":             "0",
		"python.fn-execution.bundle.size": "many",
		"python.fn-execution.bundle.time": "soon",
	} {
		_, err := ParseSettings(map[string]string{key: bad})
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s = %q: error %v, want one naming the option", key, bad, err)
		}
	}
}

func TestUnusedOptions(t *testing.T) {
	got := UnusedOptions(map[string]string{"parallelism.default": "1", "paralelism.default": "2", "table.exec.x": "y"})
	want := []string{
		"option 'paralelism.default' is not used by weir (did you mean 'parallelism.default'?)",
		"option 'table.exec.x' is not used by weir",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UnusedOptions = %q, want %q", got, want)
	}
}
