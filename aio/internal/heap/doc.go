// Package heap implements the event loop's timer heap: a min-heap of
// entries ordered by (deadline, sequence number).
//
// The sequence number is taken from a per-heap counter at every Push and
// Reschedule, so entries with equal deadlines come out in the order they
// were scheduled, as asyncio's call_later promises. Each entry records its
// position in the heap, which makes Remove and Reschedule O(log n) without a
// search; that is what cancelling a timer costs.
//
// # Design
//
// The heap is 4-ary, like the Go runtime's timer heap: it is half as deep as
// a binary heap, so a sift moves fewer entries (and each move also writes the
// moved entry's index, a store to a scattered cache line), at the price of
// three comparisons instead of one to find the smallest child. The sort key
// is stored inline in the backing slice next to the entry pointer
// ([]struct{when, seq, *Entry}, 24 bytes a slot), so comparisons read the
// slice sequentially and never dereference an entry; entries are touched
// only to update their index.
//
// Both choices were measured (push+pop steady state with timer-like
// deadlines, entries of 80 bytes allocated one by one, best of 5 to 8 runs
// on a shared 2-core AMD EPYC):
//
//	                          1k heap    100k heap
//	inline key, 4-ary         ~ 88 ns    ~186 ns
//	inline key, binary        ~ 83 ns    ~186 ns
//	[]*Entry,   4-ary         ~ 91 ns    ~298 ns
//	[]*Entry,   binary        ~ 89 ns    ~323 ns
//
// Small heaps fit in cache and every layout costs the same; at 100k entries
// the pointer-chasing layouts are 1.6 to 1.7 times slower. Between the two
// inline layouts the 4-ary heap was as fast in steady state, faster to fill
// and drain (~173 against ~185 ns an entry) and no slower to remove from
// (~110 against 112 to 140 ns). Two refinements were tried and dropped:
// bottom-up ("Floyd") sift-down in Pop gained nothing measurable at arity
// 4, and a branch-free comparison (a 128-bit borrow chain feeding
// conditional moves) was slower at 100k (~240 against ~186 ns in steady
// state), because it turns the next level's loads into a dependency the CPU
// can no longer speculate past.
//
// # Memory
//
// Pop and Remove clear the vacated slot, so the heap keeps no reference to
// an entry that has left it.
//
// The backing array shrinks after a burst. Removals are counted in epochs
// of half the capacity (at least minShrinkCap); an epoch during which Len
// stayed at or below a quarter of the capacity ends by reallocating the
// array at twice that peak. The memory of a burst of 100k timers is thus
// given back within about as many further removals, while a heap that is
// filled and drained over and over keeps its array. The copy is O(1)
// amortized per removal. A heap that sees no removals at all keeps its
// array.
//
// Shrinking as soon as Len falls to a quarter of the capacity (CPython's
// list policy) was tried first and dropped: each fill-and-drain cycle of
// 100k entries then regrew the array from scratch, 16 MB of allocation a
// cycle, and Push went from 16-20 to 115-123 ns an entry.
package heap
