// Package config is the one table of the options weir reads (Flink's keys,
// their types, defaults, bounds and meaning), their parsers, and the one
// way options are applied: -D flags, SET and RESET in scripts and the Table
// API's TableConfig all go through a Session.
//
// Everything that reads an option does so through a resolved Config's typed
// getters, which panic on a key missing from the table: an option cannot be
// read without being documented, and the README's option table is generated
// from this one (go test ./internal/config -run TestREADME -update).
//
// Precedence, as in Flink's SQL client: defaults < -D flags (the session's
// initial options) < SET statements, in script order; RESET 'key' returns
// a key to its initial value, RESET all of them.
package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/suggest"
)

// Kind is the type of an option's value.
type Kind int

const (
	Int        Kind = iota // a decimal integer
	Duration               // Flink's durations: '500 ms', '5 min', a bare number is milliseconds
	MemorySize             // Flink's memory sizes: '64 mb', a bare number is bytes
	String                 // any text
	List                   // comma-separated items
	Map                    // 'k1:v1,k2:v2'
	Bool                   // 'true' or 'false'
	Enum                   // one of Option.Values
)

var kindNames = [...]string{"int", "duration", "memory size", "string", "list", "map", "bool", "enum"}

func (k Kind) String() string { return kindNames[k] }

// Option is one option weir reads.
type Option struct {
	Key  string
	Kind Kind
	// Default is the value when the option is not set, in the option's own
	// syntax; "" means none (or see DefaultDoc).
	Default string
	// DefaultDoc, when set, is how the README shows a default that is not
	// a constant.
	DefaultDoc string
	// Min bounds Int values, Duration values (in nanoseconds) and
	// MemorySize values (in bytes) from below.
	Min int64
	// Values are an Enum's values.
	Values []string
	// Meaning is one line for the README; Flink is Flink's default where
	// weir's differs.
	Meaning string
	Flink   string
	// WeirOnly marks an option that Flink does not have: a job sent to a
	// Flink cluster (execution.target remote) refuses it.
	WeirOnly bool
}

// Keys of the options weir reads.
const (
	Parallelism         = "parallelism.default"
	PythonExecutable    = "python.executable"
	PythonFiles         = "python.files"
	BundleSize          = "python.fn-execution.bundle.size"
	BundleTime          = "python.fn-execution.bundle.time"
	ArrowBatchSize      = "python.fn-execution.arrow.batch.size"
	BundlesInFlight     = "python.fn-execution.bundles-in-flight"
	SharedMemory        = "python.fn-execution.shared-memory"
	MaxAttempts         = "python.fn-execution.max-attempts"
	ProgressTimeout     = "python.fn-execution.bundle.progress-timeout"
	StartupTimeout      = "python.worker.startup-timeout"
	GlobalJobParameters = "pipeline.global-job-parameters"
	LocalTimeZone       = "table.local-time-zone"
	RuntimeMode         = "execution.runtime-mode"
	// Where jobs run: weir's engine or a Flink cluster (cmd/weir --target,
	// python/weir/_flink).
	ExecutionTarget        = "execution.target"
	RestAddress            = "rest.address"
	RestPort               = "rest.port"
	PythonClientExecutable = "python.client.executable"
	ManagedMemory          = "taskmanager.memory.managed.size"
	// Checkpoints (internal/checkpoint, docs/CHECKPOINTS.md).
	CheckpointInterval  = "execution.checkpointing.interval"
	CheckpointDir       = "execution.checkpointing.dir"
	CheckpointDirLegacy = "state.checkpoints.dir"
	RecoveryPath        = "execution.state-recovery.path"
	// Where operators keep keyed state (internal/state).
	StateBackend  = "state.backend.type"
	StateLocalDir = "state.backend.rocksdb.localdir"
)

