//go:build !linux

package main

import (
	"errors"
	"os/exec"
)

// echoCPUs places nothing where pinning is not built (it needs Linux's
// sched_setaffinity).
func echoCPUs() (cpus [2]int, placed string) {
	return [2]int{-1, -1}, "not pinned (not Linux)"
}

func startOnCPU(cmd *exec.Cmd, _ int) error { return cmd.Start() }

// processCPUTime is not available: the server's own getrusage is used.
func processCPUTime(int) (int64, error) { return 0, errors.New("no process CPU clock") }
