//go:build linux

package main

import (
	"fmt"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// echoCPUs returns the CPUs for the server and the client children, and
// says how they are placed: the first two CPUs this process may run on,
// or -1 for both (no pinning) with fewer than two.
func echoCPUs() (cpus [2]int, placed string) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return [2]int{-1, -1}, fmt.Sprintf("not pinned (sched_getaffinity: %v)", err)
	}
	n := 0
	for cpu := 0; cpu < 1024 && n < 2; cpu++ {
		if set.IsSet(cpu) {
			cpus[n] = cpu
			n++
		}
	}
	if n < 2 {
		return [2]int{-1, -1}, "not pinned (1 CPU): server and client share it"
	}
	return cpus, fmt.Sprintf("server pinned to CPU %d, client to CPU %d", cpus[0], cpus[1])
}

// startOnCPU starts cmd pinned to cpu (not pinned if cpu < 0): the child
// inherits the CPU mask of the thread that forks it, so this thread takes
// the mask for the fork and gets its own back after.
func startOnCPU(cmd *exec.Cmd, cpu int) error {
	if cpu < 0 {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return err
	}
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		return fmt.Errorf("sched_setaffinity: %w", err)
	}
	err := cmd.Start()
	if rerr := unix.SchedSetaffinity(0, &old); rerr != nil && err == nil {
		// This thread would stay on one CPU: stop the child and say so.
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("sched_setaffinity (restore): %w", rerr)
	}
	return err
}

// processCPUTime returns the CPU time (user+system, ns) of the process
// pid so far, from its process CPU clock: clock_getcpuclockid(3)'s
// clock, CPUCLOCK_SCHED.
func processCPUTime(pid int) (int64, error) {
	clock := int32((^pid)<<3 | 2) // MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)
	var ts unix.Timespec
	if err := unix.ClockGettime(clock, &ts); err != nil {
		return 0, err
	}
	return ts.Nano(), nil
}
