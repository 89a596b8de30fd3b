package aio_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"weak"

	"github.com/aiogo/aio/aio"
)

// counter is a per-loop value of the tests.
type counter struct {
	loop *aio.Loop
	n    int
}

// counting returns a LoopValue of *counter whose make and release count
// their calls.
func counting() (v *aio.LoopValue[counter], made, releasedN *atomic.Int64) {
	made, releasedN = new(atomic.Int64), new(atomic.Int64)
	v = aio.NewLoopValue(func(l *aio.Loop) (*counter, error) {
		made.Add(1)
		return &counter{loop: l}, nil
	}, func(l *aio.Loop, c *counter) {
		if c.loop != l {
			panic("release of another loop's value")
		}
		releasedN.Add(1)
	})
	return v, made, releasedN
}

// Concurrent Gets of one LoopValue on one loop, from many goroutines, make
// the value once and all return it; another loop gets a value of its own;
// Lookup returns what Get made, and nothing on a loop where it made none.
func TestLoopValueMadeOnce(t *testing.T) {
	l1, l2 := newLoop(t), newLoop(t)
	v, made, _ := counting()
	if _, ok := v.Lookup(l1); ok {
		t.Error("Lookup before any Get found a value")
	}
	const goroutines, gets = 16, 200
	start := make(chan struct{})
	got := make([][2]*counter, goroutines)
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	for i := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range gets {
				for j, l := range []*aio.Loop{l1, l2} {
					c, err := v.Get(l)
					if err != nil {
						errs <- err
						return
					}
					if got[i][j] == nil {
						got[i][j] = c
					} else if got[i][j] != c {
						errs <- errors.New("Get returned two values for one loop")
						return
					}
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := made.Load(); n != 2 {
		t.Errorf("make ran %d times for two loops, want 2", n)
	}
	for i := range goroutines {
		if got[i] != got[0] {
			t.Fatalf("goroutine %d got %v, goroutine 0 got %v", i, got[i], got[0])
		}
	}
	if got[0][0] == got[0][1] || got[0][0].loop != l1 || got[0][1].loop != l2 {
		t.Error("the two loops share a value, or a value has the wrong loop")
	}
	if c, ok := v.Lookup(l1); !ok || c != got[0][0] {
		t.Errorf("Lookup = %v, %v; want Get's value", c, ok)
	}
}

// A value is released when its loop closes: after the loop's tasks have
// unwound (they still Get it while they unwind), as a close hook in
// OnClose's order (after the hooks registered after it was made, before
// those registered before), once. From its release on, Get returns
// ErrClosed and Lookup nothing, also to the hooks that run later and after
// the close.
func TestLoopValueReleasedAtClose(t *testing.T) {
	l := newLoop(t)
	var log []string
	var v *aio.LoopValue[counter]
	v = aio.NewLoopValue(func(l *aio.Loop) (*counter, error) {
		return &counter{loop: l}, nil
	}, func(l *aio.Loop, c *counter) {
		log = append(log, "release")
		if _, err := v.Get(l); !errors.Is(err, aio.ErrClosed) {
			log = append(log, fmt.Sprint("Get in release: ", err))
		}
	})
	l.OnClose(func() {
		_, err := v.Get(l)
		_, ok := v.Lookup(l)
		log = append(log, fmt.Sprintf("earlier hook: ErrClosed %v, Lookup %v", errors.Is(err, aio.ErrClosed), ok))
	})
	var made *counter
	started := false
	aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		var err error
		if made, err = v.Get(c.Loop()); err != nil {
			return 0, err
		}
		started = true
		err = aio.Sleep(c, 1<<62)
		got, gerr := v.Get(c.Loop())
		log = append(log, fmt.Sprintf("task unwound: same value %v, %v", got == made, gerr))
		return 0, err
	})
	runUntil(t, l, func() bool { return started })
	l.OnClose(func() {
		got, err := v.Get(l)
		log = append(log, fmt.Sprintf("later hook: same value %v, %v", got == made, err))
	})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	want := "[task unwound: same value true, <nil> later hook: same value true, <nil> release earlier hook: ErrClosed true, Lookup false]"
	if fmt.Sprint(log) != want {
		t.Errorf("log\n %v\nwant\n %s", log, want)
	}
	if _, err := v.Get(l); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if c, ok := v.Lookup(l); ok || c != nil {
		t.Errorf("Lookup after Close = %v, %v", c, ok)
	}
}

