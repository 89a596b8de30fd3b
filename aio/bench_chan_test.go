package aio_test

import (
	"testing"

	"github.com/aiogo/aio/aio"
)

// Benchmarks of Chan and Select, with Go's channels as the baseline.

// BenchmarkChanPingPong measures a round trip between two tasks over two
// unbuffered Chans.
func BenchmarkChanPingPong(b *testing.B) {
	l := benchLoop(b)
	b.ReportAllocs()
	t, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		var ping, pong aio.Chan[int]
		aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			for {
				v, ok, err := ping.Recv(c)
				if err != nil || !ok {
					return 0, err
				}
				pong.Send(c, v)
			}
		})
		b.ResetTimer()
		for i := range b.N {
			ping.Send(c, i)
			pong.Recv(c)
		}
		b.StopTimer()
		ping.Close()
		return 0, nil
	})
	aio.RunUntilComplete(l, t)
}

// BenchmarkGoChanPingPong is the baseline: two goroutines over two
// unbuffered channels.
func BenchmarkGoChanPingPong(b *testing.B) {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	b.ReportAllocs()
	for i := range b.N {
		ping <- i
		<-pong
	}
	close(ping)
}

// BenchmarkSelect4 measures a Select over four buffered Chans of which one
// holds a value.
func BenchmarkSelect4(b *testing.B) {
	l := benchLoop(b)
	b.ReportAllocs()
	t, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		chans := [4]*aio.Chan[int]{aio.NewChan[int](1), aio.NewChan[int](1), aio.NewChan[int](1), aio.NewChan[int](1)}
		var v int
		b.ResetTimer()
		for i := range b.N {
			chans[i&3].TrySend(i)
			aio.Select(c, aio.RecvCase(chans[0], &v, nil), aio.RecvCase(chans[1], &v, nil),
				aio.RecvCase(chans[2], &v, nil), aio.RecvCase(chans[3], &v, nil))
		}
		return 0, nil
	})
	aio.RunUntilComplete(l, t)
}

// BenchmarkSelect4Reused is BenchmarkSelect4 with the four cases made once,
// before the loop, and passed to every Select.
func BenchmarkSelect4Reused(b *testing.B) {
	l := benchLoop(b)
	b.ReportAllocs()
	t, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		chans := [4]*aio.Chan[int]{aio.NewChan[int](1), aio.NewChan[int](1), aio.NewChan[int](1), aio.NewChan[int](1)}
		var v int
		cases := []aio.SelectCase{aio.RecvCase(chans[0], &v, nil), aio.RecvCase(chans[1], &v, nil),
			aio.RecvCase(chans[2], &v, nil), aio.RecvCase(chans[3], &v, nil)}
		b.ResetTimer()
		for i := range b.N {
			chans[i&3].TrySend(i)
			aio.Select(c, cases...)
		}
		return 0, nil
	})
	aio.RunUntilComplete(l, t)
}

// BenchmarkGoSelect4 is the baseline: Go's select over four buffered
// channels of which one holds a value.
func BenchmarkGoSelect4(b *testing.B) {
	var chans [4]chan int
	for i := range chans {
		chans[i] = make(chan int, 1)
	}
	b.ReportAllocs()
	for i := range b.N {
		chans[i&3] <- i
		select {
		case <-chans[0]:
		case <-chans[1]:
		case <-chans[2]:
		case <-chans[3]:
		}
	}
}
