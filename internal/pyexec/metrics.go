package pyexec

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
)

// Metrics are the user metrics of a job's functions (FunctionContext's
// metric group), summed over bundles: counters add, distributions merge,
// gauges keep the latest value.
type Metrics struct {
	mu       sync.Mutex
	counters map[string]int64
	dists    map[string]*Distribution
	gauges   map[string]gauge
}

// Distribution summarises the values given to a distribution metric.
type Distribution struct{ Count, Sum, Min, Max int64 }

type gauge struct{ at, value int64 }

func newMetrics() *Metrics {
	return &Metrics{counters: map[string]int64{}, dists: map[string]*Distribution{}, gauges: map[string]gauge{}}
}

// The metrics of weir's functions live in this Beam namespace.
const metricNamespace = "weir"

// add merges the user metrics of one bundle's response.
func (m *Metrics) add(r *fnpb.ProcessBundleResponse) {
	if r == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mi := range r.GetMonitoringInfos() {
		if !strings.HasPrefix(mi.GetUrn(), "beam:metric:user:") || mi.GetLabels()["NAMESPACE"] != metricNamespace {
			continue
		}
		name := mi.GetLabels()["NAME"]
		vs, ok := varints(mi.GetPayload())
		if !ok {
			continue
		}
		switch {
		case strings.HasSuffix(mi.GetType(), "sum_int64:v1") && len(vs) == 1:
			m.counters[name] += vs[0]
		case strings.HasSuffix(mi.GetType(), "distribution_int64:v1") && len(vs) == 4:
			d := m.dists[name]
			if d == nil {
				d = &Distribution{Min: vs[2], Max: vs[3]}
				m.dists[name] = d
			}
			d.Count += vs[0]
			d.Sum += vs[1]
			d.Min = min(d.Min, vs[2])
			d.Max = max(d.Max, vs[3])
		case strings.HasSuffix(mi.GetType(), "latest_int64:v1") && len(vs) == 2:
			if g, ok := m.gauges[name]; !ok || vs[0] >= g.at {
				m.gauges[name] = gauge{at: vs[0], value: vs[1]}
			}
		}
	}
}

// varints decodes a payload of Beam VarInt-coded int64s.
func varints(p []byte) ([]int64, bool) {
	var out []int64
	for len(p) > 0 {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			return nil, false
		}
		out = append(out, int64(v))
		p = p[n:]
	}
	return out, true
}

// Lines renders the metrics for the job summary, sorted by name.
func (m *Metrics) Lines() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k, v := range m.counters {
		out = append(out, fmt.Sprintf("counter %s = %d", k, v))
	}
	for k, d := range m.dists {
		mean := 0.0
		if d.Count > 0 {
			mean = float64(d.Sum) / float64(d.Count)
		}
		out = append(out, fmt.Sprintf("distribution %s: count=%d sum=%d min=%d max=%d mean=%.2f", k, d.Count, d.Sum, d.Min, d.Max, mean))
	}
	for k, g := range m.gauges {
		out = append(out, fmt.Sprintf("gauge %s = %d", k, g.value))
	}
	sort.Slice(out, func(i, j int) bool {
		return strings.SplitN(out[i], " ", 2)[1] < strings.SplitN(out[j], " ", 2)[1]
	})
	return out
}

// latencies records how long batches spend in Python stages.
type latencies struct {
	mu sync.Mutex
	ds []time.Duration
}

// maxLatencies bounds the samples kept (a batch is thousands of rows, so
// this covers billions of rows); later samples replace earlier ones.
const maxLatencies = 1 << 20

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	if len(l.ds) < maxLatencies {
		l.ds = append(l.ds, d)
	} else {
		l.ds[rand.IntN(maxLatencies)] = d
	}
	l.mu.Unlock()
}

func (l *latencies) percentiles(ps ...float64) ([]time.Duration, int) {
	l.mu.Lock()
	ds := append([]time.Duration(nil), l.ds...)
	l.mu.Unlock()
	out := make([]time.Duration, len(ps))
	if len(ds) == 0 {
		return out, 0
	}
	slices.Sort(ds)
	for i, p := range ps {
		k := int(p / 100 * float64(len(ds)-1))
		out[i] = ds[max(0, min(k, len(ds)-1))]
	}
	return out, len(ds)
}