// On a loop closed before any Get, Get returns ErrClosed and never calls
// make; a nil or zero loop gives ErrNoLoop, a LoopValue not made by
// NewLoopValue ErrNilFunc, and NewLoopValue panics on a nil make.
func TestLoopValueErrors(t *testing.T) {
	l := newLoop(t)
	v, made, rel := counting()
	l.Close()
	if _, err := v.Get(l); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Get on a closed loop = %v, want ErrClosed", err)
	}
	if made.Load() != 0 || rel.Load() != 0 {
		t.Errorf("on a closed loop make ran %d times, release %d", made.Load(), rel.Load())
	}
	if _, err := v.Get(nil); !errors.Is(err, aio.ErrNoLoop) {
		t.Errorf("Get(nil) = %v, want ErrNoLoop", err)
	}
	if _, err := v.Get(&aio.Loop{}); !errors.Is(err, aio.ErrNoLoop) {
		t.Errorf("Get(zero Loop) = %v, want ErrNoLoop", err)
	}
	if _, ok := v.Lookup(nil); ok {
		t.Error("Lookup(nil) found a value")
	}
	if v.Delete(nil) {
		t.Error("Delete(nil) = true")
	}
	var zero aio.LoopValue[counter]
	l2 := newLoop(t)
	if _, err := zero.Get(l2); !errors.Is(err, aio.ErrNilFunc) {
		t.Errorf("zero LoopValue: Get = %v, want ErrNilFunc", err)
	}
	var nilv *aio.LoopValue[counter]
	if _, err := nilv.Get(l2); !errors.Is(err, aio.ErrNilFunc) {
		t.Errorf("nil LoopValue: Get = %v, want ErrNilFunc", err)
	}
	func() {
		defer func() {
			if err, _ := recover().(error); !errors.Is(err, aio.ErrNilFunc) {
				t.Errorf("NewLoopValue(nil, nil) panicked with %v, want ErrNilFunc", err)
			}
		}()
		aio.NewLoopValue[counter](nil, nil)
	}()
}

// A make that fails makes nothing: Get returns its error (a nil value
// without an error is ErrInvalidState), a panic goes on in the Get, the
// next Get calls make again, and only the value made is released at close.
func TestLoopValueMakeFails(t *testing.T) {
	l := newLoop(t)
	boom := errors.New("boom")
	calls := 0
	var releases int
	v := aio.NewLoopValue(func(l *aio.Loop) (*counter, error) {
		calls++
		switch calls {
		case 1:
			return nil, boom
		case 2:
			return nil, nil
		case 3:
			panic("make panics")
		}
		return &counter{loop: l, n: calls}, nil
	}, func(*aio.Loop, *counter) { releases++ })
	if _, err := v.Get(l); !errors.Is(err, boom) {
		t.Errorf("first Get = %v, want make's error", err)
	}
	if _, err := v.Get(l); !errors.Is(err, aio.ErrInvalidState) {
		t.Errorf("second Get (nil value) = %v, want ErrInvalidState", err)
	}
	func() {
		defer func() {
			if r := recover(); r != "make panics" {
				t.Errorf("third Get: recovered %v, want make's panic", r)
			}
		}()
		v.Get(l)
	}()
	c, err := v.Get(l)
	if err != nil || c.n != 4 {
		t.Fatalf("fourth Get = %v, %v; want the value of the fourth make", c, err)
	}
	if c2, _ := v.Get(l); c2 != c || calls != 4 {
		t.Errorf("a Get after success made again (calls %d)", calls)
	}
	l.Close()
	if releases != 1 {
		t.Errorf("%d releases, want 1", releases)
	}
}

// A make that Gets its own LoopValue on the same loop gets ErrInvalidState
// (not a deadlock); it may Get another LoopValue, whose hook, registered
// during the make, runs before the outer value's release.
func TestLoopValueRecursiveGet(t *testing.T) {
	l := newLoop(t)
	var log []string
	inner := aio.NewLoopValue(func(l *aio.Loop) (*counter, error) {
		return &counter{loop: l}, nil
	}, func(*aio.Loop, *counter) { log = append(log, "inner released") })
	var outer *aio.LoopValue[counter]
	outer = aio.NewLoopValue(func(l *aio.Loop) (*counter, error) {
		if _, err := outer.Get(l); !errors.Is(err, aio.ErrInvalidState) {
			log = append(log, fmt.Sprint("recursive Get: ", err))
		}
		if _, err := inner.Get(l); err != nil {
			return nil, err
		}
		return &counter{loop: l}, nil
	}, func(*aio.Loop, *counter) { log = append(log, "outer released") })
	if _, err := outer.Get(l); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if want := "[inner released outer released]"; fmt.Sprint(log) != want {
		t.Errorf("log %v, want %s", log, want)
	}
}

