package prop_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aiogo/aio/aio"
	"pgregory.net/rapid"
)

// The future state machine drives one idle loop from the test goroutine. An
// action "on the loop" is a callback run by one loop iteration (CallSoon,
// Stop, RunForever); an action "off the loop" is a call from the test
// goroutine, whose completions travel through the loop's door and take effect
// at the next iteration. Nothing is asserted inside loop callbacks (a panic
// there would be swallowed by the loop): callbacks record, and the checks run
// on the test goroutine between iterations.

const (
	fpPending = iota
	fpResult
	fpError
	fpCancelled
)

// fpCompletion is a completion sent through the door, not yet received.
type fpCompletion struct {
	kind  int // fpResult, fpError or fpCancelled
	val   int
	err   error // for fpError
	cause error // for fpCancelled
}

// fpModel is what the future and its callbacks should look like.
type fpModel struct {
	state      int
	val        int
	err        error
	cause      error
	registered []int          // callbacks waiting for completion, in order added
	ready      []int          // callbacks scheduled for the next iteration
	door       []fpCompletion // completions sent from the test goroutine
	ran        []int          // callbacks that have run, in order
	reports    int            // late completions the error handler must have seen
	added      []int          // every callback added, in order
	removed    map[int]bool   // callbacks removed before they were scheduled
}

func (m *fpModel) done() bool { return m.state != fpPending }

// complete applies a completion on the loop: the first one wins, the
// registered callbacks are scheduled. It reports whether it won.
func (m *fpModel) complete(c fpCompletion) bool {
	if m.done() {
		return false
	}
	m.state, m.val, m.err, m.cause = c.kind, c.val, c.err, c.cause
	m.ready = append(m.ready, m.registered...)
	m.registered = nil
	return true
}

// iterate models one loop iteration: the door's completions are received
// (a late result or error of a future that was not cancelled is reported),
// then the callbacks scheduled before run, then action (the callback of an
// on-loop action, queued behind them).
func (m *fpModel) iterate(action func()) {
	for _, c := range m.door {
		if !m.complete(c) && c.kind != fpCancelled && m.state != fpCancelled {
			m.reports++
		}
	}
	m.door = nil
	batch := m.ready
	m.ready = nil
	m.ran = append(m.ran, batch...)
	if action != nil {
		action()
	}
}

// fpMachine is the real future beside its model.
type fpMachine struct {
	l       *aio.Loop
	f       *aio.Future[int]
	m       fpModel
	log     []int // callbacks that ran, as they recorded it
	removes map[int]func() bool
	reports []aio.ErrorContext
	chans   []<-chan struct{} // Done channels taken while the future was pending
	nextID  int
	causes  []error
}

// onLoop runs fn as a callback of one iteration of the real loop, and
// models the same iteration with model.
func (s *fpMachine) onLoop(t *rapid.T, fn func(), model func()) {
	if _, err := s.l.CallSoon(fn); err != nil {
		t.Fatalf("CallSoon: %v", err)
	}
	if err := s.l.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.l.RunForever(); err != nil {
		t.Fatalf("RunForever: %v", err)
	}
	s.m.iterate(model)
}

func (s *fpMachine) drawCause(t *rapid.T) error {
	i := rapid.IntRange(-1, len(s.causes)-1).Draw(t, "cause")
	if i < 0 {
		return nil
	}
	return s.causes[i]
}

func fpCheckErr(t *rapid.T, what string, got error, wantInvalid bool) {
	if wantInvalid {
		if !errors.Is(got, aio.ErrInvalidState) {
			t.Fatalf("%s = %v, want ErrInvalidState", what, got)
		}
	} else if got != nil {
		t.Fatalf("%s = %v, want nil", what, got)
	}
}

func (s *fpMachine) SetResult(t *rapid.T) {
	v := rapid.IntRange(1, 1000).Draw(t, "v")
	var got error
	var wantInvalid bool
	s.onLoop(t, func() { got = s.f.SetResult(v) }, func() {
		wantInvalid = !s.m.complete(fpCompletion{kind: fpResult, val: v})
	})
	fpCheckErr(t, "SetResult on the loop", got, wantInvalid)
}

