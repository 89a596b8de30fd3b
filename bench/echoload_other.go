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

func startOnCPUs(cmd *exec.Cmd, _ []int) error { return cmd.Start() }

func echoPlace(int) (server []int, client int, placed string) {
	return nil, -1, "not pinned (not Linux)"
}

// processCPUTime is not available: the server's own getrusage is used.
func processCPUTime(int) (int64, error) { return 0, errors.New("no process CPU clock") }
