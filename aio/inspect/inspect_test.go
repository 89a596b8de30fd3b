package inspect_test

import (
	"encoding/json"
	"errors"
	"expvar"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/inspect"
)

// runLoop runs l on a goroutine of its own and returns a function that
// stops and closes it.
func runLoop(t *testing.T, l *aio.Loop) (stop func()) {
	t.Helper()
	ran := make(chan error, 1)
	go func() { ran <- l.RunForever() }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		l.Stop()
		if err := <-ran; err != nil {
			t.Error(err)
		}
		l.Close()
	}
	t.Cleanup(stop)
	return stop
}

// Handler serves the dump as text and as JSON (with stacks on request),
// refuses other methods and unknown formats, and answers 410 for a closed
// loop.
func TestHandler(t *testing.T) {
	l, err := aio.NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	sleeper := func(c *aio.Ctx) (int, error) { return 0, aio.Sleep(c, time.Hour) }
	if _, err := aio.Spawn(l, sleeper, aio.WithName("sleeper")); err != nil {
		t.Fatal(err)
	}
	stop := runLoop(t, l)
	h := inspect.Handler(l)
	get := func(url string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		return rec
	}
	rec := get("/debug/aio/tasks")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") ||
		!strings.Contains(rec.Body.String(), "sleeper#") {
		t.Errorf("text: %d %q\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	rec = get("/debug/aio/tasks?format=json&stacks=1")
	var d aio.Dump
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("json: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil || len(d.Tasks) != 1 || d.Tasks[0].Name != "sleeper" {
		t.Errorf("json: %v, %+v\n%s", err, d.Tasks, rec.Body)
	}
	if rec := get("/?format=xml"); rec.Code != http.StatusBadRequest {
		t.Errorf("format=xml: %d", rec.Code)
	}
	post := httptest.NewRecorder()
	h.ServeHTTP(post, httptest.NewRequest(http.MethodPost, "/", nil))
	if post.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", post.Code)
	}
	stop()
	if rec := get("/"); rec.Code != http.StatusGone {
		t.Errorf("closed loop: %d %s", rec.Code, rec.Body)
	}
}

// PublishMetrics publishes a loop under its name in the expvar "aio",
// whose value parses as JSON with the loop's figures; a name another live
// loop has is refused, as is an empty one; a closed loop leaves the expvar
// and its name may be taken again; a nil loop is refused.
func TestPublishMetrics(t *testing.T) {
	a, _ := aio.NewLoop()
	b, _ := aio.NewLoop()
	defer b.Close()
	if err := inspect.PublishMetrics(a, "inspect-a"); err != nil {
		t.Fatal(err)
	}
	if err := inspect.PublishMetrics(a, "inspect-a"); err != nil {
		t.Errorf("publishing again under the same name: %v", err)
	}
	if err := inspect.PublishMetrics(b, "inspect-a"); !errors.Is(err, inspect.ErrMetricsName) {
		t.Errorf("a name in use: %v, want ErrMetricsName", err)
	}
	if err := inspect.PublishMetrics(b, ""); !errors.Is(err, inspect.ErrMetricsName) {
		t.Errorf("an empty name: %v, want ErrMetricsName", err)
	}
	if err := inspect.PublishMetrics(nil, "x"); !errors.Is(err, aio.ErrNoLoop) {
		t.Errorf("a nil loop: %v, want ErrNoLoop", err)
	}
	done := false
	a.CallSoon(func() { done = true })
	if err := a.RunUntil(func() bool { return done }); err != nil {
		t.Fatal(err)
	}
	parse := func() map[string]map[string]any {
		t.Helper()
		v := expvar.Get(inspect.MetricsVar)
		if v == nil {
			t.Fatalf("no expvar %q", inspect.MetricsVar)
		}
		var all map[string]map[string]any
		if err := json.Unmarshal([]byte(v.String()), &all); err != nil {
			t.Fatalf("expvar %q: %v in %s", inspect.MetricsVar, err, v.String())
		}
		return all
	}
	ja, ok := parse()["inspect-a"]
	if !ok {
		t.Fatal("loop a not in the expvar")
	}
	for _, k := range []string{"running", "live_tasks", "iterations", "callbacks", "run_ns", "busy_ns", "utilization", "lag"} {
		if _, ok := ja[k]; !ok {
			t.Errorf("loop a's JSON has no %q: %v", k, ja)
		}
	}
	if cb, _ := ja["callbacks"].(float64); cb != 1 {
		t.Errorf("callbacks %v, want 1", ja["callbacks"])
	}
	a.Close()
	if _, ok := parse()["inspect-a"]; ok {
		t.Error("a closed loop is still in the expvar")
	}
	if err := inspect.PublishMetrics(a, "inspect-c"); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("a closed loop: %v, want ErrClosed", err)
	}
	if err := inspect.PublishMetrics(b, "inspect-a"); err != nil {
		t.Errorf("taking the name of a closed loop: %v", err)
	}
}