func (s *fpMachine) SetError(t *rapid.T) {
	err := fmt.Errorf("error %d", rapid.IntRange(1, 1000).Draw(t, "e"))
	var got error
	var wantInvalid bool
	s.onLoop(t, func() { got = s.f.SetError(err) }, func() {
		wantInvalid = !s.m.complete(fpCompletion{kind: fpError, err: err})
	})
	fpCheckErr(t, "SetError on the loop", got, wantInvalid)
}

func (s *fpMachine) SetErrorNil(t *rapid.T) {
	var got error
	if rapid.Bool().Draw(t, "onLoop") {
		s.onLoop(t, func() { got = s.f.SetError(nil) }, func() {})
	} else {
		got = s.f.SetError(nil)
	}
	fpCheckErr(t, "SetError(nil)", got, true)
}

func (s *fpMachine) Cancel(t *rapid.T) {
	cause := s.drawCause(t)
	var got, want bool
	s.onLoop(t, func() { got = s.f.Cancel(cause) }, func() {
		want = s.m.complete(fpCompletion{kind: fpCancelled, cause: cause})
	})
	if got != want {
		t.Fatalf("Cancel on the loop = %v, want %v", got, want)
	}
}

func (s *fpMachine) SetResultOffLoop(t *rapid.T) {
	v := rapid.IntRange(1, 1000).Draw(t, "v")
	if err := s.f.SetResult(v); err != nil {
		t.Fatalf("SetResult from another goroutine = %v, want nil", err)
	}
	s.m.door = append(s.m.door, fpCompletion{kind: fpResult, val: v})
}

func (s *fpMachine) SetErrorOffLoop(t *rapid.T) {
	err := fmt.Errorf("late error %d", rapid.IntRange(1, 1000).Draw(t, "e"))
	if got := s.f.SetError(err); got != nil {
		t.Fatalf("SetError from another goroutine = %v, want nil", got)
	}
	s.m.door = append(s.m.door, fpCompletion{kind: fpError, err: err})
}

func (s *fpMachine) CancelOffLoop(t *rapid.T) {
	cause := s.drawCause(t)
	got := s.f.Cancel(cause)
	// From another goroutine, Cancel says only whether the future was
	// pending when it was called; the request acts at the next iteration.
	if want := !s.m.done(); got != want {
		t.Fatalf("Cancel from another goroutine = %v, want %v", got, want)
	}
	if got {
		s.m.door = append(s.m.door, fpCompletion{kind: fpCancelled, cause: cause})
	}
}

func (s *fpMachine) AddDoneCallback(t *rapid.T) {
	s.nextID++
	id := s.nextID
	var err error
	s.onLoop(t, func() {
		var rm func() bool
		rm, err = s.f.AddDoneCallback(func() { s.log = append(s.log, id) })
		s.removes[id] = rm
	}, func() {
		s.m.added = append(s.m.added, id)
		if s.m.done() {
			s.m.ready = append(s.m.ready, id) // scheduled at once
		} else {
			s.m.registered = append(s.m.registered, id)
		}
	})
	if err != nil {
		t.Fatalf("AddDoneCallback: %v", err)
	}
}

func (s *fpMachine) AddDoneCallbackOffLoop(t *rapid.T) {
	if _, err := s.f.AddDoneCallback(func() {}); !errors.Is(err, aio.ErrNotOnLoop) {
		t.Fatalf("AddDoneCallback from another goroutine = %v, want ErrNotOnLoop", err)
	}
}

func (s *fpMachine) RemoveCallback(t *rapid.T) {
	if len(s.m.added) == 0 {
		t.Skip("no callback")
	}
	id := rapid.SampledFrom(s.m.added).Draw(t, "callback")
	var got, want bool
	s.onLoop(t, func() { got = s.removes[id]() }, func() {
		if i := slices.Index(s.m.registered, id); i >= 0 {
			s.m.registered = slices.Delete(s.m.registered, i, i+1)
			s.m.removed[id] = true
			want = true
		}
	})
	if got != want {
		t.Fatalf("remove of callback %d = %v, want %v", id, got, want)
	}
}

