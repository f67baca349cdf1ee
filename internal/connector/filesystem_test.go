package connector

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

var abSchema = types.Schema{{Name: "a", Type: types.INT}, {Name: "b", Type: types.STRING}}

func fsOpts(path string, kv ...string) map[string]string {
	m := map[string]string{"connector": "filesystem", "path": path, "format": "csv"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// insert runs one INSERT INTO (or OVERWRITE) of rows (a, "r<a>") into the
// table at dir.
func insert(t *testing.T, dir string, overwrite bool, as ...int) {
	t.Helper()
	sink, err := OpenInsertSink("t", abSchema, fsOpts(dir), nil, overwrite)
	if err != nil {
		t.Fatal(err)
	}
	writeInts(t, sink, as...)
	if err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
}

func writeInts(t *testing.T, sink exec.Sink, as ...int) {
	t.Helper()
	if len(as) == 0 {
		return
	}
	mem := newMem(t)
	rows := make([][]any, len(as))
	for i, a := range as {
		rows[i] = []any{int32(a), fmt.Sprintf("r%d", a)}
	}
	b, err := ValuesSource(abSchema, rows, mem).Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if err := sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

// tableInts reads the table at path and returns its column a, sorted.
func tableInts(t *testing.T, path string) []int {
	t.Helper()
	src, err := OpenSource("t", abSchema, fsOpts(path), 3, newMem(t))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rows, _ := drain(t, src)
	var out []int
	for _, r := range rows {
		a := int(r[0].(int32))
		if r[1] != fmt.Sprintf("r%d", a) {
			t.Errorf("row %v", r)
		}
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

func wantInts(t *testing.T, got []int, want ...int) {
	t.Helper()
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("table has %v, want %v", got, want)
	}
}

// hiddenFiles lists the names in dir starting with '.'.
func hiddenFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestFilesystemAppendOverwrite: INSERT INTO adds a part file per job;
// INSERT OVERWRITE replaces every visible entry (subdirectories too) and
// keeps hidden ones, which readers ignore, as Flink does.
func TestFilesystemAppendOverwrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b") // created by the first sink
	insert(t, dir, false, 1, 2)
	insert(t, dir, false, 3)
	insert(t, dir, false) // no rows: no part file, as Flink
	wantInts(t, tableInts(t, dir), 1, 2, 3)
	parts := visible(t, dir)
	if len(parts) != 2 || !partName.MatchString(parts[0]) || !partName.MatchString(parts[1]) {
		t.Errorf("files %v, want two part files", parts)
	}

	// Other files: hidden ones are ignored, visible ones (and those in
	// visible subdirectories) are read.
	must(t, os.WriteFile(filepath.Join(dir, ".hidden"), []byte("100,r100\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "_SUCCESS"), []byte("101,r101\n"), 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "sub", "deeper"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "sub", "deeper", "x.csv"), []byte("7,r7\n"), 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "_tmp"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "_tmp", "y.csv"), []byte("102,r102\n"), 0o644))
	wantInts(t, tableInts(t, dir), 1, 2, 3, 7)

	insert(t, dir, true, 4, 5)
	wantInts(t, tableInts(t, dir), 4, 5)
	if v := visible(t, dir); len(v) != 1 || !partName.MatchString(v[0]) {
		t.Errorf("after INSERT OVERWRITE: %v, want one part file", v)
	}
	for _, keep := range []string{".hidden", "_SUCCESS", "_tmp/y.csv"} {
		if _, err := os.Stat(filepath.Join(dir, keep)); err != nil {
			t.Errorf("INSERT OVERWRITE removed hidden %s: %v", keep, err)
		}
	}
	if h := hiddenFiles(t, dir); !slices.Equal(h, []string{".hidden"}) {
		t.Errorf("hidden files left: %v", h)
	}

	// An overwrite with no rows empties the table and leaves no part file.
	insert(t, dir, true)
	wantInts(t, tableInts(t, dir))
	if v := visible(t, dir); len(v) != 0 {
		t.Errorf("after an empty INSERT OVERWRITE: %v", v)
	}
}

// TestFilesystemOverwriteItself: INSERT OVERWRITE t SELECT ... FROM t reads
// the old rows before they are replaced.
func TestFilesystemOverwriteItself(t *testing.T) {
	dir := t.TempDir()
	insert(t, dir, false, 1, 2)
	insert(t, dir, false, 3)
	src, err := OpenSource("t", abSchema, fsOpts(dir), 2, newMem(t))
	must(t, err)
	sink, err := OpenInsertSink("t", abSchema, fsOpts(dir), nil, true)
	must(t, err)
	rows, _ := drain(t, src)
	src.Close()
	var as []int
	for _, r := range rows {
		as = append(as, int(r[0].(int32))*10)
	}
	writeInts(t, sink, as...)
	must(t, sink.Commit())
	wantInts(t, tableInts(t, dir), 10, 20, 30)
}

// TestFilesystemFailedOverwrite: an INSERT OVERWRITE that is aborted leaves
// the old contents and no files of its own.
func TestFilesystemFailedOverwrite(t *testing.T) {
	dir := t.TempDir()
	insert(t, dir, false, 1, 2)
	before := visible(t, dir)
	sink, err := OpenInsertSink("t", abSchema, fsOpts(dir), nil, true)
	must(t, err)
	writeInts(t, sink, 8, 9)
	sink.Abort(errors.New("the job failed"))
	wantInts(t, tableInts(t, dir), 1, 2)
	if after := visible(t, dir); !slices.Equal(before, after) {
		t.Errorf("files %v, want %v", after, before)
	}
	if h := hiddenFiles(t, dir); len(h) != 0 {
		t.Errorf("hidden files left: %v", h)
	}
}

// deadPid returns the pid of a process that has exited.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := osexec.Command("true")
	must(t, cmd.Run())
	return cmd.Process.Pid
}

// TestFilesystemOverwriteJournal: an engine that died after publishing an
// overwrite's part but before removing the old files: readers already see
// only the new part, and the next writer finishes the removal. One that died
// before publishing: the old files stand and its journal goes.
func TestFilesystemOverwriteJournal(t *testing.T) {
	dir := t.TempDir()
	insert(t, dir, false, 1)
	insert(t, dir, false, 2)
	old := visible(t, dir)
	must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "sub", "x.csv"), []byte("3,r3\n"), 0o644))
	old = append(old, "sub")
	pid := strconv.Itoa(deadPid(t))

	// Not yet published: the journal names a part that is still hidden.
	unpub := &journal{part: "part-unpublished-task-0-file-0", old: old}
	must(t, os.WriteFile(filepath.Join(dir, journalPrefix+"u"+inprogressMark+pid), unpub.encode(), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "."+unpub.part+inprogressMark+pid), []byte("9,r9\n"), 0o644))
	wantInts(t, tableInts(t, dir), 1, 2, 3)

	// Published: the new part is visible, the old entries are still there.
	pub := &journal{part: "part-published-task-0-file-0", old: old}
	must(t, os.WriteFile(filepath.Join(dir, journalPrefix+"p"+inprogressMark+pid), pub.encode(), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, pub.part), []byte("5,r5\n"), 0o644))
	wantInts(t, tableInts(t, dir), 5)

	insert(t, dir, false, 6) // a later writer cleans up
	wantInts(t, tableInts(t, dir), 5, 6)
	if h := hiddenFiles(t, dir); len(h) != 0 {
		t.Errorf("hidden files left: %v", h)
	}
	for _, o := range old {
		if _, err := os.Stat(filepath.Join(dir, o)); err == nil {
			t.Errorf("replaced %s is still there", o)
		}
	}
}

