package executor

import (
	"errors"

	"github.com/aiogo/aio/aio"
)

// ErrFull is returned (wrapped) by Pool.TrySubmit, and by Run and Go with
// FailFast, when every worker is busy: the function is not queued.
var ErrFull = errors.New("executor: full")

// ErrShutdown is returned (wrapped) by Submit on a Pool that is shut down,
// and is the error of a call whose function a Shutdown discarded before it
// ran.
var ErrShutdown = errors.New("executor: shut down")

// ErrUnfinished is matched by the *UnfinishedError of a Shutdown that ended
// before the functions did.
var ErrUnfinished = errors.New("executor: functions did not finish")

// ErrBadSize is returned (wrapped) for a pool size below 1.
var ErrBadSize = errors.New("executor: pool size must be at least 1")

// ErrNilFunc is aio.ErrNilFunc: Run, Go and Submit return it (wrapped) for
// a nil function, and WithExecutor's call for a nil Executor.
var ErrNilFunc = aio.ErrNilFunc

// ErrNilContext is aio.ErrNilContext: Shutdown returns it for a nil
// context.
var ErrNilContext = aio.ErrNilContext