func (s *fpMachine) Iterate(t *rapid.T) {
	if err := s.l.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.l.RunForever(); err != nil {
		t.Fatalf("RunForever: %v", err)
	}
	s.m.iterate(nil)
}

func (s *fpMachine) TakeDoneChan(t *rapid.T) {
	ch := s.f.Done()
	if !s.m.done() {
		s.chans = append(s.chans, ch)
	}
}

func (s *fpMachine) Check(t *rapid.T) {
	m := &s.m
	if s.f.IsDone() != m.done() || s.f.Canceled() != (m.state == fpCancelled) {
		t.Fatalf("IsDone=%v Cancelled=%v, model state %d", s.f.IsDone(), s.f.Canceled(), m.state)
	}
	v, err := s.f.Result()
	switch m.state {
	case fpPending:
		if !errors.Is(err, aio.ErrInvalidState) || v != 0 {
			t.Fatalf("Result of a pending future = %d, %v", v, err)
		}
	case fpResult:
		if v != m.val || err != nil {
			t.Fatalf("Result = %d, %v; want %d, nil", v, err, m.val)
		}
	case fpError:
		if v != 0 || err != m.err {
			t.Fatalf("Result = %d, %v; want 0, %v", v, err, m.err)
		}
	case fpCancelled:
		var ce *aio.CanceledError
		want := m.cause
		if want == nil {
			want = context.Canceled
		}
		if !errors.As(err, &ce) || !errors.Is(err, context.Canceled) || aio.Cause(err) != want {
			t.Fatalf("Result of a cancelled future = %v, want a cancellation with cause %v", err, want)
		}
	}
	for _, ch := range s.chans {
		select {
		case <-ch:
			if !m.done() {
				t.Fatal("Done channel closed while pending")
			}
		default:
			if m.done() {
				t.Fatal("Done channel open after completion")
			}
		}
	}
	if !slices.Equal(s.log, m.ran) {
		t.Fatalf("callbacks ran %v, model %v", s.log, m.ran)
	}
	// Model-free properties: each callback runs at most once, in the order
	// added, and a removed one never.
	for i := 1; i < len(s.log); i++ {
		if s.log[i] <= s.log[i-1] {
			t.Fatalf("callbacks ran out of order or twice: %v", s.log)
		}
	}
	for _, id := range s.log {
		if m.removed[id] {
			t.Fatalf("removed callback %d ran", id)
		}
	}
	if len(s.reports) != m.reports {
		t.Fatalf("%d late completions reported, want %d: %+v", len(s.reports), m.reports, s.reports)
	}
	for _, r := range s.reports {
		if !errors.Is(r.Err, aio.ErrInvalidState) {
			t.Fatalf("report %+v", r)
		}
	}
}

func TestPropFutureStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l, err := aio.NewLoop()
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		s := &fpMachine{
			l:       l,
			f:       aio.NewFuture[int](l),
			removes: map[int]func() bool{},
			causes:  []error{errors.New("cause A"), errors.New("cause B"), context.DeadlineExceeded},
		}
		s.m.removed = map[int]bool{}
		l.SetErrorHandler(func(_ *aio.Loop, c aio.ErrorContext) { s.reports = append(s.reports, c) })
		t.Repeat(rapid.StateMachineActions(s))
		// Drain: every pending completion and callback is delivered.
		s.Iterate(t)
		s.Iterate(t)
		s.Check(t)
		if s.m.done() {
			for _, id := range s.m.added {
				n := 0
				for _, r := range s.log {
					if r == id {
						n++
					}
				}
				if want := map[bool]int{true: 0, false: 1}[s.m.removed[id]]; n != want {
					t.Fatalf("callback %d ran %d times, want %d", id, n, want)
				}
			}
		} else if len(s.log) != 0 {
			t.Fatalf("callbacks of a pending future ran: %v", s.log)
		}
	})
}
