// Package mpsc provides Queue, the unbounded lock-free multi-producer,
// single-consumer queue through which other goroutines submit work to
// the event loop.
//
// Any goroutine may Push. Exactly one goroutine, the consumer (the
// loop goroutine), may call Pop and Empty. Push never blocks, never
// takes a lock and never waits for another producer to make progress.
// Pop and Empty never block either; in the common case each is a
// couple of plain loads plus one atomic load.
//
// # Design
//
// The queue is a linked list of fixed-size array segments. Producers
// claim a slot in the tail segment with one atomic add on the
// segment's claim counter, store the value in the slot and then set
// the slot's ready flag. The consumer reads slots in order and stops
// at the first slot whose ready flag is not yet set. A producer that
// claims an index past the end of the segment links a new segment,
// with its own value already in slot 0, using a compare-and-swap on
// the full segment's next pointer; producers that lose that race,
// or that find the next segment already linked, help move the shared
// tail pointer forward and try again there. Nobody ever waits for the
// producer that linked a segment to finish.
//
// Segments are never reused. Once the consumer is done with one, it
// is garbage, and the garbage collector frees it only after the last
// producer still holding a stale pointer to it has moved on. Recycling
// segments would need a separate proof that no such lagging producer
// can claim a slot in a recycled segment (the ABA problem). One
// allocation per segSize pushes does not justify that.
//
// # Consumer-visible ordering
//
// Values are popped in the order their Pushes claimed slots, that is,
// in the order of the atomic adds, following the segments in list
// order. A Push that returned before another Push started claimed
// first, so each producer's values come out in the order it pushed
// them.
//
// There is one caveat. A producer that has claimed a slot but not yet
// set its ready flag (it may be preempted in between) hides its own
// value, and every value claimed after it, from the consumer. So does
// a producer that overflowed a segment and has not linked the next
// one yet. Pop reports ok == false and Empty reports true until that
// producer continues: the queue is "empty for now", not empty. This is
// safe for the event loop if each submitter checks whether the loop is
// asleep only after Push returns:
//
//	q.Push(v)                   // 1. publish
//	if loop.parked.Load() { … } // 2. then wake the loop if it sleeps
//
// and if the loop sets parked before its final Empty check before
// sleeping (all sync/atomic operations are sequentially consistent).
// If the loop's Empty missed a value, the Push that hid it had not
// finished step 1 when Empty looked. That producer does step 2 later,
// sees parked and wakes the loop. Producers whose values were hidden
// behind it rely on that same wake-up, so the loop cannot sleep
// through any of them. TestWakeProtocol exercises this.
//
// Empty is the wrong question for ordering, though. A consumer that wants to
// act on something of its own after everything pushed before that moment
// (the loop scheduling a callback of its own, which must run after a
// callback another goroutine scheduled first) must not trust an "empty for
// now": the paused producer may hide values whose Push has returned. Pending
// answers that question: it reports every claimed slot, published or not,
// so when it reports false nothing pushed before the call is left in the
// queue. The event loop pushes its own work into the queue, behind the
// claimed slots, while Pending reports true (see the aio package's design
// notes); Reserve lets tests hold a producer between claim and publish.
//
// # Measurements
//
// The designs were implemented and compared with BenchmarkSubmit in
// bench_test.go. P producer goroutines push b.N func() items in total
// to one consumer that drains the queue and calls each item. In "mpsc"
// the consumer yields (runtime.Gosched) when the queue reads empty.
// In "mpscpark" it sleeps and is woken by the protocol above, as the
// event loop will be. The machine was a 2-core AMD EPYC VM running
// Go 1.26 and shared with other busy processes. The table gives
// medians of 10 interleaved runs, in ns per item:
//
//	producers                  1     2     4     8
//	segmented (Queue)         43    24    29    33
//	segmented, consumer parks 17    22    25    30
//	Vyukov linked list       105    91    97    82
//	buffered chan (cap 1024)  42    44    41    49
//	mutex + swapped slice     18    19    36    37
//
// With 4 producers, Queue took 0.63× the channel's time per item
// (median of per-run ratios; faster in 8 of 10 runs), and 0.55× with
// the parking consumer (9 of 10). Queue allocates 16 B per item (one
// 4 KiB segment per segSize items) and nothing else. The uncontended
// Push+Pop (BenchmarkPushPop) costs 12 ns against 37 ns for the
// channel. Empty on an idle queue costs 2 ns.
//
// Vyukov's list (one atomic swap on tail per push, then a store that
// links the previous node) was 2.3 to 3.7× slower at every producer
// count. It
// pays for one pointerful 16-byte allocation per push, and the
// consumer misses the cache on every node. Recycling its nodes through
// a sync.Pool measured no faster, because Get and Put cost about what
// the allocation did. Earlier exploratory runs of the segmented queue
// found that giving every slot its own cache line to stop false
// sharing doubled the cost, because segments grew fourfold. They also
// found that segment sizes from 32 to 1024 slots, and linking the next
// segment early at half-full, measured within noise. The mutex-guarded
// slice wins with 1 or 2 producers, because the consumer takes a whole
// batch per lock. But its producers block behind each other and behind
// a preempted lock holder, and it falls behind from 4 producers on.
// The Vyukov list and the mutex slice are kept in bench_test.go as
// baselines.
package mpsc