// TestFilesystemStaleFiles: a writer removes the in-progress files of
// writers that are gone, and never those of a live one, whatever its pid.
func TestFilesystemStaleFiles(t *testing.T) {
	dir := t.TempDir()
	deadFile := ".part-dead-task-0-file-0" + inprogressMark + strconv.Itoa(deadPid(t))
	must(t, os.WriteFile(filepath.Join(dir, deadFile), []byte("1,r1\n"), 0o644))
	// pid 1 runs, but no one holds the file's lock: stale once old enough.
	oldFile := ".part-old-task-0-file-0" + inprogressMark + "1"
	youngFile := ".part-young-task-0-file-0" + inprogressMark + "1"
	must(t, os.WriteFile(filepath.Join(dir, oldFile), nil, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, youngFile), nil, 0o644))
	long := time.Now().Add(-2 * staleAge)
	must(t, os.Chtimes(filepath.Join(dir, oldFile), long, long))
	// Not weir's: hidden files without a pid are left alone.
	must(t, os.WriteFile(filepath.Join(dir, ".keep.inprogress-x"), nil, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, ".other"), nil, 0o644))

	// A live writer in another process, holding its in-progress file.
	child := startWriterChild(t, dir)

	insert(t, dir, false, 1)
	h := hiddenFiles(t, dir)
	want := []string{".keep.inprogress-x", ".other", child.file, youngFile}
	slices.Sort(want)
	if !slices.Equal(h, want) {
		t.Errorf("hidden files after a write: %v, want %v", h, want)
	}

	// The live writer commits as if nothing happened.
	child.finish(t, "commit")
	wantInts(t, tableInts(t, dir), 1, 42)

	// A writer killed mid-write leaves its file; the next write removes it.
	child = startWriterChild(t, dir)
	must(t, child.cmd.Process.Kill())
	child.cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, child.file)); err != nil {
		t.Fatalf("the killed writer's file: %v", err)
	}
	insert(t, dir, false, 2)
	if _, err := os.Stat(filepath.Join(dir, child.file)); err == nil {
		t.Errorf("the killed writer's %s was not removed", child.file)
	}
	wantInts(t, tableInts(t, dir), 1, 2, 42)
}

