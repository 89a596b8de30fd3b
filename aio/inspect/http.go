package inspect

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/aiogo/aio/aio"
)

// DumpTimeout bounds how long Handler waits for its loop to answer.
const DumpTimeout = 5 * time.Second

// Handler returns an http.Handler that serves l's task dump, to mount
// beside net/http/pprof:
//
//	mux.Handle("/debug/aio/tasks", inspect.Handler(l))
//
// GET returns the dump as text (Dump.WriteText), or with ?format=json as
// JSON (a Dump); ?stacks=1 adds each task's stack. The request goes
// through the loop's door (DumpWait): if the loop does not answer within
// DumpTimeout (or before the request is cancelled), the handler answers 503
// Service Unavailable, saying so; for a closed loop, 410 Gone. Methods other
// than GET and HEAD get 405, a bad format 400.
func Handler(l *aio.Loop) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "aio: the task dump takes GET", http.StatusMethodNotAllowed)
			return
		}
		q := r.URL.Query()
		format := q.Get("format")
		if format != "" && format != "text" && format != "json" {
			http.Error(w, "aio: format must be text or json", http.StatusBadRequest)
			return
		}
		opts := aio.DumpOptions{Stacks: q.Get("stacks") == "1" || q.Get("stacks") == "true"}
		ctx, cancel := context.WithTimeout(r.Context(), DumpTimeout)
		defer cancel()
		d, err := l.DumpWait(ctx, opts)
		if err != nil {
			code := http.StatusServiceUnavailable
			if errors.Is(err, aio.ErrClosed) {
				code = http.StatusGone
			}
			http.Error(w, err.Error(), code)
			return
		}
		if format == "json" {
			b, err := d.JSON()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(append(b, '\n'))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_ = d.WriteText(w)
	})
}
