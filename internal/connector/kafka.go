package connector

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-dev/weir/internal/format"
	"github.com/weir-dev/weir/internal/types"
)

// The kafka connector reads and writes one Kafka topic with Flink's options
// (franz-go is the client):
//
//   - 'topic' (required), 'properties.bootstrap.servers' (required),
//     'properties.group.id' (required by scan.startup.mode 'group-offsets').
//   - 'properties.<key>': the Kafka client properties weir's client takes
//     (kafkaProperties below); others are refused by name.
//   - 'format', or 'value.format' and 'key.format' with 'key.fields' (a
//     ';'-separated list of columns) and 'value.fields-include' ('ALL', the
//     default, or 'EXCEPT_KEY'); 'key.fields-prefix'. Format options go
//     under the format's name ('json.ignore-parse-errors'), prefixed with
//     'key.' or 'value.' for key.format and value.format, as in Flink.
//   - Sources: 'scan.startup.mode' ('group-offsets' by default, as in Flink,
//     'earliest-offset', 'latest-offset', 'timestamp' with
//     'scan.startup.timestamp-millis', 'specific-offsets' with
//     'scan.startup.specific-offsets' =
//     'partition:0,offset:42;partition:1,offset:300'); 'scan.bounded.mode'
//     ('unbounded' by default, 'latest-offset', 'group-offsets',
//     'timestamp' with 'scan.bounded.timestamp-millis', 'specific-offsets'
//     with 'scan.bounded.specific-offsets'): a bounded source reads up to
//     the offsets its bound gives when the job starts, then ends.
//   - Sinks: 'sink.delivery-guarantee' ('at-least-once' by default,
//     'none', 'exactly-once' with 'sink.transactional-id-prefix'),
//     'sink.partitioner' ('default': by key hash, sticky without a key;
//     'round-robin'; 'fixed': partition 0, weir's one writer).
//
// An exactly-once sink writes in Kafka transactions whose ids are the
// prefix + "-0", "-1", "-2" (starting the sink fences and aborts what an
// earlier run with the same prefix left open). Without checkpoints the job
// is one transaction: Commit commits it and Abort aborts it, so a
// read_committed consumer sees all of the job's rows or none. With
// checkpoints (execution.checkpointing.interval) each checkpoint's rows are
// one transaction, committed with a marker once the checkpoint is stored,
// so that a job resumed after a crash knows which commits happened
// (kafka_txn.go). At-least-once sinks flush at each checkpoint.
//
// The source does not commit offsets to its group.

var kafkaCommonOptions = []string{
	"topic", "properties.bootstrap.servers", "properties.group.id",
	"format", "key.format", "value.format", "key.fields", "key.fields-prefix", "value.fields-include",
}

var kafkaSourceOptions = []string{
	"scan.startup.mode", "scan.startup.timestamp-millis", "scan.startup.specific-offsets",
	"scan.bounded.mode", "scan.bounded.timestamp-millis", "scan.bounded.specific-offsets",
	"scan.topic-partition-discovery.interval",
}

var kafkaSinkOptions = []string{
	"sink.delivery-guarantee", "sink.transactional-id-prefix", "sink.partitioner", "sink.parallelism",
}

// kafkaProperties are the Kafka client properties weir's client takes, and
// for each the client option it sets.
var kafkaProperties = map[string]func(v string) (kgo.Opt, error){
	"client.id": func(v string) (kgo.Opt, error) { return kgo.ClientID(v), nil },
	"isolation.level": func(v string) (kgo.Opt, error) {
		switch v {
		case "read_committed":
			return kgo.FetchIsolationLevel(kgo.ReadCommitted()), nil
		case "read_uncommitted":
			return kgo.FetchIsolationLevel(kgo.ReadUncommitted()), nil
		}
		return nil, fmt.Errorf("must be 'read_committed' or 'read_uncommitted'")
	},
	"auto.offset.reset": func(v string) (kgo.Opt, error) {
		if v != "earliest" && v != "latest" && v != "none" {
			return nil, fmt.Errorf("must be 'earliest', 'latest' or 'none'")
		}
		return nil, nil // read by the source
	},
	"transaction.timeout.ms": func(v string) (kgo.Opt, error) {
		ms, err := positiveInt(v)
		return kgo.TransactionTimeout(time.Duration(ms) * time.Millisecond), err
	},
	"linger.ms": func(v string) (kgo.Opt, error) {
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 0 {
			return nil, fmt.Errorf("must be a number of milliseconds >= 0")
		}
		return kgo.ProducerLinger(time.Duration(ms) * time.Millisecond), nil
	},
	"batch.size": func(v string) (kgo.Opt, error) {
		n, err := positiveInt(v)
		return kgo.ProducerBatchMaxBytes(int32(n)), err
	},
	"compression.type": func(v string) (kgo.Opt, error) {
		codec, ok := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}[v]
		if !ok {
			return nil, fmt.Errorf("must be 'none', 'gzip', 'snappy', 'lz4' or 'zstd'")
		}
		return kgo.ProducerBatchCompression(codec), nil
	},
	"fetch.max.bytes": func(v string) (kgo.Opt, error) {
		n, err := positiveInt(v)
		return kgo.FetchMaxBytes(int32(n)), err
	},
	"max.partition.fetch.bytes": func(v string) (kgo.Opt, error) {
		n, err := positiveInt(v)
		return kgo.FetchMaxPartitionBytes(int32(n)), err
	},
	"request.timeout.ms": func(v string) (kgo.Opt, error) {
		ms, err := positiveInt(v)
		return kgo.RequestTimeoutOverhead(time.Duration(ms) * time.Millisecond), err
	},
}

func positiveInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > 1<<31-1 {
		return 0, fmt.Errorf("must be a whole number > 0")
	}
	return n, nil
}

// kafkaConfig is a kafka table's options, read and checked.
type kafkaConfig struct {
	table     string
	topic     string
	brokers   []string
	group     string
	props     map[string]string
	clientOpt []kgo.Opt
	schema    types.Schema
	// key and value: the formats and the columns (indexes into schema)
	// they carry; key is nil without 'key.format'.
	key, value       *format.Format
	keyCols, valCols []int
	keyPrefix        string
	valuePrefix      string   // of the value format's options: "" or "value."
	known            []string // the options of the table's role, for o.finish
}

// readKafkaConfig reads the options shared by the source and the sink;
// extra are the role's own options, which the caller reads before calling
// o.finish(c.known).
func readKafkaConfig(o *options, schema types.Schema, extra []string) (*kafkaConfig, error) {
	c := &kafkaConfig{table: o.table, schema: schema, props: map[string]string{}}
	topic, ok := o.get("topic")
	if !ok || strings.TrimSpace(topic) == "" {
		if _, ok := o.m["topic-pattern"]; ok {
			return nil, o.errorf("option 'topic-pattern' is not supported by weir; name one 'topic'")
		}
		return nil, o.errorf("option 'topic' is required")
	}
	if strings.Contains(topic, ";") {
		return nil, o.bad("topic", "weir reads and writes one topic per table; name one topic")
	}
	c.topic = strings.TrimSpace(topic)
	servers, ok := o.get("properties.bootstrap.servers")
	if !ok || strings.TrimSpace(servers) == "" {
		return nil, o.errorf("option 'properties.bootstrap.servers' is required (e.g. 'localhost:9092')")
	}
	for _, s := range strings.Split(servers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.brokers = append(c.brokers, s)
		}
	}
	c.group, _ = o.get("properties.group.id")
	var propKeys []string
	for k := range kafkaProperties {
		propKeys = append(propKeys, "properties."+k)
	}
	sort.Strings(propKeys)
	for k, v := range o.m {
		name, ok := strings.CutPrefix(k, "properties.")
		if !ok || k == "properties.bootstrap.servers" || k == "properties.group.id" {
			continue
		}
		o.get(k)
		set, ok := kafkaProperties[name]
		if !ok {
			msg := fmt.Sprintf("Kafka client property '%s' is not supported by weir's Kafka client; the properties it takes are %s", name, strings.Join(propKeys, ", "))
			if s := closestName(k, propKeys); s != "" {
				msg = fmt.Sprintf("Kafka client property '%s' is unknown to weir; did you mean '%s'?", name, s)
			}
			return nil, o.errorf("option '%s': %s", k, msg)
		}
		opt, err := set(v)
		if err != nil {
			return nil, o.bad(k, "%v", err)
		}
		if opt != nil {
			c.clientOpt = append(c.clientOpt, opt)
		}
		c.props[name] = v
	}
	if err := c.readFormats(o); err != nil {
		return nil, err
	}
	known := slices.Concat(kafkaCommonOptions, extra, propKeys)
	for _, name := range []*format.Format{c.key, c.value} {
		if name != nil {
			for _, k := range format.Options(name.Name()) {
				known = append(known, k, "key."+k, "value."+k)
			}
		}
	}
	c.known = known
	return c, nil
}

