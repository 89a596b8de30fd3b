package loops

import (
	"errors"

	"github.com/aiogo/aio/aio"
)

// ErrNoLoops is returned by New for a group of fewer than one loop.
var ErrNoLoops = errors.New("loops: a group needs at least one loop")

// ErrNotStarted is returned (wrapped) by the operations of a Group that
// need its loops running (Each, ServeStream, ServeProtocol) before Start.
var ErrNotStarted = errors.New("loops: the group is not started")

// ErrGroupClosed is returned (wrapped) by the operations of a Group after
// Close. It matches aio.ErrClosed too.
var ErrGroupClosed = &groupClosed{}

type groupClosed struct{}

func (*groupClosed) Error() string { return "loops: the group is closed" }

// Is makes ErrGroupClosed match aio.ErrClosed.
func (*groupClosed) Is(target error) bool { return target == aio.ErrClosed }

// ErrCompleted marks the error of a cross-loop operation whose caller was
// cancelled after the remote side had already completed it: the error
// matches the caller's cancellation (context.Canceled, and its cause) and
// ErrCompleted, and the operation's result is returned with it. Call and
// Queue.Put return it so that the caller knows what happened on the other
// loop; Queue.Get never does (a value taken for a cancelled Get goes back
// to the head of the queue).
var ErrCompleted = errors.New("loops: the remote side had completed before the cancellation reached it")

// ErrRemoteCanceled is returned (wrapped) by Call and CallFunc when the
// remote task was cancelled by its own loop rather than by the caller. It
// does not match context.Canceled, so that the caller's cancel scopes and
// task groups do not take it for their own cancellation. A remote loop that
// is shutting down or closing makes it match aio.ErrClosed too.
var ErrRemoteCanceled = errors.New("loops: the remote task was canceled on its loop")

// ErrNotIdle is returned (wrapped) by MoveStream and MoveTransport for a
// connection that has bytes buffered, which would not move with it.
var ErrNotIdle = errors.New("loops: the connection is not idle (bytes buffered)")

// ErrQueueClosed is returned by Queue.Put after Queue.Close, and by
// Queue.Get once a closed queue is empty.
var ErrQueueClosed = errors.New("loops: queue closed")
