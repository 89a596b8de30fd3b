package aio

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Per-loop values: what a sibling package keeps for each loop it is used on
// (socket's fd watchers, transport's shared read buffer, executor's default
// pool, loops' close watch, subprocess's children), made at the first use
// and released by a close hook of that loop. The values live in the loop
// itself, in a table indexed by the LoopValue's number: a loop that is
// dropped takes its values with it, and nothing process-wide keeps a loop.

// A LoopValue is a slot holding one value of type *T per loop: made by its
// make function at the first Get on that loop, kept in the loop, and
// released when the loop closes (release is called from a close hook, see
// Loop.OnClose: after the loop's tasks have ended, as loop code, in
// OnClose's order, last registered first). It replaces a process-wide map
// keyed by *Loop and a close hook to empty it. The values are kept in the
// loop itself and a LoopValue refers to no loop: a closed loop's value is
// dropped at its release, and a loop that nobody references any more is
// collected with its values.
//
// Make a LoopValue once, as a package-level variable, with NewLoopValue:
// each one takes a number for the life of the process, and each loop keeps
// a table as long as the highest number used on it.
//
// The rules:
//
//   - make runs once per loop: concurrent Gets of a value not made yet wait
//     for the one that makes it. It runs on the goroutine of the Get that
//     makes it (any goroutine), and should be short: a Get on the loop
//     goroutine may be waiting for it. The close hook is registered before
//     make is called, so make is never called for a loop that no longer
//     accepts close hooks; hooks that make itself registers run before
//     release, unless make is still running on another goroutine when the
//     loop's close reaches the value's hook (the hook waits for make; what
//     make registers after that point runs after release).
//   - make must not Get the same LoopValue on the same loop: such a Get
//     returns an error matching ErrInvalidState (it is detected on the same
//     goroutine; a make that waits for another goroutine doing it
//     deadlocks). make must not wait for the loop, nor close it.
//   - A make that returns an error (or a nil value) makes nothing: Get
//     returns the error, and the next Get calls make again. A make that
//     panics makes nothing either: the panic goes on in the Get that called
//     make, and the Gets that waited for it return a *PanicError.
//   - Get returns the value while the loop closes, up to its release: to
//     the unwinding tasks and to the close hooks that run before it. From
//     the start of its release on, Get returns an error matching ErrClosed
//     and Lookup reports no value. A value not made yet can be made while
//     OnClose still accepts hooks (during the unwinding and the close
//     hooks; a package whose make checks Loop.IsClosed refuses it from the
//     start of Close); once the loop is closed, Get returns an error
//     matching ErrClosed.
//   - release runs once per made value, unless Delete dropped the value
//     first. It may be nil: the value is dropped at close all the same.
type LoopValue[T any] struct {
	id      int // the value's index in a loop's table; 0 for a LoopValue not made by NewLoopValue
	make    func(*Loop) (*T, error)
	release func(*Loop, *T)
}

// loopValueIDs numbers the LoopValues made by NewLoopValue, from 1.
var loopValueIDs atomic.Int64

// released marks, in a loop's table, a value whose release has started.
var released = new(byte)

// NewLoopValue returns a LoopValue whose value for a loop l is made by
// make(l) at the first Get on l, and released by release(l, v) when l
// closes (release may be nil). It panics with an error matching ErrNilFunc
// if make is nil. Call it once, for a package-level variable.
func NewLoopValue[T any](make func(*Loop) (*T, error), release func(*Loop, *T)) *LoopValue[T] {
	if make == nil {
		panic(fmt.Errorf("%w: NewLoopValue: a nil make function", ErrNilFunc))
	}
	return &LoopValue[T]{id: int(loopValueIDs.Add(1)), make: make, release: release}
}

// Get returns l's value, making it with the LoopValue's make function if it
// is not made yet. It may be called from any goroutine; when the value is
// made it costs one atomic load and takes no lock. It returns an error
// matching ErrNoLoop for a nil or zero l, ErrClosed once the value's
// release has started or the loop is closed (see LoopValue for the rules at
// close), ErrInvalidState when called by the make function of the same
// LoopValue for the same loop, ErrNilFunc on a LoopValue not made by
// NewLoopValue, and make's error if make fails.
func (v *LoopValue[T]) Get(l *Loop) (*T, error) {
	if v != nil && l != nil {
		if p := l.values.load(v.id); p != nil && p != unsafe.Pointer(released) {
			return (*T)(p), nil
		}
	}
	return v.get(l)
}

// Lookup returns l's value and true if it is made and not released, nil
// and false otherwise (it makes nothing). Any goroutine; it takes no lock.
func (v *LoopValue[T]) Lookup(l *Loop) (*T, bool) {
	if v == nil || l == nil {
		return nil, false
	}
	if p := l.values.load(v.id); p != nil && p != unsafe.Pointer(released) {
		return (*T)(p), true
	}
	return nil, false
}

// Delete drops l's value without releasing it, and removes its close hook:
// for a package that releases what the value holds itself once it is idle
// (subprocess's registry of children, when the last one is reaped). The
// next Get makes a new value, with a new close hook. Delete reports whether
// there was a value to drop: false if none is made, or while it is being
// made or released. Any goroutine; the caller sees to it that nobody uses
// the dropped value afterwards (a Get that ran just before Delete may have
// returned it), which is simplest when only the loop goroutine uses it.
func (v *LoopValue[T]) Delete(l *Loop) bool {
	if v == nil || v.id == 0 || l == nil || l.poller == nil {
		return false
	}
	s := &l.values
	s.mu.Lock()
	e := s.entries[v.id]
	if e == nil || !e.made {
		s.mu.Unlock()
		return false
	}
	delete(s.entries, v.id)
	s.store(v.id, nil)
	s.mu.Unlock()
	e.remove()
	return true
}

