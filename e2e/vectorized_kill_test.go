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
	j := startVectorizedSequence(t, vincUDF, rows, 50_000, 7_000, maxKills)
	kills := killWorkers(t, j, maxKills, 4*time.Minute, 600*time.Millisecond, 1500*time.Millisecond)
	if kills < 3 {
		t.Fatalf("only %d kills happened before the job ended; want at least 3", kills)
	}
	checkSequenceCSV(t, onePart(t, filepath.Join(j.dir, "out.csv")), rows)
}

// startVectorizedSequence starts sequenceJob over rows rows at 300,000 a
// second with udfs.inc from udfs, bundles and Arrow batches of the given
// rows, on two workers, every bundle allowed two tries per kill.
func startVectorizedSequence(t *testing.T, udfs string, rows, bundle, batch, maxKills int) *started {
	t.Helper()
	job := strings.Replace(fmt.Sprintf(sequenceJob, rows-1, 300_000), "SET 'python.fn-execution.bundle.size' = '50000';",
		fmt.Sprintf("SET 'python.fn-execution.bundle.size' = '%d';\nSET 'python.fn-execution.arrow.batch.size' = '%d';", bundle, batch), 1)
	return startJob(t, job, map[string]string{"udfs.py": udfs}, "-D", "parallelism.default=2",
		"-D", fmt.Sprintf("python.fn-execution.max-attempts=%d", 2*maxKills+1))
}

// killWorkers SIGKILLs a random live worker of job j every gap in [from,
// to), at most maxKills times, until the job ends (which must be within
// limit, and a success); it returns the kills made.
func killWorkers(t *testing.T, j *started, maxKills int, limit, from, to time.Duration) int {
	t.Helper()
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	kills := 0
	deadline := time.After(limit)
	for {
		select {
		case err := <-j.done:
			if err != nil {
				t.Fatalf("job failed after %d kills (seed %d): %v\n%s", kills, seed, err, j.stderr)
			}
			t.Logf("survived %d worker kills (seed %d)", kills, seed)
			return kills
		case <-deadline:
			t.Fatalf("job did not finish in %s", limit)
		case <-time.After(from + time.Duration(rng.Int63n(int64(to-from)))):
			ws := upWorkersOf(j.cmd.Process.Pid)
			if len(ws) == 0 || kills == maxKills {
				continue
			}
			if err := syscall.Kill(ws[rng.Intn(len(ws))], syscall.SIGKILL); err == nil {
				kills++
			}
		}
	}
}

const keepingUDF = `import numpy as np
from weir import udf, DataTypes

kept = []


@udf(result_type=DataTypes.INT(False), func_type="pandas")
def inc(x):
    # Keeps a few of its batches and checks them at every call: they are
    # views of shared memory that must not be reused while kept.
    for series, values in kept:
        if not np.array_equal(series.to_numpy(), values):
            raise AssertionError("a batch kept at an earlier call changed")
    if len(kept) < 4 and len(x) > 0:
        kept.append((x, x.to_numpy().copy()))
    return x + 1
`

// TestVectorizedKeptInputKills: workers whose function keeps its input
// batches (views of the shared memory) are SIGKILLed at random moments; the
// replayed bundles give exactly the output of a run without faults, and no
// kept batch changes under any worker (a bundle whose input a live worker
// kept is never reused; a dead worker's kept batches die with it).
func TestVectorizedKeptInputKills(t *testing.T) {
	const rows = 1_000_000
	const maxKills = 3
	j := startVectorizedSequence(t, keepingUDF, rows, 20_000, 3_000, maxKills)
	if killWorkers(t, j, maxKills, 3*time.Minute, 300*time.Millisecond, time.Second) == 0 {
		t.Fatal("no kill happened before the job ended")
	}
	checkSequenceCSV(t, onePart(t, filepath.Join(j.dir, "out.csv")), rows)
}
