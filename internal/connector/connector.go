// Package connector opens weir's table sources and sinks by connector name,
// with Flink's option names.
//
// Sources: datagen, filesystem (formats csv, json, parquet), kafka (kafka.go) and literal
// VALUES rows. Sinks: print, blackhole, filesystem (csv, json, parquet; INSERT
// OVERWRITE replaces its files), kafka. Every source and sink counts its rows
// (exec.Counter).
//
// connector imports the weir packages internal/README.md lists for it,
// arrow-go (with its parquet files; klauspost's s2 writes their Snappy) and
// franz-go, the Kafka client.
package connector

import (
	"fmt"
	"github.com/weir-dev/weir/internal/suggest"
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
	sourceConnectors = []string{"datagen", "filesystem", "kafka"}
	sinkConnectors   = []string{"blackhole", "filesystem", "kafka", "print"}
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
	case "kafka":
		return openKafkaSource(opts, schema, batchSize, mem)
	}
	panic("unreachable")
}

// OpenSink opens the sink of a table declared WITH ('connector' = name, ...)
// for INSERT INTO; the print connector writes to out.
func OpenSink(table string, schema types.Schema, options map[string]string, out io.Writer) (exec.Sink, error) {
	return OpenInsertSink(table, schema, options, out, false)
}

// OpenInsertSink opens the sink of an INSERT INTO, or with overwrite of an
// INSERT OVERWRITE: a sink that replaces the table's rows when it commits,
// which only the filesystem connector can do.
func OpenInsertSink(table string, schema types.Schema, options map[string]string, out io.Writer, overwrite bool) (exec.Sink, error) {
	name, err := connectorName(table, options, "sink", sinkConnectors)
	if err != nil {
		return nil, err
	}
	if overwrite && name != "filesystem" {
		return nil, fmt.Errorf("table '%s': INSERT OVERWRITE needs a connector that can replace a table's rows ('filesystem'); the %s connector cannot: use INSERT INTO", table, name)
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
		return openFileSink(opts, schema, overwrite)
	case "kafka":
		return openKafkaSink(opts, schema)
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
	if s := closestName(name, known); s != "" {
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
	if s := closestName(k, known); s != "" {
		msg += fmt.Sprintf("; did you mean '%s'?", s)
	} else if len(known) > 0 {
		msg += "; known options: " + strings.Join(known, ", ")
	} else {
		msg += fmt.Sprintf("; the %s connector takes no options besides 'connector'", o.connector)
	}
	return fmt.Errorf("%s", msg)
}

// closestName returns the candidate closest to s when it is close enough to be a
// likely typo (about one edit in three letters), or "".
// A name that is itself a candidate is its own closest.
func closestName(s string, candidates []string) string {
	for _, c := range candidates {
		if strings.EqualFold(c, s) {
			return c
		}
	}
	// About one edit in three letters, and never all of a short name.
	return suggest.Closest(s, candidates, min(max(1, len(s)/3), len(s)-1))
}
