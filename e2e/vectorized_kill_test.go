package e2e

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const vincUDF = `from weir import udf, DataTypes


@udf(result_type=DataTypes.INT(False), func_type="pandas")
def inc(x):
    return x + 1
`

// TestVectorizedWorkerKills SIGKILLs workers at random moments while a
// pandas function runs over 3,000,000 rows in bundles of several Arrow
// batches; the replayed bundles must give exactly the output of a run
// without faults (each row once, in order, its input forwarded beside it).
func TestVectorizedWorkerKills(t *testing.T) {
	const rows = 3_000_000
	// On a loaded machine a bundle can outlast several kills, so the
	// kills are bounded and every bundle may be tried after each of them
	// (twice per kill: a replay can land on a worker killed in the same
	// instant whose death is not yet seen). The default of 3 attempts made
	// 2 of 6 runs fail at load ~20.
	const maxKills = 8
	job := strings.Replace(fmt.Sprintf(sequenceJob, rows-1, 300_000), "SET 'python.fn-execution.bundle.size' = '50000';",
		"SET 'python.fn-execution.bundle.size' = '50000';\nSET 'python.fn-execution.arrow.batch.size' = '7000';", 1)
	j := startJob(t, job, map[string]string{"udfs.py": vincUDF}, "-D", "parallelism.default=2",
		"-D", fmt.Sprintf("python.fn-execution.max-attempts=%d", 2*maxKills+1))
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	kills := 0
	deadline := time.After(4 * time.Minute)
loop:
	for {
		select {
		case err := <-j.done:
			if err != nil {
				t.Fatalf("job failed after %d kills (seed %d): %v\n%s", kills, seed, err, j.stderr)
			}
			break loop
		case <-deadline:
			t.Fatal("job did not finish in 4 minutes")
		case <-time.After(time.Duration(600+rng.Intn(900)) * time.Millisecond):
			ws := upWorkersOf(j.cmd.Process.Pid)
			if len(ws) == 0 || kills == maxKills {
				continue
			}
			if err := syscall.Kill(ws[rng.Intn(len(ws))], syscall.SIGKILL); err == nil {
				kills++
			}
		}
	}
	if kills < 3 {
		t.Fatalf("only %d kills happened before the job ended; want at least 3", kills)
	}
	t.Logf("survived %d worker kills (seed %d)", kills, seed)
	checkSequenceCSV(t, onePart(t, filepath.Join(j.dir, "out.csv")), rows)
}
