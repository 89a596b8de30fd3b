//go:build linux

package main

// Workloads of package aio/subprocess: a child spawned and waited for
// (/bin/true) from a task, beside os/exec's Cmd.Run from a goroutine.

import (
	"fmt"
	"os/exec"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/subprocess"
)

func subprocessWorkloads() []workload {
	return []workload{
		{
			name:  "subprocess",
			title: "spawn+wait true",
			about: "/bin/true started with subprocess.Command(...).Start from a task and its exit awaited (pidfd on the poller); Go: exec.Command(\"/bin/true\").Run()",
			unit:  nsPerOp, n: 200, quickN: 20,
			aio: aioSubprocessSpawn,
			bases: []baseline{
				{"os/exec Run", goExecTrue},
			},
		},
	}
}

// aioSubprocessSpawn measures n children of /bin/true, each started and waited
// for in turn by the main task.
func aioSubprocessSpawn(n int) (result, error) {
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		m.start()
		for range n {
			p, err := subprocess.Command("/bin/true").Start(c)
			if err != nil {
				return 0, err
			}
			if _, err := p.Wait(c); err != nil {
				return 0, fmt.Errorf("wait: %w", err)
			}
		}
		m.stop()
		return 0, nil
	})
	if err != nil {
		return result{}, err
	}
	return m.perOp(n), nil
}

// goExecTrue measures n runs of /bin/true with os/exec.
func goExecTrue(n int) (result, error) {
	var m meter
	m.start()
	for range n {
		if err := exec.Command("/bin/true").Run(); err != nil {
			return result{}, err
		}
	}
	m.stop()
	return m.perOp(n), nil
}
