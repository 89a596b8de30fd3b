package loops

import (
	"errors"
	"fmt"

	"github.com/aiogo/aio/aio"
)

// A Queue is a FIFO queue homed on one loop and used from tasks of any
// loop: a task of the home loop puts and gets as with aio/queue, directly;
// a task of another loop sends each operation through the home loop's door
// and waits for the answer through its own, so that no operation ever
// blocks a loop's thread (there is no lock in it to wait for). A bounded
// queue makes a Put wait while it is full, a Get waits while it is empty,
// each in the calling task.
//
// Order: the values of one sender come out in the order it put them (a
// sender's Put returns once its value is in the queue, so its next Put
// comes after it), and the waiters of the home loop are served in order.
//
// Cancellation never loses or duplicates a value. A cancelled Get takes
// nothing: a value that was on its way to a Get that was cancelled goes back
// to the head of the queue. A cancelled Put either put nothing and returns
// the cancellation, or had put its value already (the home loop took it
// before the cancellation arrived): then its error matches both the
// cancellation and ErrCompleted. Look at that error inside the cancel
// scope: a scope's exit (aio.WithTimeout's) turns its own cancellation into
// its own result, ErrTimeout, ErrCompleted or not.
//
// The zero Queue is not usable: make one with NewQueue. Its values live on
// the home loop and go away with it: once the home loop is closed, every
// operation returns an error matching aio.ErrClosed.
type Queue[T any] struct {
	home    *aio.Loop
	max     int
	items   []T // the queue is items[head:]
	head    int
	closed  bool
	getters aio.WaitQueue
	putters aio.WaitQueue
}

// NewQueue returns a queue homed on home, holding at most max values (max
// <= 0: no bound). Any goroutine.
func NewQueue[T any](home *aio.Loop, max int) *Queue[T] {
	return &Queue[T]{home: home, max: max}
}

// Home returns the queue's home loop.
func (q *Queue[T]) Home() *aio.Loop { return q.home }

// errWouldBlock is the answer of the quick attempt of a remote operation
// that has to wait on the home loop.
var errWouldBlock = errors.New("loops: would block")

// Put puts v at the end of the queue, waiting in c while the queue is
// full. It returns an error matching ErrQueueClosed after Close, and
// aio.ErrClosed when the home loop is closed; for cancellation see Queue.
func (q *Queue[T]) Put(c *aio.Ctx, v T) error {
	if err := q.usable(c, "Put"); err != nil {
		return err
	}
	if c.Loop() == q.home {
		return q.put(c, v)
	}
	// One trip when there is room: a callback of the home loop tries.
	_, err, _ := callFunc(c, q.home, func() (struct{}, error) { return struct{}{}, q.tryPut(v) })
	if !errors.Is(err, errWouldBlock) {
		return err
	}
	_, err = Call(c, q.home, func(hc *aio.Ctx) (struct{}, error) { return struct{}{}, q.put(hc, v) })
	return err
}

// Get takes the value at the head of the queue, waiting in c while the
// queue is empty. It returns an error matching ErrQueueClosed once the
// queue is closed and empty, and aio.ErrClosed when the home loop is
// closed; for cancellation see Queue.
func (q *Queue[T]) Get(c *aio.Ctx) (T, error) {
	var zero T
	if err := q.usable(c, "Get"); err != nil {
		return zero, err
	}
	if c.Loop() == q.home {
		return q.get(c)
	}
	v, err, done := callFunc(c, q.home, q.tryGet)
	if done {
		q.giveBack(v)
		return zero, unCompleted(err)
	}
	if !errors.Is(err, errWouldBlock) {
		return v, err
	}
	v, err, done = call(c, q.home, q.get)
	if done {
		q.giveBack(v)
		return zero, unCompleted(err)
	}
	return v, err
}

// unCompleted strips ErrCompleted from a cancellation whose value went back.
func unCompleted(err error) error {
	var ce *aio.CanceledError
	if errors.As(err, &ce) {
		return ce
	}
	return err
}