// writerChild is this test binary run as a filesystem writer: it opens a
// sink on a directory, writes a row, says its in-progress file's name and
// waits for "commit" or "abort" on its standard input.
type writerChild struct {
	cmd  *osexec.Cmd
	in   interface{ Write([]byte) (int, error) }
	file string
}

func startWriterChild(t *testing.T, dir string) *writerChild {
	t.Helper()
	cmd := osexec.Command(os.Args[0], "-test.run=^TestWriterChild$")
	cmd.Env = append(os.Environ(), "WEIR_FS_WRITER_DIR="+dir)
	in, err := cmd.StdinPipe()
	must(t, err)
	out, err := cmd.StdoutPipe()
	must(t, err)
	cmd.Stderr = os.Stderr
	must(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "writing "); ok {
			return &writerChild{cmd: cmd, in: in, file: name}
		}
	}
	t.Fatalf("the writer child did not start: %v", sc.Err())
	return nil
}

func (c *writerChild) finish(t *testing.T, what string) {
	t.Helper()
	fmt.Fprintln(c.in, what)
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("writer child: %v", err)
	}
}

// TestWriterChild is the writer child's body (see startWriterChild).
func TestWriterChild(t *testing.T) {
	dir := os.Getenv("WEIR_FS_WRITER_DIR")
	if dir == "" {
		t.Skip("run by TestFilesystemStaleFiles as a child process")
	}
	sink, err := OpenInsertSink("t", abSchema, fsOpts(dir), nil, false)
	must(t, err)
	writeInts(t, sink, 42)
	fmt.Printf("writing %s\n", sink.(*fileSink).tmp)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	if strings.TrimSpace(line) == "commit" {
		must(t, sink.Commit())
	} else {
		sink.Abort(errors.New("told to"))
	}
}