import (
	"slices"
	"sync/atomic"

	"golang.org/x/sys/cpu"
)

// segSize is the number of slots in a segment. For any T of at most
// 8 bytes (pointers, funcs, ints), a segment is a 16-byte header plus
// 254 16-byte slots. That is 4080 bytes, which the 8-byte malloc
// header for pointerful objects brings to exactly the 4096-byte size
// class. A segment grows with T, so queue pointers rather than large
// structs.
const segSize = 254

// A slot holds one value. The slot is owned:
//
//   - by nobody, until a producer claims its index through
//     segment.claimed. Each index is handed out exactly once, so
//     claiming makes that producer the sole owner.
//   - by that producer, which writes val and then sets ready.
//     The atomic store to ready publishes val to the consumer.
//   - by the consumer, from the moment it observes ready != 0. It reads
//     val and zeroes it so that the queue does not keep the value (often
//     a closure) alive. Nothing ever clears ready again. The slot is
//     dead from then on, because segments are not reused.
type slot[T any] struct {
	ready atomic.Uint32
	val   T
}

type segment[T any] struct {
	// next is nil until a producer that found this segment full links
	// the following segment. It changes from nil exactly once (by
	// CAS) and is never cleared, so anyone still holding this segment
	// can always find its way forward.
	next atomic.Pointer[segment[T]]

	// claimed counts the slot claims made against this segment. Claim
	// k (the add that returns k+1) owns slots[k] if k < segSize.
	// Claims past the end own nothing and only tell the claimant to
	// move on. A goroutine makes at most one failed claim per segment,
	// because the Push that made it does not return before tail has
	// moved past the segment (see claimSlow). So the counter cannot
	// wrap.
	//
	// claimed shares a cache line with next and slots[0:3]. Padding
	// it apart would cost slots per segment for an effect on 3 in 254
	// pushes.
	claimed atomic.Uint32

	// base is the position (see Push) of slots[0]. It is set before the
	// segment is published and never changes; it sits on claimed's cache
	// line, which a producer has just written anyway.
	base uint64

	slots [segSize]slot[T]
}

// Queue is an unbounded lock-free multi-producer, single-consumer
// FIFO queue.
//
// The zero value is an empty queue ready to use. The first Push
// allocates the first segment. A Queue must not be copied after
// first use.
type Queue[T any] struct {
	// Keep whatever precedes the Queue in an enclosing struct off the
	// consumer's line.
	_ cpu.CacheLinePad

	// head is the segment the consumer is reading, and idx is the index
	// within head of the next slot to pop. Only the consumer writes
	// them, with one exception: head goes from nil to the first segment
	// by a producer's CAS in lazyInit. That exception is why head is
	// atomic. The consumer's loads of it are plain loads on the usual
	// hardware.
	head atomic.Pointer[segment[T]]
	idx  int

	// holes are slots before head/idx that the consumer passed while
	// their producers had claimed them and not yet published them, in
	// position order (see Pop). Consumer only. They are few: at most one
	// per producer in the middle of a Push.
	holes []hole[T]

	_ cpu.CacheLinePad

	// tail is the segment producers claim slots in, or a segment
	// before it. Producers only read it on the fast path. It moves
	// forward, one link at a time, by CAS from a full segment to its
	// next. So it is read-mostly and shared by all producers, while
	// the contended counter lives in the segment itself.
	tail atomic.Pointer[segment[T]]

	_ cpu.CacheLinePad
}