// get is Get's slow path: checks, and the making.
func (v *LoopValue[T]) get(l *Loop) (*T, error) {
	if v == nil || v.id == 0 {
		return nil, fmt.Errorf("%w: LoopValue.Get on a LoopValue not made by NewLoopValue", ErrNilFunc)
	}
	if l == nil || l.poller == nil {
		return nil, noLoop("LoopValue.Get")
	}
	s := &l.values
	for {
		s.mu.Lock()
		if p := s.load(v.id); p != nil {
			s.mu.Unlock()
			if p == unsafe.Pointer(released) {
				return nil, fmt.Errorf("%w: LoopValue.Get: the loop's value is released", ErrClosed)
			}
			return (*T)(p), nil
		}
		if e := s.entries[v.id]; e != nil {
			// Being made: by this goroutine's make (a recursion), or by
			// another goroutine, which we wait for.
			s.mu.Unlock()
			if e.g == curg() {
				return nil, fmt.Errorf("%w: LoopValue.Get called by the make function of the same LoopValue and loop", ErrInvalidState)
			}
			<-e.done
			if e.err != nil {
				return nil, e.err
			}
			continue // made (or made and already deleted or released): look again
		}
		e := &valueEntry{g: curg(), done: make(chan struct{})}
		if s.entries == nil {
			s.entries = make(map[int]*valueEntry)
		}
		s.entries[v.id] = e
		s.mu.Unlock()
		return v.makeFor(l, e)
	}
}

// makeFor registers the close hook, makes the value and publishes it, for
// the Get that put e in the table's entries.
func (v *LoopValue[T]) makeFor(l *Loop, e *valueEntry) (t *T, err error) {
	s := &l.values
	remove, err := l.OnClose(func() { v.closeHook(l, e) })
	if err != nil {
		err = fmt.Errorf("aio: LoopValue.Get: %w", err) // ErrClosed
		s.fail(v.id, e, err)
		return nil, err
	}
	ended := false
	defer func() {
		if ended {
			return
		}
		r := recover()
		remove()
		if r == nil { // runtime.Goexit in make: it goes on
			s.fail(v.id, e, fmt.Errorf("%w: LoopValue: make called runtime.Goexit", ErrInvalidState))
			return
		}
		s.fail(v.id, e, fmt.Errorf("aio: LoopValue: make panicked: %w", newPanicError(r)))
		panic(r)
	}()
	t, err = v.make(l)
	ended = true
	if err == nil && t == nil {
		err = fmt.Errorf("%w: LoopValue: make returned a nil value and no error", ErrInvalidState)
	}
	if err != nil {
		remove()
		s.fail(v.id, e, err)
		return nil, err
	}
	s.mu.Lock()
	e.made, e.remove = true, remove
	s.store(v.id, unsafe.Pointer(t))
	s.mu.Unlock()
	close(e.done)
	return t, nil
}

// closeHook is the close hook of the value e makes: it waits for the make
// (which may run on another goroutine), marks the value released and
// releases it.
func (v *LoopValue[T]) closeHook(l *Loop, e *valueEntry) {
	<-e.done
	s := &l.values
	s.mu.Lock()
	if s.entries[v.id] != e || !e.made {
		s.mu.Unlock()
		return // make failed, or Delete dropped the value
	}
	delete(s.entries, v.id)
	p := s.load(v.id)
	s.store(v.id, unsafe.Pointer(released))
	s.mu.Unlock()
	if v.release != nil {
		v.release(l, (*T)(p))
	}
}

// loopValues is a loop's table of per-loop values (Loop.values).
type loopValues struct {
	// tab holds the values made, indexed by LoopValue number (nil: not
	// made; released: released). It is copied on write, under mu, so that
	// Get reads it with one atomic load and no lock.
	tab atomic.Pointer[[]unsafe.Pointer]

	mu      sync.Mutex
	entries map[int]*valueEntry // the values being made or made (not released)
}

// A valueEntry is one value of a loop, from the Get that makes it to its
// release (or Delete).
type valueEntry struct {
	g      uintptr       // the goroutine calling make
	done   chan struct{} // closed when make has ended
	err    error         // make's error, set before done is closed
	made   bool          // the value is in the table; under mu
	remove func() bool   // removes the close hook, once made
}

// load returns the table's entry for id, or nil. Any goroutine.
func (s *loopValues) load(id int) unsafe.Pointer {
	if t := s.tab.Load(); t != nil && id < len(*t) {
		return (*t)[id]
	}
	return nil
}

// store sets the table's entry for id, copying the table. Under mu.
func (s *loopValues) store(id int, p unsafe.Pointer) {
	var old []unsafe.Pointer
	if t := s.tab.Load(); t != nil {
		old = *t
	}
	tab := make([]unsafe.Pointer, max(len(old), id+1))
	copy(tab, old)
	tab[id] = p
	s.tab.Store(&tab)
}

// fail ends the making of e with err: the entry goes, and the Gets that
// wait for it return err.
func (s *loopValues) fail(id int, e *valueEntry, err error) {
	s.mu.Lock()
	if s.entries[id] == e {
		delete(s.entries, id)
	}
	e.err = err
	s.mu.Unlock()
	close(e.done)
}