// TestFilesystemSinkChecks: a sink that cannot write fails when it opens,
// before the job does any work, saying why and what to do.
func TestFilesystemSinkChecks(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "out.csv")
	must(t, os.WriteFile(file, []byte("1,r1\n"), 0o644))
	for _, tc := range []struct {
		path, want string
	}{
		{file, "table 't': filesystem 'path' = '" + file + "' is a file, but a filesystem sink writes a directory of part files (as Flink's does); choose a directory, or move the file into one (weir still reads a 'path' that names a single file)"},
		{filepath.Join(file, "x", "y"), "table 't': cannot create directory '" + filepath.Join(file, "x", "y") + "': '" + file + "' is a file, not a directory; choose another 'path'"},
		{"/proc/self/weir-table", "table 't': cannot create directory '/proc/self/weir-table' ("},
	} {
		for _, overwrite := range []bool{false, true} {
			_, err := OpenInsertSink("t", abSchema, fsOpts(tc.path), nil, overwrite)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("%s:\n got %v\nwant %s", tc.path, err, tc.want)
			}
		}
	}
	// A single file is still read, as Flink reads a path naming a file.
	wantInts(t, tableInts(t, file), 1)
	// Flink's file URIs name local paths; other schemes are refused.
	wantInts(t, tableInts(t, "file://"+file), 1)
	wantInts(t, tableInts(t, "file:"+file), 1)
	_, err := OpenSource("t", abSchema, fsOpts("hdfs://nn/x"), 10, newMem(t))
	if want := "table 't': filesystem option 'path' = 'hdfs://nn/x': weir reads and writes local files only: use a local path, or 'file:///...'"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	// A symbolic link loop ends.
	loop := filepath.Join(tmp, "loop")
	must(t, os.MkdirAll(loop, 0o755))
	must(t, os.Symlink(loop, filepath.Join(loop, "again")))
	_, err = OpenSource("t", abSchema, fsOpts(loop), 10, newMem(t))
	if err == nil || !strings.Contains(err.Error(), "directories deep (a symbolic link loop?)") {
		t.Errorf("symbolic link loop: %v", err)
	}

	// A directory this user cannot write: root may write any mode, but not
	// into sysfs.
	ro := filepath.Join(tmp, "ro")
	must(t, os.Mkdir(ro, 0o555))
	if os.Geteuid() == 0 {
		ro = "/sys/fs"
	}
	if st, err := os.Stat(ro); err == nil && st.IsDir() {
		_, err := OpenSink("t", abSchema, fsOpts(ro), nil)
		want := "table 't': cannot create a file in directory '" + ro + "' (permission denied); make it writable for this user or choose another 'path'"
		if err == nil || err.Error() != want {
			t.Errorf("read-only directory:\n got %v\nwant %s", err, want)
		}
	}

	_, err = OpenInsertSink("t", abSchema, map[string]string{"connector": "print"}, nil, true)
	if want := "table 't': INSERT OVERWRITE needs a connector that can replace a table's rows ('filesystem'); the print connector cannot: use INSERT INTO"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestCSVErrorLocations: an error in the second file of a table's directory
// names that file, and the line and column there.
func TestCSVErrorLocations(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "a.csv"), []byte("1,r1\n2,r2\n"), 0o644))
	bad := filepath.Join(dir, "b.csv")
	// 5,000 good lines first, so the error is far into a batch.
	var b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&b, "%d,r%d\n", i, i)
	}
	b.WriteString("7,\"multi\nline\"\n8,caf\xe9\n")
	must(t, os.WriteFile(bad, []byte(b.String()), 0o644))
	src, err := OpenSource("t", abSchema, fsOpts(dir), 8192, newMem(t))
	must(t, err)
	defer src.Close()
	_, err = src.Next(context.Background())
	want := "table 't': file '" + bad + "' line 5003, column 2 (b): invalid UTF-8: byte 0xe9 at byte 4 of the field \"caf\\xe9\"; weir reads CSV files as UTF-8"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v\nwant %s...", err, want)
	}
}

// TestCSVIgnoreParseErrors: with 'csv.ignore-parse-errors', Flink's answers
// (recorded with PyFlink 2.3): fields that do not parse read as NULL, missing
// fields as NULL, lines with extra fields are skipped; invalid UTF-8 still
// fails.
func TestCSVIgnoreParseErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "in.csv")
	schema := types.Schema{{Name: "a", Type: types.INT}, {Name: "b", Type: types.STRING}, {Name: "c", Type: types.INT.NotNull()}}
	must(t, os.WriteFile(path, []byte("1,a,1\nx,b,2\n3\n4,c,4,d\n5,\"e\"x,5\n6,f,y\n7,\"g,7\n"), 0o644))
	src, err := OpenSource("t", schema, fsOpts(path, "csv.ignore-parse-errors", "true"), 10, newMem(t))
	must(t, err)
	rows, _ := drain(t, src)
	src.Close()
	// 3: c is NOT NULL, so the short line is skipped; 6: likewise; 7: the
	// quote is never closed.
	checkRows(t, rows, [][]any{{int32(1), "a", int32(1)}, {nil, "b", int32(2)}})

	nullable := types.Schema{{Name: "a", Type: types.INT}, {Name: "b", Type: types.STRING}}
	must(t, os.WriteFile(path, []byte("1,a\nx,b\n3\n4,c,d\n"), 0o644))
	src, err = OpenSource("t", nullable, fsOpts(path, "csv.ignore-parse-errors", "true"), 10, newMem(t))
	must(t, err)
	rows, _ = drain(t, src)
	src.Close()
	checkRows(t, rows, [][]any{{int32(1), "a"}, {nil, "b"}, {int32(3), nil}})

	must(t, os.WriteFile(path, []byte("1,a\n2,\xff\n"), 0o644))
	src, err = OpenSource("t", nullable, fsOpts(path, "csv.ignore-parse-errors", "true"), 10, newMem(t))
	must(t, err)
	defer src.Close()
	if _, err := src.Next(context.Background()); err == nil || !strings.Contains(err.Error(), "line 2, column 2 (b): invalid UTF-8") {
		t.Errorf("invalid UTF-8 with ignore-parse-errors: %v", err)
	}
}

