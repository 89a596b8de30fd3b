package aio

import "time"

// Test hooks: the few internals that the tests of package aio_test look at.
// The loop-state hooks read fields that belong to the loop goroutine: call
// them from a callback or task of the loop, or while the loop is not
// running.

// MaxDrain is the number of door items a loop iteration takes in at most.
const MaxDrain = maxDrain

// MaxPooled is what the record pool is trimmed to when the loop goes idle.
const MaxPooled = maxPooled

// RingFloor is the ready ring's capacity below which it is never shrunk.
const RingFloor = ringFloor

// SetTrimIntervalForTest sets the shortest time between two trims of the
// loop's memory and returns a function that restores the previous interval.
func SetTrimIntervalForTest(d time.Duration) (restore func()) { return setTrimInterval(d) }

// ReadyLenForTest returns the number of entries in the loop's ready queue.
func (l *Loop) ReadyLenForTest() int { return l.ready.Len() }

// ReadyCapForTest returns the capacity of the loop's ready ring.
func (l *Loop) ReadyCapForTest() int { return l.ready.Cap() }

// TimersForTest returns the number of timers in the loop's timer heap.
func (l *Loop) TimersForTest() int { return l.timers.len() }

// TimerHeapCapForTest returns the capacity of the timer heap's array.
func (l *Loop) TimerHeapCapForTest() int { return l.timers.heap.Cap() }

// PooledForTest returns the number of callback records in the loop's pool.
func (l *Loop) PooledForTest() int { return l.pool.n }

// TrimmableForTest reports whether the housekeeping could still give memory
// back (the ring, the timer heap or the record pool is oversized).
func (l *Loop) TrimmableForTest() bool { return l.trim.trimmable(l) }

// WatchedFDsForTest returns the number of file descriptors the loop watches.
func (l *Loop) WatchedFDsForTest() int { return len(l.fds.watches) }

// PollerFDForTest returns one of the loop's own poller descriptors.
func (l *Loop) PollerFDForTest() int { return l.poller.OwnFDs()[0] }

// WakeSyscallsForTest returns how many wake-up system calls the loop's
// poller has made. Any goroutine.
func (l *Loop) WakeSyscallsForTest() uint64 { return l.poller.WakeSyscalls() }

// ParkedForTest reports whether the loop is parked, or about to park, in its
// poller (the door's sleeping flag). Any goroutine.
func (l *Loop) ParkedForTest() bool { return l.door.sleeping.Load() }

// DrainedForTest reports whether the CallSoon of Handle h, made from another
// goroutine, has been taken out of the door.
func (l *Loop) DrainedForTest(h Handle) bool { return l.door.q.Popped(h.gen) }

// DroppedForTest returns the number of door positions of cancelled CallSoon
// calls that the loop has not drained yet.
func (l *Loop) DroppedForTest() int { return len(l.door.dropped) }

// HoldDoorSlotForTest claims a slot of the loop's door and leaves it
// unpublished, as a producer descheduled in the middle of a submission does;
// release publishes a no-op command in it. Any goroutine.
func (l *Loop) HoldDoorSlotForTest() (release func()) {
	_, publish := l.door.q.Reserve()
	return func() { publish(command(func() {})) }
}

// SetCoroReuseForTest makes the loop end every finished task coroutine
// instead of pooling it for reuse (reuse false), or pool them again.
func (l *Loop) SetCoroReuseForTest(reuse bool) { l.cpool.noReuse = !reuse }

// SameRecordForTest reports whether Handles a and b name the same callback
// record (perhaps different generations of it).
func SameRecordForTest(a, b Handle) bool { return a.cb == b.cb }

// WaitersForTest returns the number of waiters linked in f's wait list.
func (f *Future[T]) WaitersForTest() int {
	n := 0
	for w := f.waiters.head; w != nil; w = w.next {
		n++
	}
	return n
}

// WaitersForTest returns the number of waiters linked in t's wait list.
func (t *Task[T]) WaitersForTest() int { return t.fut.WaitersForTest() }

// CurgIsFastForTest reports whether the goroutine-identity check takes its
// fast path on this architecture; on the slow one (runtime.Stack) every
// check allocates its buffer, so allocation tests do not apply.
const CurgIsFastForTest = curgIsFast
