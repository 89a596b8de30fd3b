package inspect

import (
	"errors"
	"expvar"
	"fmt"
	"sort"
	"sync"

	"github.com/aiogo/aio/aio"
)

// ErrMetricsName is returned (wrapped) by PublishMetrics for an empty name
// or one another live loop is published under.
var ErrMetricsName = errors.New("inspect: bad metrics name")

// MetricsVar is the name of the expvar.Var that PublishMetrics publishes:
// a JSON object with one member per published live loop, its Metrics.
const MetricsVar = "aio"

// metricsRegistry holds the loops published under expvar MetricsVar. Names
// are the registry's, not expvar's (whose names are process-global and
// cannot be unpublished), so that loops come and go: a loop leaves the
// registry when it closes, and its name may then be taken again.
var metricsRegistry struct {
	once  sync.Once
	mu    sync.Mutex
	loops map[string]*aio.Loop
}

// PublishMetrics publishes the loop's metrics through expvar (and so at
// /debug/vars on http.DefaultServeMux, if the program serves it): the
// process-wide expvar MetricsVar ("aio") is a JSON object with one member
// per published live loop, named name, holding its Metrics as JSON (with
// busy_ns and utilization). The loop leaves it when it closes. A loop may
// be published under several names; publishing it again under the same
// name does nothing.
//
// Any goroutine. It returns an error matching ErrMetricsName for an empty
// name or one that another live loop has, aio.ErrClosed on a closed loop, and
// aio.ErrNoLoop on a nil or zero one. If the program has published an expvar named
// "aio" of its own, the first call panics, as expvar.Publish does.
func PublishMetrics(l *aio.Loop, name string) error {
	if l == nil {
		return fmt.Errorf("inspect: PublishMetrics: a nil loop: %w", aio.ErrNoLoop)
	}
	if l.IsClosed() {
		return fmt.Errorf("inspect: PublishMetrics: %w", aio.ErrClosed)
	}
	if name == "" {
		return fmt.Errorf("%w: PublishMetrics: empty name", ErrMetricsName)
	}
	r := &metricsRegistry
	r.once.Do(func() {
		r.loops = make(map[string]*aio.Loop)
		expvar.Publish(MetricsVar, expvar.Func(publishedLoops))
	})
	r.mu.Lock()
	if other, ok := r.loops[name]; ok {
		r.mu.Unlock()
		if other == l {
			return nil
		}
		return fmt.Errorf("%w: PublishMetrics: %q is the name of another live loop", ErrMetricsName, name)
	}
	r.loops[name] = l
	r.mu.Unlock()
	if _, err := l.OnClose(func() { unpublishMetrics(name, l) }); err != nil {
		unpublishMetrics(name, l)
		return fmt.Errorf("inspect: PublishMetrics: %w", err)
	}
	return nil
}

// unpublishMetrics takes l out of the registry under name.
func unpublishMetrics(name string, l *aio.Loop) {
	r := &metricsRegistry
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.loops[name] == l {
		delete(r.loops, name)
	}
}

// publishedLoops is the value of the expvar: the metrics of every
// published loop, by name.
func publishedLoops() any {
	r := &metricsRegistry
	r.mu.Lock()
	names := make([]string, 0, len(r.loops))
	loops := make([]*aio.Loop, 0, len(r.loops))
	for name := range r.loops {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		loops = append(loops, r.loops[name])
	}
	r.mu.Unlock()
	out := make(map[string]aio.Metrics, len(names))
	for i, name := range names {
		out[name] = loops[i].Metrics()
	}
	return out
}