// Push adds v at the tail of the queue and returns its position: the
// number of values that precede it in the queue's order, counting those
// already popped. Positions are unique, and Pop returns values in the
// order of their positions, so the consumer can tell each value's
// position by counting its Pops; the event loop uses a position to let a
// producer cancel what it pushed without allocating anything to name it.
//
// Push may be called from any goroutine, concurrently with other
// Pushes and with Pop and Empty. It is lock-free and never blocks. In
// the common case it is one atomic add, a store of v and one atomic
// store. Once in every segSize pushes, one producer allocates a new
// segment.
func (q *Queue[T]) Push(v T) (pos uint64) {
	seg := q.tail.Load()
	if seg != nil {
		if i := seg.claimed.Add(1) - 1; i < segSize {
			// Slot i is ours alone. Fill it, then hand it to
			// the consumer.
			s := &seg.slots[i]
			s.val = v
			s.ready.Store(1)
			return seg.base + uint64(i)
		}
		// seg is full.
	}
	s, pos := q.claimSlow(seg)
	s.val = v
	s.ready.Store(1)
	return pos
}

// Reserve claims the next position as Push does, but leaves the slot
// unpublished, and returns the position and a function that publishes v
// there. Until publish is called the slot hides itself, and every slot
// claimed after it, from Pop and Empty, exactly as a producer preempted in
// the middle of Push does; Pending reports it. Reserve exists so that tests
// can hold a producer at that point deterministically. publish must be
// called exactly once. Any goroutine.
func (q *Queue[T]) Reserve() (pos uint64, publish func(v T)) {
	var s *slot[T]
	seg := q.tail.Load()
	if seg != nil {
		if i := seg.claimed.Add(1) - 1; i < segSize {
			s, pos = &seg.slots[i], seg.base+uint64(i)
		}
	}
	if s == nil {
		s, pos = q.claimSlow(seg)
	}
	return pos, func(v T) {
		s.val = v
		s.ready.Store(1)
	}
}

// claimSlow is the claim of Push and Reserve when seg is either nil (the
// queue has never been used) or full. It returns the claimed slot, which
// the caller fills and publishes, and its position.
//
// Every pass through the loop either claims a slot or moves q.tail forward
// past a full segment, whether this producer moves it or another one does.
// A pass fails only because other producers have filled a whole segment in
// the meantime. So the queue as a whole always makes progress (lock-free),
// and no producer ever waits on another: the only step that depends on
// someone else is linking next, and anyone who finds it missing links it
// themselves.
func (q *Queue[T]) claimSlow(seg *segment[T]) (*slot[T], uint64) {
	for {
		if seg == nil {
			seg = q.lazyInit()
		} else {
			// seg is full.
			next := seg.next.Load()
			if next == nil {
				// Link a new segment whose slot 0 is already
				// claimed by us: winning the CAS completes the
				// claim with no further atomic add.
				n := new(segment[T])
				n.base = seg.base + segSize
				n.claimed.Store(1)
				if testHookBeforeLink != nil {
					testHookBeforeLink()
				}
				if seg.next.CompareAndSwap(nil, n) {
					// Failing here only means another
					// producer has already moved tail.
					q.tail.CompareAndSwap(seg, n)
					return &n.slots[0], n.base
				}
				// Another producer linked its segment first.
				// Nobody has seen n, so dropping it is safe.
				next = seg.next.Load()
			}
			// Help the linking producer: it may not have moved
			// tail yet (it may never run again, as far as we
			// know).
			q.tail.CompareAndSwap(seg, next)
			// tail is now next or beyond it.
			seg = q.tail.Load()
		}
		if i := seg.claimed.Add(1) - 1; i < segSize {
			return &seg.slots[i], seg.base + uint64(i)
		}
	}
}

// testHookBeforeLink, if set, runs in claimSlow just before the CAS
// that links a new segment. Tests use it to lose that race on purpose.
// It is only read on the once-per-segment slow path.
var testHookBeforeLink func()

