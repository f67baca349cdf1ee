package e2e

import (
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// filesystemCheckpointJob writes a paced sequence (about 3 s of rows)
// through a Python function into a partitioned filesystem table in
// streaming mode, rolling small part files.
const filesystemCheckpointJob = `SET 'execution.runtime-mode' = 'streaming';
CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '150000', 'rows-per-second' = '30000',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '150000');
CREATE TABLE out (id BIGINT, w BIGINT, k INT) PARTITIONED BY (k)
  WITH ('connector' = 'filesystem', 'path' = '$DIR/out', 'format' = 'csv', 'sink.rolling-policy.file-size' = '64kb');
CREATE TEMPORARY FUNCTION twice AS 'udfs.twice' LANGUAGE PYTHON;
INSERT INTO out SELECT id, twice(id), CAST(MOD(id, 3) AS INT) FROM src;
`

const twiceUDF = `from weir import udf, DataTypes


@udf(result_type=DataTypes.BIGINT())
def twice(x):
    return 2 * x
`

// TestCheckpointFilesystem: the streaming filesystem sink with checkpoints
// every 200 ms; the engine is SIGKILLed at random moments (after its first
// checkpoint, or one time in four at any moment) three times and started
// again with the same checkpoint directory until the job finishes; the
// committed (visible) files then hold every row exactly once.
func TestCheckpointFilesystem(t *testing.T) {
	args, dir := writeJob(t, filesystemCheckpointJob, map[string]string{"udfs.py": twiceUDF})
	ckdir := filepath.Join(dir, "checkpoints")
	args = append(args, "-D", "execution.checkpointing.interval=200 ms", "-D", "execution.checkpointing.dir=file://"+ckdir)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	resumed := 0
	for attempt := 0; ; attempt++ {
		var kill func() bool
		if attempt < 3 {
			after := time.Duration(r.IntN(800)) * time.Millisecond
			// The first run is killed after a checkpoint, so that the next
			// resumes from one whatever the later draws are.
			anyTime := attempt > 0 && r.IntN(4) == 0
			var since time.Time
			kill = func() bool {
				if since.IsZero() {
					if !anyTime && newestCheckpoint(ckdir) == 0 {
						return false // no complete checkpoint yet
					}
					since = time.Now()
				}
				return time.Since(since) >= after
			}
		}
		_, stderr, finished := runKilled(t, args, kill)
		if strings.Contains(stderr, "resuming from checkpoint") {
			resumed++
		}
		t.Logf("run %d: finished %v, newest checkpoint chk-%d", attempt+1, finished, newestCheckpoint(ckdir))
		if finished {
			break
		}
		if attempt > 6 {
			t.Fatal("the job did not finish after 7 restarts")
		}
	}
	t.Logf("%d runs resumed from a checkpoint", resumed)
	if resumed == 0 {
		t.Error("no run resumed from a checkpoint: the test proved nothing (a slow machine?)")
	}
	const n = 150000
	seen := make([]int, n+1)
	files := 0
	err := filepath.WalkDir(filepath.Join(dir, "out"), func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			return err
		}
		files++
		k := strings.TrimPrefix(filepath.Base(filepath.Dir(p)), "k=")
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Split(line, ",")
			id, err1 := strconv.Atoi(f[0])
			w, err2 := strconv.Atoi(f[len(f)-1])
			if err1 != nil || err2 != nil || len(f) != 2 || id < 1 || id > n || w != 2*id || strconv.Itoa(id%3) != k {
				t.Fatalf("%s: bad line %q", p, line)
			}
			seen[id]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	missing, dup := 0, 0
	for id := 1; id <= n; id++ {
		switch {
		case seen[id] == 0:
			missing++
		case seen[id] > 1:
			dup++
		}
	}
	if missing+dup > 0 {
		t.Fatalf("%d rows missing and %d rows more than once in %d committed files", missing, dup, files)
	}
	t.Logf("%d rows exactly once in %d committed files", n, files)
}