// Options is the table, in the README's order.
//
// Flink's defaults are bundles of 100,000 rows and batches of 10,000;
// weir's are larger because the Beam harness costs ~30 us per element and
// a few milliseconds per bundle (a round trip on the control stream), and
// a pandas function ~20 us per call besides its work: bundles of up to
// 1,000,000 rows (or 8 MiB) were 10% faster than 250,000 for ten per-row
// columns and 1.3x for a vectorized function over one INT column, whose
// 250,000-row bundles were only 1 MB; batches of up to 1,000,000 rows
// made that function's job 1.2x faster than 100,000 (which were 1.2x
// faster than 25,000): an element stays within 4 MiB whatever the rows, so
// the row bound mostly decides for narrow rows. Per-row functions do not
// use it.
var Options = []Option{
	{Key: RuntimeMode, Kind: Enum, Default: "batch", Values: []string{"batch", "streaming"}, Meaning: "`batch`: final results of bounded input; `streaming`: a changelog (+I, -U, +U, -D) as rows arrive, unbounded sources run until cancelled (docs/CHANGELOG_MODEL.md)", Flink: "streaming"},
	{Key: Parallelism, Kind: Int, Default: "1", Min: 1, Meaning: "number of Python worker processes"},
	{Key: PythonExecutable, Kind: String, DefaultDoc: "`$WEIR_PYTHON` or `python3`", Meaning: "interpreter of the workers"},
	{Key: PythonFiles, Kind: List, Meaning: "files, directories or zips put on the workers' path (also `--pyfiles`)"},
	{Key: BundleSize, Kind: Int, Default: "1000000", Min: 1, Meaning: "rows per bundle", Flink: "100000"},
	{Key: BundleTime, Kind: Duration, Default: "1 s", Min: 1, Meaning: "a bundle closes this long after its first row"},
	{Key: ArrowBatchSize, Kind: Int, Default: "1000000", Min: 1, Meaning: "most rows per call of a vectorized (pandas, Arrow) function, one Arrow batch (a batch also stays within 4 MiB; at most the bundle size)", Flink: "10000"},
	{Key: BundlesInFlight, Kind: Int, Default: "2", Min: 1, Meaning: "bundles in flight per worker (backpressure bound)", WeirOnly: true},
	{Key: SharedMemory, Kind: Bool, Default: "true", Meaning: "vectorized (pandas, Arrow) functions read and write their Arrow batches in a shared-memory file (in /dev/shm) instead of the Fn API's gRPC messages, which then say only where; `false`, or where /dev/shm is missing, sends the batches in the messages", WeirOnly: true},
	{Key: GlobalJobParameters, Kind: Map, Meaning: "`k1:v1,k2:v2`, read by `FunctionContext.get_job_parameter`"},
	{Key: LocalTimeZone, Kind: String, Default: "default", Meaning: "session time zone of TIMESTAMP_LTZ, CURRENT_DATE, FROM_UNIXTIME, ...: a TZDB name (`America/New_York`), `GMT+08:00` or `UTC`; `default` is the system's zone"},
	{Key: MaxAttempts, Kind: Int, Default: "3", Min: 1, Meaning: "tries of one bundle whose worker dies before the job fails", WeirOnly: true},
	{Key: ProgressTimeout, Kind: Duration, Default: "5 min", Min: 1, Meaning: "a bundle without progress this long fails the job, with the Python stacks", WeirOnly: true},
	{Key: StartupTimeout, Kind: Duration, Default: "60 s", Min: 1, Meaning: "how long a worker may take to connect", WeirOnly: true},
	{Key: ExecutionTarget, Kind: Enum, Values: []string{"local", "remote"}, Default: "local",
		Meaning: "where jobs run: `local`, weir's engine; `remote`, the Flink cluster at `rest.address`:`rest.port`, through PyFlink (`weir sql --target flink://HOST:PORT` sets all three)"},
	{Key: RestAddress, Kind: String, Meaning: "the Flink JobManager's REST address, for `execution.target` `remote`"},
	{Key: RestPort, Kind: Int, Default: "8081", Min: 1, Meaning: "the Flink JobManager's REST port, for `execution.target` `remote`"},
	{Key: PythonClientExecutable, Kind: String, Default: "python3", Meaning: "the Python with apache-flink that submits jobs to a Flink cluster", Flink: "`python`"},
	{Key: ManagedMemory, Kind: MemorySize, DefaultDoc: "a quarter of the machine's memory",
		Meaning: "memory a job's aggregations, joins and sorts share (equally) before they spill to local disk"},
	{Key: StateBackend, Kind: Enum, Default: "hashmap", Values: []string{"hashmap", "rocksdb", "pebble"},
		Meaning: "where operators keep keyed state (e.g. Python aggregate functions' accumulators): `hashmap` in memory; `rocksdb` (or `pebble`) on local disk, for state larger than memory: weir's on-disk backend is Pebble, an embedded LSM store, not RocksDB (Flink's `forst` is not supported)"},
	{Key: StateLocalDir, Kind: String, DefaultDoc: "a private directory in the system's temporary directory, removed at the job's end",
		Meaning: "directory of the on-disk state backend's working files"},
	{Key: CheckpointInterval, Kind: Duration, Default: "0", Meaning: "streaming jobs take a checkpoint (source positions, operator state, sink commits) this often; 0 is none (docs/CHECKPOINTS.md)"},
	{Key: CheckpointDir, Kind: String, Meaning: "directory (a path or `file://` URI) of the checkpoints; the same job started again with it resumes from its latest checkpoint"},
	{Key: CheckpointDirLegacy, Kind: String, Meaning: "the older name of `execution.checkpointing.dir`"},
	{Key: RecoveryPath, Kind: String, Meaning: "a checkpoint (`.../chk-<id>`) the job resumes from"},
}