// Delete drops the value without releasing it and removes its close hook;
// the next Get makes a new value whose hook is registered anew (so it runs
// before the hooks registered meanwhile); Delete of nothing reports false.
func TestLoopValueDelete(t *testing.T) {
	l := newLoop(t)
	var log []string
	n := 0
	v := aio.NewLoopValue(func(l *aio.Loop) (*counter, error) {
		n++
		return &counter{loop: l, n: n}, nil
	}, func(_ *aio.Loop, c *counter) { log = append(log, fmt.Sprint("release ", c.n)) })
	if v.Delete(l) {
		t.Error("Delete before any Get = true")
	}
	first, _ := v.Get(l)
	if !v.Delete(l) || v.Delete(l) {
		t.Error("Delete: want true, then false")
	}
	if _, ok := v.Lookup(l); ok {
		t.Error("Lookup after Delete found a value")
	}
	l.OnClose(func() { log = append(log, "hook") })
	second, _ := v.Get(l)
	if second == first || second.n != 2 {
		t.Errorf("Get after Delete = %v, want a new value (the first was %v)", second, first)
	}
	l.Close()
	if want := "[release 2 hook]"; fmt.Sprint(log) != want {
		t.Errorf("log %v, want %s", log, want)
	}
}

// Gets from other goroutines racing with the loop's close each return the
// value or ErrClosed; the value is made at most once and released exactly
// as often as it was made.
func TestLoopValueCloseRace(t *testing.T) {
	for range 20 {
		l := newLoop(t)
		v, made, rel := counting()
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for {
					_, err := v.Get(l)
					if errors.Is(err, aio.ErrClosed) {
						return
					}
					if err != nil {
						errs <- err
						return
					}
					runtime.Gosched()
				}
			}()
		}
		close(start)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if m, r := made.Load(), rel.Load(); m > 1 || m != r {
			t.Fatalf("made %d, released %d", m, r)
		}
	}
}

// A closed loop that had a value is garbage-collected, with its value; the
// value is dropped at close even while the loop is still referenced.
func TestLoopValueCollected(t *testing.T) {
	leakCheck(t)
	v, _, _ := counting()
	l, err := aio.NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	started := false
	aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		_, err := v.Get(c.Loop())
		started = true
		return 0, err
	})
	runUntil(t, l, func() bool { return started })
	c, err := v.Get(l)
	if err != nil {
		t.Fatal(err)
	}
	wc := weak.Make(c)
	c = nil
	l.Close()
	if !collected(func() bool { return wc.Value() == nil }) {
		t.Error("the value of a closed loop was not collected while the loop is referenced")
	}
	runtime.KeepAlive(l)
	wl := weak.Make(l)
	l = nil
	if !collected(func() bool { return wl.Value() == nil }) {
		t.Error("a closed loop with a value was not collected")
	}
}

// collected runs the collector until gone reports true, a bounded number
// of times, and reports whether it did.
func collected(gone func() bool) bool {
	for range 20 {
		runtime.GC()
		if gone() {
			return true
		}
	}
	return false
}

// A LoopValue's Get, once the value is made, against the sync.Map Load it
// replaces (a map shared by all loops, keyed by *Loop).
func BenchmarkLoopValueGet(b *testing.B) {
	l, err := aio.NewLoop()
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.Run("LoopValue", func(b *testing.B) {
		v, _, _ := counting()
		v.Get(l)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Get(l); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sync.Map", func(b *testing.B) {
		var m sync.Map
		m.Store(l, &counter{loop: l})
		b.ReportAllocs()
		for b.Loop() {
			if v, ok := m.Load(l); !ok || v.(*counter).loop != l {
				b.Fatal("no value")
			}
		}
	})
	b.Run("LoopValue-parallel", func(b *testing.B) {
		v, _, _ := counting()
		v.Get(l)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Get(l); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("sync.Map-parallel", func(b *testing.B) {
		var m sync.Map
		m.Store(l, &counter{loop: l})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if v, ok := m.Load(l); !ok || v.(*counter).loop != l {
					b.Fatal("no value")
				}
			}
		})
	})
}