// lazyInit installs the first segment of a zero Queue and returns the
// current tail. Producers call it whenever they find tail nil.
func (q *Queue[T]) lazyInit() *segment[T] {
	if q.head.Load() == nil {
		// Losing this race to another producer is fine: either way
		// head now holds the first segment.
		q.head.CompareAndSwap(nil, new(segment[T]))
	}
	// While tail is nil, no slot can have been claimed, so the
	// consumer cannot yet have moved head off the first segment.
	// Therefore if the CAS succeeds, it installs the first segment as
	// tail. If it fails, tail was already set and we just use it.
	q.tail.CompareAndSwap(nil, q.head.Load())
	return q.tail.Load()
}

// hole is a slot that the consumer passed while its producer had claimed it
// and not yet published it.
type hole[T any] struct {
	seg *segment[T]
	i   int
}

// maxScan is how far past an unpublished slot the consumer looks for a
// published one to take instead.
const maxScan = 64

// Pop removes and returns the next value: the value at the head of the
// queue, or, if the producer of the head slot has claimed it but not
// published it yet, the first published value claimed after it (within
// maxScan slots). It returns ok == false if no value can be taken: the queue
// is empty, or every claimed slot in reach is still unpublished.
//
// Skipping a slot whose producer is paused in the middle of Push (it may be
// descheduled for milliseconds) keeps every other producer's values, and
// the loop's own work queued behind them, from waiting for it. It changes
// the order only between pushes that overlap in time: a value published
// after a later one was already taken can only belong to a Push that had
// not returned when that later Push began, because Pop takes a value past
// a skipped slot only after finding, once more, the skipped slot still
// unpublished. So each producer's values still come out in the order it
// pushed them, and so do any two values whose Pushes are ordered by
// happens-before.
//
// Pop must only be called by the consumer goroutine.
func (q *Queue[T]) Pop() (v T, ok bool) {
	v, _, ok = q.PopPos()
	return v, ok
}

// PopPos is Pop that also returns the value's position (see Push).
func (q *Queue[T]) PopPos() (v T, pos uint64, ok bool) {
	// The common cases, inline: the head slot is published, or nothing is
	// claimed past it.
	if seg := q.head.Load(); seg != nil && q.idx < segSize && len(q.holes) == 0 {
		i := q.idx
		s := &seg.slots[i]
		if s.ready.Load() != 0 {
			v = s.val
			var zero T
			s.val = zero
			q.idx = i + 1
			return v, seg.base + uint64(i), true
		}
		if seg.claimed.Load() <= uint32(i)+1 {
			return v, 0, false
		}
	}
	return q.popSlow()
}

// popSlow is PopPos past the common cases: holes to look at, a segment to
// move to, or a slot to pass over.
func (q *Queue[T]) popSlow() (v T, pos uint64, ok bool) {
	if len(q.holes) > 0 {
		if v, pos, ok = q.popHole(); ok {
			return v, pos, true
		}
	}
	seg := q.frontier()
	if seg == nil {
		return v, 0, false
	}
	s := &seg.slots[q.idx]
	if s.ready.Load() == 0 {
		if !q.skip(seg) {
			return v, 0, false
		}
		seg = q.head.Load()
		s = &seg.slots[q.idx]
		// s is published. A skipped slot published since it was looked
		// at may hold a value that happened before s's: check them all
		// again, after s's flag, and take such a one first.
		if v, pos, ok = q.popHole(); ok {
			return v, pos, true
		}
	} else if len(q.holes) > 0 {
		if v, pos, ok = q.popHole(); ok {
			return v, pos, true
		}
	}
	// The producer's store to ready happened before our load, so its
	// write to val is visible and the slot now belongs to us.
	v = s.val
	var zero T
	s.val = zero // don't keep the value alive from the queue
	pos = seg.base + uint64(q.idx)
	q.idx++
	return v, pos, true
}

// frontier returns the segment of the next slot to pop (head, idx), moving
// head to the next segment once every slot of it has been passed, or nil if
// there is no such slot yet.
func (q *Queue[T]) frontier() *segment[T] {
	seg := q.head.Load()
	if seg == nil {
		return nil // no Push has started yet
	}
	if q.idx == segSize {
		// Every slot of seg has been passed. Move to the next segment if
		// it is linked. The old one becomes garbage once any stale
		// producer or tail pointers to it, and any holes in it, are gone.
		next := seg.next.Load()
		if next == nil {
			return nil
		}
		q.head.Store(next)
		seg, q.idx = next, 0
	}
	return seg
}