var byKey = func() map[string]*Option {
	m := map[string]*Option{}
	for i := range Options {
		m[Options[i].Key] = &Options[i]
	}
	return m
}()

// Lookup returns the option named key.
func Lookup(key string) (*Option, bool) {
	o, ok := byKey[key]
	return o, ok
}

// Keys returns every option's key, sorted.
func Keys() []string {
	out := make([]string, 0, len(Options))
	for _, o := range Options {
		out = append(out, o.Key)
	}
	slices.Sort(out)
	return out
}

// Error is a bad value of a known option.
type Error struct {
	Key, Value string
	Err        error
}

func (e *Error) Error() string {
	return fmt.Sprintf("option '%s' = '%s': %v", e.Key, e.Value, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Warning is an option weir does not read, with the closest one it does.
type Warning struct {
	Key, Suggestion string
}

func (w Warning) String() string {
	msg := fmt.Sprintf("option '%s' is not used by weir", w.Key)
	if w.Suggestion != "" {
		msg += fmt.Sprintf(" (did you mean '%s'?)", w.Suggestion)
	}
	return msg
}

// Check parses value as option key's and checks its bounds; a key weir
// does not read is not an error (see Unknown).
func Check(key, value string) error {
	o, ok := byKey[key]
	if !ok {
		return nil
	}
	_, err := o.parse(value)
	return err
}

// parse parses v as o's value: int, time.Duration, int64 (bytes), string,
// []string, map[string]string or bool.
func (o *Option) parse(v string) (any, error) {
	bad := func(err error) (any, error) { return nil, &Error{Key: o.Key, Value: v, Err: err} }
	switch o.Kind {
	case Int:
		n, err := ParseInt(v)
		if err != nil {
			return bad(fmt.Errorf("want an integer >= %d", o.Min))
		}
		if int64(n) < o.Min {
			return bad(fmt.Errorf("must be at least %d", o.Min))
		}
		return n, nil
	case Duration:
		d, err := ParseDuration(v)
		if err != nil {
			return bad(fmt.Errorf("want %s", DurationFormat))
		}
		if int64(d) < o.Min {
			if o.Min == 1 {
				return bad(errors.New("must be more than 0"))
			}
			return bad(fmt.Errorf("must be at least %s", FormatDuration(time.Duration(o.Min))))
		}
		return d, nil
	case MemorySize:
		if v == "" && o.DefaultDoc != "" {
			return int64(0), nil // not set: the getter computes the default
		}
		n, err := ParseMemorySize(v)
		if err != nil {
			return bad(fmt.Errorf("want %s", MemoryFormat))
		}
		if n < o.Min {
			return bad(fmt.Errorf("must be at least %d bytes", o.Min))
		}
		return n, nil
	case String:
		return v, nil
	case List:
		return ParseList(v), nil
	case Map:
		m, err := ParseMap(v)
		if err != nil {
			return bad(errors.New("want 'k1:v1,k2:v2'"))
		}
		return m, nil
	case Bool:
		b, err := ParseBool(v)
		if err != nil {
			return bad(errors.New("want 'true' or 'false'"))
		}
		return b, nil
	case Enum:
		e, err := parseEnum(v, o.Values)
		if err != nil {
			return bad(err)
		}
		return e, nil
	}
	panic(fmt.Sprintf("config: option %s has no kind", o.Key))
}

// Unknown returns a warning for each key of m that weir does not read,
// sorted by key.
func Unknown(m map[string]string) []Warning {
	var out []Warning
	keys := Keys()
	for k := range m {
		if _, ok := byKey[k]; !ok {
			out = append(out, Warning{Key: k, Suggestion: suggest.Closest(k, keys, 3)})
		}
	}
	slices.SortFunc(out, func(a, b Warning) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Config is a resolved set of options: every known option has a value
// (set or default), and typed getters read them.
type Config struct {
	set  map[string]string
	vals map[string]any
}

// Resolve checks and parses the options of m (a session's options, e.g.
// Session.Map). Bad values of known options are errors, all of them
// joined; keys weir does not read are warnings.
func Resolve(m map[string]string) (*Config, []Warning, error) {
	c := &Config{set: map[string]string{}, vals: map[string]any{}}
	var errs []error
	for _, o := range Options {
		v, ok := m[o.Key]
		if ok {
			c.set[o.Key] = v
		} else {
			v = o.Default
		}
		p, err := o.parse(v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.vals[o.Key] = p
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return c, Unknown(m), nil
}

var defaults = func() *Config {
	c, _, err := Resolve(nil)
	if err != nil {
		panic("config: a default does not parse: " + err.Error())
	}
	return c
}()

// Default returns the configuration of no options set.
func Default() *Config { return defaults }

func (c *Config) get(key string, k Kind) any {
	o, ok := byKey[key]
	if !ok {
		panic(fmt.Sprintf("config: option '%s' is not in the option table (internal/config)", key))
	}
	if o.Kind != k {
		panic(fmt.Sprintf("config: option '%s' is a %s, not a %s", key, o.Kind, k))
	}
	return c.vals[key]
}

// IsSet reports whether option key was given (not defaulted).
func (c *Config) IsSet(key string) bool {
	_, ok := c.set[key]
	return ok
}

// Int returns an Int option's value.
func (c *Config) Int(key string) int { return c.get(key, Int).(int) }

// Duration returns a Duration option's value.
func (c *Config) Duration(key string) time.Duration { return c.get(key, Duration).(time.Duration) }

// Bytes returns a MemorySize option's value in bytes.
func (c *Config) Bytes(key string) int64 { return c.get(key, MemorySize).(int64) }

// String returns a String or Enum option's value.
func (c *Config) String(key string) string {
	if o, ok := byKey[key]; ok && o.Kind == Enum {
		return c.get(key, Enum).(string)
	}
	return c.get(key, String).(string)
}

// List returns a List option's items.
func (c *Config) List(key string) []string {
	return slices.Clone(c.get(key, List).([]string))
}

// Map returns a Map option's entries.
func (c *Config) Map(key string) map[string]string {
	out := map[string]string{}
	for k, v := range c.get(key, Map).(map[string]string) {
		out[k] = v
	}
	return out
}

// Bool returns a Bool option's value.
func (c *Config) Bool(key string) bool { return c.get(key, Bool).(bool) }

// Python returns the workers' interpreter: python.executable, else
// $WEIR_PYTHON, else python3.
func (c *Config) Python() string {
	if p := c.String(PythonExecutable); p != "" {
		return p
	}
	if p := os.Getenv("WEIR_PYTHON"); p != "" {
		return p
	}
	return "python3"
}

// WeirOnlyKeys returns the keys of the options that Flink does not have,
// sorted: a job sent to a Flink cluster refuses them.
func WeirOnlyKeys() []string {
	var out []string
	for _, o := range Options {
		if o.WeirOnly {
			out = append(out, o.Key)
		}
	}
	slices.Sort(out)
	return out
}

// CheckpointDirectory is execution.checkpointing.dir, else its older name
// state.checkpoints.dir; "" when neither is set.
func (c *Config) CheckpointDirectory() string {
	if d := c.String(CheckpointDir); d != "" {
		return d
	}
	return c.String(CheckpointDirLegacy)
}
