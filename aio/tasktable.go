package aio

// taskSet is the loop's table of live tasks (spawned and not done), linked
// through Ctx.prev and Ctx.next: O(1) add and remove, no map, and the loop
// owns every task through it (nobody else need hold a reference for a task
// to run to completion). Loop goroutine only.
type taskSet struct {
	head *Ctx
	n    int
}

func (s *taskSet) len() int { return s.n }

func (s *taskSet) add(c *Ctx) {
	c.prev, c.next = nil, s.head
	if s.head != nil {
		s.head.prev = c
	}
	s.head = c
	s.n++
}

func (s *taskSet) remove(c *Ctx) {
	if c.prev == nil && s.head != c {
		return // not in the set (aborted before it was added)
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		s.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next = nil, nil
	s.n--
}

func (s *taskSet) all() []AnyTask {
	ts := make([]AnyTask, 0, s.n)
	for c := s.head; c != nil; c = c.next {
		ts = append(ts, c.impl)
	}
	return ts
}
