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

// echoPlace returns the CPUs of a server of procs Ps and the client's CPU,
// and says how they are placed. With procs 1 it is echoCPUs. With more,
// the server gets the first procs CPUs of this process's mask and the
// client the next one; if there is none left (procs CPUs or fewer: on a
// 2-core machine, a server of 2 loops), the client is not pinned and
// shares the CPUs with the server, and the figures say so.
func echoPlace(procs int) (server []int, client int, placed string) {
	if procs <= 1 {
		cpus, placed := echoCPUs()
		return []int{cpus[0]}, cpus[1], placed
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, -1, fmt.Sprintf("not pinned (sched_getaffinity: %v)", err)
	}
	var cpus []int
	for cpu := 0; cpu < 1024 && len(cpus) < procs+1; cpu++ {
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	if len(cpus) < procs {
		return nil, -1, fmt.Sprintf("not pinned (%d CPUs for a server of %d)", len(cpus), procs)
	}
	if len(cpus) == procs {
		return cpus, -1, fmt.Sprintf("server pinned to CPUs %v, client not pinned (it shares them)", cpus)
	}
	return cpus[:procs], cpus[procs], fmt.Sprintf("server pinned to CPUs %v, client to CPU %d", cpus[:procs], cpus[procs])
}

// startOnCPUs starts cmd pinned to the CPUs of cpus that are not negative
// (not pinned if there are none): the child inherits the CPU mask of the
// thread that forks it, so this thread takes the mask for the fork and
// gets its own back after.
func startOnCPUs(cmd *exec.Cmd, cpus []int) error {
	var one unix.CPUSet
	for _, cpu := range cpus {
		if cpu >= 0 {
			one.Set(cpu)
		}
	}
	if one.Count() == 0 {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return err
	}
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