// giveBack puts v back at the head of the queue, from a cancelled Get of
// another loop. Sent through the home loop's door before the Get returns,
// it comes before anything its caller does next.
func (q *Queue[T]) giveBack(v T) {
	q.home.CallSoon(func() {
		if q.head > 0 {
			q.head--
			q.items[q.head] = v
		} else {
			q.items = append([]T{v}, q.items...)
		}
		q.getters.WakeOne()
	})
}

// Close closes the queue: later Puts fail with ErrQueueClosed, Gets take
// what is left and then fail with it, and every waiting task is woken.
// Any goroutine: off the home loop it goes through its door.
func (q *Queue[T]) Close() error {
	if aio.RunningLoop() == q.home {
		q.close()
		return nil
	}
	_, err := q.home.CallSoon(q.close)
	return err
}

func (q *Queue[T]) close() {
	q.closed = true
	q.getters.WakeAll()
	q.putters.WakeAll()
}

// Len returns the number of values in the queue. It must be called on the
// home loop (it panics elsewhere, with an error matching aio.ErrNotOnLoop).
func (q *Queue[T]) Len() int {
	if aio.RunningLoop() != q.home {
		panic(fmt.Errorf("%w: loops.Queue.Len must be called on the queue's home loop", aio.ErrNotOnLoop))
	}
	return len(q.items) - q.head
}

func (q *Queue[T]) usable(c *aio.Ctx, method string) error {
	if q == nil || q.home == nil {
		return fmt.Errorf("loops: Queue.%s: %w: a zero Queue (make one with NewQueue)", method, aio.ErrNoLoop)
	}
	if err := check(c, "Queue."+method); err != nil {
		return err
	}
	if q.home.IsClosed() {
		return fmt.Errorf("loops: Queue.%s: the home loop: %w", method, aio.ErrClosed)
	}
	return nil
}

// The home loop's side: plain queue operations, with the fairness of
// aio/queue (a value or a room promised to a woken waiter is not given to
// a newcomer).

func (q *Queue[T]) size() int { return len(q.items) - q.head }

func (q *Queue[T]) hasRoom() bool {
	return q.max <= 0 || q.size()+q.putters.Waking() < q.max
}

func (q *Queue[T]) available() bool { return q.size() > q.getters.Waking() }

func (q *Queue[T]) add(v T) {
	if q.head > 0 && q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	q.items = append(q.items, v)
	q.getters.WakeOne()
}

func (q *Queue[T]) take() T {
	var zero T
	v := q.items[q.head]
	q.items[q.head] = zero
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 1024 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.putters.WakeOne()
	return v
}

func (q *Queue[T]) tryPut(v T) error {
	if q.closed {
		return ErrQueueClosed
	}
	if !hasNoWaiters(&q.putters) || !q.hasRoom() {
		return errWouldBlock
	}
	q.add(v)
	return nil
}

func hasNoWaiters(w *aio.WaitQueue) bool { return w.Len() == 0 }

func (q *Queue[T]) tryGet() (T, error) {
	if q.available() {
		return q.take(), nil
	}
	var zero T
	if q.closed {
		return zero, ErrQueueClosed
	}
	return zero, errWouldBlock
}

func (q *Queue[T]) put(c *aio.Ctx, v T) error {
	for {
		if q.closed {
			return ErrQueueClosed
		}
		if q.hasRoom() {
			q.add(v)
			return nil
		}
		if err := q.putters.Park(c); err != nil {
			return err
		}
	}
}

func (q *Queue[T]) get(c *aio.Ctx) (T, error) {
	for {
		if q.available() {
			return q.take(), nil
		}
		if q.closed {
			var zero T
			return zero, ErrQueueClosed
		}
		if err := q.getters.Park(c); err != nil {
			var zero T
			return zero, err
		}
	}
}