// scan looks for a published slot among the claimed slots after (seg, i),
// at most maxScan of them, and returns it.
func scan[T any](seg *segment[T], i int) (*segment[T], int, bool) {
	for range maxScan {
		i++
		if i == segSize {
			if seg = seg.next.Load(); seg == nil {
				return nil, 0, false
			}
			i = 0
		}
		if uint32(i) >= seg.claimed.Load() {
			return nil, 0, false // not claimed: nothing is published beyond
		}
		if seg.slots[i].ready.Load() != 0 {
			return seg, i, true
		}
	}
	return nil, 0, false
}

// skip moves the consumer past the unpublished frontier slot (and any
// unpublished slots after it) to the first published slot in reach,
// recording the slots it passes as holes, and reports whether it found one.
func (q *Queue[T]) skip(seg *segment[T]) bool {
	to, j, ok := scan(seg, q.idx)
	if !ok {
		return false
	}
	for i := q.idx; seg != to || i != j; {
		q.holes = append(q.holes, hole[T]{seg, i})
		if i++; i == segSize {
			seg, i = seg.next.Load(), 0
		}
	}
	q.head.Store(to)
	q.idx = j
	return true
}

// popHole takes the value of the first hole that has been published since,
// if any.
func (q *Queue[T]) popHole() (v T, pos uint64, ok bool) {
	for k, h := range q.holes {
		s := &h.seg.slots[h.i]
		if s.ready.Load() == 0 {
			continue
		}
		v = s.val
		var zero T
		s.val = zero
		q.holes = slices.Delete(q.holes, k, k+1) // keeps the order; clears the vacated entry
		return v, h.seg.base + uint64(h.i), true
	}
	return v, 0, false
}

// Empty reports whether Pop would currently return ok == false. It may
// report true while a Push is in progress, but never reports false when
// Pop would fail: once a value is visible it stays visible until the
// consumer pops it.
//
// Empty must only be called by the consumer goroutine. In the common
// case it is two atomic loads.
func (q *Queue[T]) Empty() bool {
	for _, h := range q.holes {
		if h.seg.slots[h.i].ready.Load() != 0 {
			return false
		}
	}
	seg := q.head.Load()
	if seg == nil {
		return true
	}
	i := q.idx
	if i == segSize {
		if seg = seg.next.Load(); seg == nil {
			return true
		}
		i = 0
	}
	if seg.slots[i].ready.Load() != 0 {
		return false
	}
	_, _, ok := scan(seg, i)
	return !ok
}

// Pending reports whether some Push has claimed a slot that Pop has not
// returned yet, published or not. Unlike Empty it sees a producer that is
// paused between claiming its slot and publishing it, and every slot Pop
// passed and has not returned. So if Pending reports false, every Push
// that returned before the call has been popped: the consumer may then act
// on something of its own and know that nothing pushed before it is still
// in the queue. A Push that has not returned yet may or may not be seen.
//
// Pending must only be called by the consumer goroutine. In the common
// case it is one atomic load, of the head segment's claim counter.
func (q *Queue[T]) Pending() bool {
	if len(q.holes) > 0 {
		return true
	}
	seg := q.head.Load()
	if seg == nil {
		return false
	}
	if q.idx < segSize {
		return seg.claimed.Load() > uint32(q.idx)
	}
	// Every slot of seg has been passed. A Push that claimed past its end
	// has either linked the next segment, whose slot 0 it then owns, or
	// not returned yet.
	return seg.next.Load() != nil
}

// Popped reports whether the value at position pos has been popped (or
// its slot passed for good, which Pop never does: a passed slot is a
// hole until its value is taken). Consumer only.
func (q *Queue[T]) Popped(pos uint64) bool {
	seg := q.head.Load()
	if seg == nil || pos >= seg.base+uint64(q.idx) {
		return false
	}
	for _, h := range q.holes {
		if h.seg.base+uint64(h.i) == pos {
			return false
		}
	}
	return true
}
