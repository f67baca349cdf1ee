package job

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/config"
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

// TestSettingsDefaults: a job with no options gets the option table's
// defaults, not zero values left for pyexec to fill.
func TestSettingsDefaults(t *testing.T) {
	s, err := ParseSettings(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := config.Default()
	want := Settings{Parallelism: 1, Python: d.Python(), BundleRows: 1000000, BundleTime: time.Second, BatchRows: 1000000,
		InFlight: 2, MaxAttempts: 3, StartupTimeout: time.Minute, ProgressTimeout: 5 * time.Minute,
		ManagedMemory: d.ManagedBytes()}
	if want.ManagedMemory <= 0 {
		t.Fatalf("the default managed memory is %d bytes; want a quarter of the machine's", want.ManagedMemory)
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("ParseSettings(nil) = %+v, want %+v", s, want)
	}
}