// TestFilesystemRandomHistory: a random sequence of appends, overwrites and
// aborted writes leaves exactly the rows of the committed ones since the last
// committed overwrite.
func TestFilesystemRandomHistory(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	dir := t.TempDir()
	var want []int
	next := 0
	for range 40 {
		n := rng.IntN(4)
		as := make([]int, n)
		for i := range as {
			as[i] = next
			next++
		}
		overwrite, abort := rng.IntN(3) == 0, rng.IntN(4) == 0
		sink, err := OpenInsertSink("t", abSchema, fsOpts(dir), nil, overwrite)
		must(t, err)
		writeInts(t, sink, as...)
		if abort {
			sink.Abort(errors.New("failed"))
		} else {
			must(t, sink.Commit())
			if overwrite {
				want = nil
			}
			want = append(want, as...)
		}
		slices.Sort(want)
		got := tableInts(t, dir)
		if !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("after %d rows (overwrite %v, abort %v): table has %v, want %v", n, overwrite, abort, got, want)
		}
		if h := hiddenFiles(t, dir); len(h) != 0 {
			t.Fatalf("hidden files left: %v", h)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestFilesystemOverwriteReaders: readers running while INSERT OVERWRITEs
// commit see one overwrite's rows, all of them, never a mix or none, and
// never lose a file they listed.
func TestFilesystemOverwriteReaders(t *testing.T) {
	dir := t.TempDir()
	const rows = 50
	gen := func(g int) []int {
		as := make([]int, rows)
		for i := range as {
			as[i] = g*1000 + i
		}
		return as
	}
	insert(t, dir, true, gen(0)...)
	stop := make(chan struct{})
	done := make(chan error)
	go func() {
		for g := 1; g <= 200; g++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			sink, err := OpenInsertSink("t", abSchema, fsOpts(dir), nil, true)
			if err != nil {
				done <- err
				return
			}
			// A visible stray file too, which the overwrite removes.
			if g%2 == 0 {
				os.WriteFile(filepath.Join(dir, fmt.Sprintf("stray-%d.csv", g)), nil, 0o644)
			}
			writeInts(t, sink, gen(g)...)
			if err := sink.Commit(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	reads := 0
	for {
		var err error
		select {
		case err = <-done:
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d reads", reads)
			if reads < 10 {
				t.Errorf("only %d reads", reads)
			}
			return
		default:
		}
		as, wasReplaced, err := readInts(t, dir)
		reads++
		switch {
		case err != nil:
		case wasReplaced:
			// The source opens its files upfront: removing them does not matter.
			err = errors.New("a reader lost a file to an INSERT OVERWRITE")
		case len(as) != rows || as[rows-1]-as[0] != rows-1:
			err = fmt.Errorf("a reader saw %d rows: %v", len(as), as)
		}
		if err != nil {
			close(stop)
			<-done
			t.Fatal(err)
		}
	}
}

// readInts reads column a of the table at dir, sorted; replaced says a
// file was removed while it was read.
func readInts(t *testing.T, dir string) (as []int, replaced bool, err error) {
	src, err := OpenSource("t", abSchema, fsOpts(dir), 1000, newMem(t))
	if err != nil {
		return nil, false, err
	}
	defer src.Close()
	for {
		b, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			slices.Sort(as)
			return as, false, nil
		}
		if err != nil {
			if strings.Contains(err.Error(), "was removed while the job read the table") {
				return nil, true, nil
			}
			return nil, false, err
		}
		col := b.Column(0).(*array.Int32)
		for i := range col.Len() {
			as = append(as, int(col.Value(i)))
		}
		b.Release()
	}
}
