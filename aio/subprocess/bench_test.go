//go:build linux

package subprocess_test

import (
	"os/exec"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/subprocess"
)

// BenchmarkSpawnWait measures one child of /bin/true started and waited for
// from a task, with the pidfd watch and with the fallback's goroutine,
// beside os/exec's Cmd.Run.
func BenchmarkSpawnWait(b *testing.B) {
	for _, mode := range []struct {
		name  string
		pidfd bool
	}{{"pidfd", true}, {"fallback", false}} {
		b.Run("aio/"+mode.name, func(b *testing.B) {
			defer subprocess.SetPidfd(mode.pidfd)()
			b.ReportAllocs()
			_, err := aio.Run(func(c *aio.Ctx) (int, error) {
				b.ResetTimer()
				for range b.N {
					p, err := subprocess.Command("/bin/true").Start(c)
					if err != nil {
						return 0, err
					}
					if _, err := p.Wait(c); err != nil {
						return 0, err
					}
				}
				return 0, nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
	b.Run("os-exec", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := exec.Command("/bin/true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
