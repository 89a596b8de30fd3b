//go:build linux

package subprocess_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/internal/leakcheck"
	"github.com/aiogo/aio/aio/subprocess"
)

// TestMain checks, after all the tests of the package, that none of them
// left a goroutine behind.
func TestMain(m *testing.M) {
	leakcheck.VerifyTestMain(m)
}

// testTimeout bounds every loop of the tests: nothing here takes more than
// a fraction of it on any machine.
const testTimeout = 60 * time.Second

// modes runs f with the pidfd exit watch and with the fallback.
func modes(t *testing.T, f func(t *testing.T)) {
	t.Run("pidfd", func(t *testing.T) {
		defer subprocess.SetPidfd(true)()
		f(t)
	})
	t.Run("fallback", func(t *testing.T) {
		defer subprocess.SetPidfd(false)()
		f(t)
	})
}

// run runs body as the main task of a new loop, bounded by testTimeout, and
// checks that it left no fd open and no child of its own unreaped. Bodies
// call t.Errorf, never t.Fatal.
func run(t *testing.T, body func(c *aio.Ctx) error) {
	t.Helper()
	before := leakcheck.OpenFDs(t)
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		return struct{}{}, aio.WithTimeout(c, testTimeout, body)
	})
	if err != nil {
		t.Fatal(err)
	}
	if after := leakcheck.OpenFDs(t); after != before {
		t.Errorf("fds open: %d before, %d after", before, after)
	}
	if z := zombies(t); len(z) > 0 {
		t.Errorf("zombie children left: %v", z)
	}
}

// procState returns the state letter of /proc/<pid>/stat ('Z' for a
// zombie), or 0 if the process is gone.
func procState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0
	}
	return s[i+2]
}

// zombies lists the zombie children of this process.
func zombies(t *testing.T) []int {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	me := fmt.Sprint(os.Getpid())
	var z []int
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+1:])
		if len(f) > 2 && f[0] == "Z" && f[1] == me {
			z = append(z, pid)
		}
	}
	return z
}
