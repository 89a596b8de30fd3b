// Hello is the smallest aio program that does something concurrent: the main
// task spawns two greeters that sleep for different times, waits for both
// with Gather, and prints what they return. Both greeters run on the loop
// goroutine, one at a time, yet they sleep at the same time: the program
// takes about 30 ms, not 50.
package main

import (
	"fmt"
	"log"
	"time"

	"github.com/aiogo/aio/aio"
)

// greet is a task body: an ordinary function that suspends in Sleep.
func greet(name string, delay time.Duration) func(*aio.Ctx) (string, error) {
	return func(c *aio.Ctx) (string, error) {
		fmt.Printf("%s: sleeping %v\n", name, delay)
		if err := aio.Sleep(c, delay); err != nil {
			return "", err
		}
		return "hello from " + name, nil
	}
}

func main() {
	start := time.Now()
	greetings, err := aio.Run(func(c *aio.Ctx) ([]string, error) {
		a, err := aio.Spawn(c, greet("alice", 30*time.Millisecond))
		if err != nil {
			return nil, err
		}
		b, err := aio.Spawn(c, greet("bob", 20*time.Millisecond))
		if err != nil {
			return nil, err
		}
		return aio.Gather(c, a, b)
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range greetings {
		fmt.Println(g)
	}
	fmt.Printf("took %v\n", time.Since(start).Round(10*time.Millisecond))
}