// readFormats reads 'format' / 'key.format' / 'value.format' and the
// columns each carries.
func (c *kafkaConfig) readFormats(o *options) error {
	plain, hasPlain := o.get("format")
	valueName, hasValue := o.get("value.format")
	keyName, hasKey := o.get("key.format")
	switch {
	case hasPlain && hasValue:
		return o.errorf("options 'format' and 'value.format' are both set; set one of them")
	case !hasPlain && !hasValue:
		return o.errorf("option 'format' (or 'value.format') is required; weir's formats are %s", strings.Join(format.Names, ", "))
	}
	if hasValue {
		c.valuePrefix = "value."
	} else {
		valueName = plain
	}
	keyFields, hasKeyFields := o.get("key.fields")
	c.keyPrefix, _ = o.get("key.fields-prefix")
	include := "ALL"
	if v, ok := o.get("value.fields-include"); ok {
		include = strings.ToUpper(v)
		if include != "ALL" && include != "EXCEPT_KEY" {
			return o.bad("value.fields-include", "must be 'ALL' or 'EXCEPT_KEY'")
		}
	}
	if hasKey != hasKeyFields {
		if hasKey {
			return o.errorf("option 'key.format' needs 'key.fields', the ';'-separated columns of the key")
		}
		return o.errorf("option 'key.fields' needs 'key.format', the format of the key")
	}
	inKey := map[int]bool{}
	if hasKey {
		for _, name := range strings.Split(keyFields, ";") {
			name = strings.TrimSpace(name)
			j := slices.IndexFunc(c.schema, func(f types.Field) bool { return f.Name == name })
			if j < 0 {
				return o.bad("key.fields", "column '%s' is not a column of the table", name)
			}
			if !strings.HasPrefix(name, c.keyPrefix) {
				return o.bad("key.fields", "column '%s' does not start with 'key.fields-prefix' '%s'", name, c.keyPrefix)
			}
			if inKey[j] {
				return o.bad("key.fields", "column '%s' is named twice", name)
			}
			inKey[j] = true
			c.keyCols = append(c.keyCols, j)
		}
		var keySchema types.Schema
		for _, j := range c.keyCols {
			f := c.schema[j]
			f.Name = strings.TrimPrefix(f.Name, c.keyPrefix)
			keySchema = append(keySchema, f)
		}
		var err error
		if c.key, err = c.openFormat(o, "key.format", keyName, "key.", keySchema); err != nil {
			return err
		}
	} else if c.keyPrefix != "" {
		return o.errorf("option 'key.fields-prefix' needs 'key.format' and 'key.fields'")
	}
	if include == "EXCEPT_KEY" && !hasKey {
		return o.errorf("option 'value.fields-include' = 'EXCEPT_KEY' needs 'key.format' and 'key.fields'")
	}
	if include == "ALL" && c.keyPrefix != "" {
		return o.errorf("option 'key.fields-prefix' needs 'value.fields-include' = 'EXCEPT_KEY' (as in Flink)")
	}
	var valSchema types.Schema
	for j, f := range c.schema {
		if include == "EXCEPT_KEY" && inKey[j] {
			continue
		}
		c.valCols = append(c.valCols, j)
		valSchema = append(valSchema, f)
	}
	if len(valSchema) == 0 {
		return o.errorf("every column is in the key and 'value.fields-include' is 'EXCEPT_KEY': the value would be empty; include the columns in the value ('ALL')")
	}
	key := "format"
	if hasValue {
		key = "value.format"
	}
	var err error
	c.value, err = c.openFormat(o, key, valueName, c.valuePrefix, valSchema)
	return err
}

// openFormat opens a format whose options are under prefix + its name.
func (c *kafkaConfig) openFormat(o *options, key, name, prefix string, schema types.Schema) (*format.Format, error) {
	if !slices.Contains(format.Names, name) {
		return nil, o.bad(key, "weir's formats are %s", strings.Join(format.Names, ", "))
	}
	f, err := format.Open(name, schema, func(k string) (string, bool) { return o.get(prefix + k) })
	if oe, ok := err.(*format.OptionError); ok {
		return nil, o.bad(prefix+oe.Key, "%s", oe.Msg)
	}
	if err != nil {
		return nil, o.errorf("%s '%s': %v", key, name, err)
	}
	return f, nil
}

// kafkaPosition is 'partition:0,offset:42;partition:1,offset:300'.
func parseSpecificOffsets(o *options, key string) (map[int32]int64, error) {
	v, ok := o.get(key)
	if !ok {
		return nil, o.errorf("option '%s' is required by its mode 'specific-offsets' (e.g. 'partition:0,offset:42;partition:1,offset:300')", key)
	}
	out := map[int32]int64{}
	for _, part := range strings.Split(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, off, ok := strings.Cut(part, ",")
		pn, err1 := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(p), "partition:"), 10, 32)
		on, err2 := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(off), "offset:"), 10, 64)
		if !ok || !strings.HasPrefix(strings.TrimSpace(p), "partition:") || !strings.HasPrefix(strings.TrimSpace(off), "offset:") || err1 != nil || err2 != nil || pn < 0 || on < 0 {
			return nil, o.bad(key, "'%s' is not 'partition:<n>,offset:<n>' (entries separated by ';')", part)
		}
		out[int32(pn)] = on
	}
	return out, nil
}

func parseMillis(o *options, key, mode string) (int64, error) {
	v, ok := o.get(key)
	if !ok {
		return 0, o.errorf("option '%s' is required by its mode '%s' (milliseconds since 1970-01-01 UTC)", key, mode)
	}
	ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || ms < 0 {
		return 0, o.bad(key, "must be milliseconds since 1970-01-01 UTC (a whole number >= 0)")
	}
	return ms, nil
}

// clientOpts are the options of every client of the table.
func (c *kafkaConfig) clientOpts(extra ...kgo.Opt) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(c.brokers...), kgo.MetadataMinAge(250 * time.Millisecond)}
	opts = append(opts, extra...)
	return append(opts, c.clientOpt...)
}

// where names a record's place in error messages.
func (c *kafkaConfig) where(partition int32, offset int64) string {
	return fmt.Sprintf("table '%s': kafka topic '%s' partition %d offset %d", c.table, c.topic, partition, offset)
}
