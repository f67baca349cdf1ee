package state

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// backends are the names every behaviour test runs against.
var backends = []string{HashMap, Pebble}

func open(t *testing.T, o Options) Store {
	t.Helper()
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// model applies the same writes to a plain map.
type model map[string]string

func dump(t *testing.T, s Store) []string {
	t.Helper()
	var out []string
	if err := s.Scan(func(k, v []byte) error {
		out = append(out, string(k)+"="+string(v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func (m model) dump() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + m[k]
	}
	return out
}

// randomOps applies n random batches to every store and to the model and
// checks that every Get and Scan agrees with the model.
func randomOps(t *testing.T, rng *rand.Rand, stores []Store, m model, n int) {
	t.Helper()
	key := func() []byte {
		// Few keys so puts, overwrites and deletes meet; some empty and binary.
		k := rng.IntN(200)
		switch k % 7 {
		case 0:
			return []byte{0, byte(k), 0xff}
		case 1:
			if k < 10 {
				return []byte{}
			}
		}
		return []byte(fmt.Sprintf("k%03d", k))
	}
	for i := 0; i < n; i++ {
		b := new(Batch)
		ops := rng.IntN(20)
		pending := model{}
		for j := 0; j < ops; j++ {
			k := key()
			if rng.IntN(4) == 0 {
				b.Delete(k)
				pending[string(k)] = "\x00del"
			} else {
				v := make([]byte, rng.IntN(40))
				for x := range v {
					v[x] = byte(rng.IntN(256))
				}
				b.Put(k, v)
				pending[string(k)] = string(v)
			}
		}
		for _, s := range stores {
			if err := s.Apply(b); err != nil {
				t.Fatal(err)
			}
		}
		for k, v := range pending {
			if v == "\x00del" {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		checkGetMany(t, rng, stores, m, key, 30)
		for j := 0; j < 10; j++ {
			k := key()
			want, wantOK := m[string(k)]
			for _, s := range stores {
				got, ok, err := s.Get(k)
				if err != nil {
					t.Fatal(err)
				}
				if ok != wantOK || string(got) != want {
					t.Fatalf("%s: Get(%q) = %q, %v; want %q, %v", s.Backend(), k, got, ok, want, wantOK)
				}
			}
		}
	}
	want := m.dump()
	for _, s := range stores {
		if got := dump(t, s); !slices.Equal(got, want) {
			for i := range got {
				if i < len(want) && got[i] != want[i] {
					t.Fatalf("%s: scan entry %d is %q, want %q", s.Backend(), i, got[i], want[i])
				}
			}
			t.Fatalf("%s: scan has %d entries, want %d", s.Backend(), len(got), len(want))
		}
	}
}

// checkGetMany reads a random list of keys (unordered, some repeated,
// sometimes sorted) with GetMany from every store, and key by key (getEach):
// both agree with the model, and each key is answered exactly once.
func checkGetMany(t *testing.T, rng *rand.Rand, stores []Store, m model, key func() []byte, n int) {
	t.Helper()
	keys := make([][]byte, rng.IntN(n+1))
	for i := range keys {
		keys[i] = key()
	}
	if rng.IntN(3) == 0 {
		slices.SortFunc(keys, bytes.Compare)
	}
	for _, s := range stores {
		for _, get := range []func(Store, [][]byte, func(int, []byte, bool) error) error{GetMany, getEach} {
			seen := make([]bool, len(keys))
			err := get(s, keys, func(i int, v []byte, ok bool) error {
				if seen[i] {
					t.Fatalf("%s: GetMany answered key %d twice", s.Backend(), i)
				}
				seen[i] = true
				want, wantOK := m[string(keys[i])]
				if ok != wantOK || string(v) != want {
					t.Fatalf("%s: GetMany key %d (%q) = %q, %v; want %q, %v", s.Backend(), i, keys[i], v, ok, want, wantOK)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if i := slices.Index(seen, false); i >= 0 {
				t.Fatalf("%s: GetMany did not answer key %d of %d", s.Backend(), i, len(keys))
			}
		}
	}
}

// TestGetManyOnDisk reads many keys at once from table files of several
// levels and the memtable, with deletes and overwrites among them: GetMany
// agrees with a map, and an error from fn stops it.
func TestGetManyOnDisk(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	s := open(t, Options{Backend: Pebble})
	m := model{}
	key := func() []byte { return []byte(fmt.Sprintf("g%06d", rng.IntN(20000))) }
	for round := 0; round < 6; round++ {
		b := new(Batch)
		for j := 0; j < 5000; j++ {
			k := key()
			if rng.IntN(5) == 0 {
				b.Delete(k)
				delete(m, string(k))
				continue
			}
			v := fmt.Sprintf("v%d.%d", round, j)
			b.Put(k, []byte(v))
			m[string(k)] = v
		}
		if err := s.Apply(b); err != nil {
			t.Fatal(err)
		}
		if round < 5 {
			// Into a table file; the last round stays in the memtable.
			if err := s.(*pebbleStore).db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		for j := 0; j < 20; j++ {
			checkGetMany(t, rng, []Store{s}, m, key, 3000)
		}
	}
	keys := [][]byte{[]byte("g000001"), []byte("g000002")}
	stop := fmt.Errorf("stop")
	calls := 0
	if err := GetMany(s, keys, func(int, []byte, bool) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("GetMany with fn failing: %v after %d calls; want stop after 1", err, calls)
	}
}

// TestBackendsAgree runs the same random writes against both backends and a
// map: every read agrees.
func TestBackendsAgree(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	var stores []Store
	for _, b := range backends {
		stores = append(stores, open(t, Options{Backend: b}))
	}
	randomOps(t, rng, stores, model{}, 500)
}

// TestCheckpointRestore checkpoints each backend mid-way, goes on writing,
// and restores the checkpoint into each backend: the restored store holds
// exactly the state as of the checkpoint, and the checkpoint is unchanged by
// writes to the restored store.
func TestCheckpointRestore(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	for _, from := range backends {
		for _, to := range backends {
			t.Run(from+"-to-"+to, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 2))
				s := open(t, Options{Backend: from})
				m := model{}
				randomOps(t, rng, []Store{s}, m, 100)
				dir := filepath.Join(t.TempDir(), "cp")
				if err := s.Checkpoint(dir); err != nil {
					t.Fatal(err)
				}
				at := m.dump()
				randomOps(t, rng, []Store{s}, m, 50)

				r := open(t, Options{Backend: to, Restore: dir})
				if r.Backend() != to {
					t.Fatalf("backend %s, want %s", r.Backend(), to)
				}
				if got := dump(t, r); !slices.Equal(got, at) {
					t.Fatalf("restored %d entries, want %d", len(got), len(at))
				}
				copyOf := model{}
				for _, e := range at {
					k, v, _ := strings.Cut(e, "=")
					copyOf[k] = v
				}
				randomOps(t, rng, []Store{r}, copyOf, 50)
				again := open(t, Options{Backend: to, Restore: dir})
				if got := dump(t, again); !slices.Equal(got, at) {
					t.Fatal("writes to a restored store changed its checkpoint")
				}
			})
		}
	}
}

func TestCheckpointErrors(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			s := open(t, Options{Backend: backend})
			b := new(Batch)
			b.Put([]byte("a"), []byte("1"))
			if err := s.Apply(b); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir() // exists already
			if err := s.Checkpoint(dir); err == nil {
				t.Fatal("checkpoint into an existing directory succeeded")
			}
			if _, err := Open(Options{Backend: backend, Restore: dir}); err == nil || !strings.Contains(err.Error(), "not a complete state checkpoint") {
				t.Fatalf("restore from an empty directory: %v", err)
			}
		})
	}
}

func TestMemoryCheckpointDamaged(t *testing.T) {
	s := open(t, Options{})
	b := new(Batch)
	for i := 0; i < 100; i++ {
		b.Put([]byte(fmt.Sprint("key", i)), bytes.Repeat([]byte{byte(i)}, i))
	}
	if err := s.Apply(b); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "cp")
	if err := s.Checkpoint(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, entriesFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, damage := range []func([]byte) []byte{
		func(d []byte) []byte { d = slices.Clone(d); d[len(d)/2] ^= 1; return d },
		func(d []byte) []byte { return d[:len(d)/2] },
		func(d []byte) []byte { return d[:len(d)-1] },
	} {
		if err := os.WriteFile(path, damage(data), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(Options{Restore: dir})
		if err == nil || !strings.Contains(err.Error(), "is damaged") {
			t.Fatalf("damaged checkpoint: %v", err)
		}
	}
}

func TestBackendNames(t *testing.T) {
	for name, want := range map[string]string{"": HashMap, "hashmap": HashMap, "HashMap": HashMap, "rocksdb": Pebble, "pebble": Pebble} {
		if got, err := Canonical(name); err != nil || got != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"forst", "filesystem", "memory"} {
		if _, err := Canonical(name); err == nil || !strings.Contains(err.Error(), "hashmap") {
			t.Errorf("Canonical(%q): %v", name, err)
		}
	}
}

func TestClosed(t *testing.T) {
	for _, backend := range backends {
		s, err := Open(Options{Backend: backend})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if _, _, err := s.Get([]byte("a")); err != ErrClosed {
			t.Errorf("%s: Get after Close: %v", backend, err)
		}
		if err := s.Apply(new(Batch)); err != ErrClosed {
			t.Errorf("%s: Apply after Close: %v", backend, err)
		}
	}
}
