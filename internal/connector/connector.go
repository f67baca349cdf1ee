// Package connector opens weir's table sources and sinks by connector name,
// with Flink's option names.
//
// Sources: datagen, filesystem (format csv) and literal VALUES rows. Sinks:
// print, blackhole, filesystem (format csv). Every source and sink counts its
// rows (exec.Counter).
//
// connector imports types, expr, exec and arrow-go.
package connector

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// DefaultBatchSize is the number of rows per batch used when OpenSource is
// given a batch size <= 0.
const DefaultBatchSize = 8192

var (
	sourceConnectors = []string{"datagen", "filesystem"}
	sinkConnectors   = []string{"blackhole", "filesystem", "print"}
)

// OpenSource opens the source of a table declared WITH ('connector' = name,
// ...). batchSize is the number of rows per batch.
func OpenSource(table string, schema types.Schema, options map[string]string, batchSize int, mem memory.Allocator) (exec.Source, error) {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	name, err := connectorName(table, options, "source", sourceConnectors)
	if err != nil {
		return nil, err
	}
	opts := newOptions(table, name, options)
	switch name {
	case "datagen":
		return openDatagen(opts, schema, batchSize, mem)
	case "filesystem":
		return openFileSource(opts, schema, batchSize, mem)
	}
	panic("unreachable")
}

// OpenSink opens the sink of a table declared WITH ('connector' = name, ...);
// the print connector writes to out.
func OpenSink(table string, schema types.Schema, options map[string]string, out io.Writer) (exec.Sink, error) {
	name, err := connectorName(table, options, "sink", sinkConnectors)
	if err != nil {
		return nil, err
	}
	opts := newOptions(table, name, options)
	switch name {
	case "print":
		return openPrint(opts, schema, out)
	case "blackhole":
		if err := opts.finish(nil); err != nil {
			return nil, err
		}
		return &blackhole{}, nil
	case "filesystem":
		return openFileSink(opts, schema)
	}
	panic("unreachable")
}

func connectorName(table string, options map[string]string, role string, known []string) (string, error) {
	name, ok := options["connector"]
	if !ok {
		return "", fmt.Errorf("table '%s': option 'connector' is missing; weir's %s connectors are %s", table, role, strings.Join(known, ", "))
	}
	if slices.Contains(known, name) {
		return name, nil
	}
	all := append(slices.Clone(sourceConnectors), sinkConnectors...)
	if slices.Contains(all, name) {
		return "", fmt.Errorf("table '%s': connector '%s' cannot be used as a %s; weir's %s connectors are %s", table, name, role, role, strings.Join(known, ", "))
	}
	msg := fmt.Sprintf("table '%s': unknown connector '%s'; weir's %s connectors are %s", table, name, role, strings.Join(known, ", "))
	if s := suggest(name, known); s != "" {
		msg += fmt.Sprintf(" (did you mean '%s'?)", s)
	}
	return "", fmt.Errorf("%s", msg)
}

// options reads the WITH options of one table and reports errors naming the
// table, the connector and the option.
type options struct {
	table, connector string
	m                map[string]string
	used             map[string]bool
}

func newOptions(table, connector string, m map[string]string) *options {
	return &options{table: table, connector: connector, m: m, used: map[string]bool{"connector": true}}
}

// get returns an option and marks it as known.
func (o *options) get(key string) (string, bool) {
	v, ok := o.m[key]
	if ok {
		o.used[key] = true
	}
	return v, ok
}

// bad reports a bad option value: what must hold is the text after the colon.
func (o *options) bad(key, format string, args ...any) error {
	return fmt.Errorf("table '%s': %s option '%s' = '%s': %s", o.table, o.connector, key, o.m[key], fmt.Sprintf(format, args...))
}

// errorf reports another problem with the options of the table.
func (o *options) errorf(format string, args ...any) error {
	return fmt.Errorf("table '%s': %s %s", o.table, o.connector, fmt.Sprintf(format, args...))
}

// finish reports the first option (in sorted order) that was not read, with a
// suggestion from known (patterns like 'fields.<column>.kind' are expanded
// by the caller).
func (o *options) finish(known []string) error {
	var unknown []string
	for k := range o.m {
		if !o.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	k := unknown[0]
	msg := fmt.Sprintf("table '%s': %s option '%s' is unknown", o.table, o.connector, k)
	if s := suggest(k, known); s != "" {
		msg += fmt.Sprintf("; did you mean '%s'?", s)
	} else if len(known) > 0 {
		msg += "; known options: " + strings.Join(known, ", ")
	} else {
		msg += fmt.Sprintf("; the %s connector takes no options besides 'connector'", o.connector)
	}
	return fmt.Errorf("%s", msg)
}

// suggest returns the candidate closest to s when it is close enough to be a
// likely typo, or "".
func suggest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD >= len(s) || bestD > max(1, len(s)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
