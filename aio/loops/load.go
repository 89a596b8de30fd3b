package loops

import "github.com/aiogo/aio/aio"

// loadOf is the load PickLeast compares: the loop's live tasks, queued
// callbacks and watched descriptors as it last published them
// (aio.Loop.Metrics: the loop publishes when it parks and every 128
// callbacks, so the figures are at most that much behind), plus the
// connections the group's servers placed on the loop and that its metrics
// may not show yet (a connection handed through the door and not taken in).
func loadOf(s *slot, l *aio.Loop) int64 {
	m := l.Metrics()
	return int64(m.LiveTasks+m.ReadyDepth+m.FDs) + s.load.Load()
}
