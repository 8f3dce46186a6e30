package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// writerTick is how often a writer writes its due lines (1,000 lines a
// second are 10 lines every 10 ms).
const writerTick = 10 * time.Millisecond

// runWriter is the unit role: it prints rate lines a second to stdout,
// forever, each 80 bytes with a running counter. It keeps to the rate by
// writing, every tick, every line due since it started, so a stall is made
// up for rather than lost. It returns when stdout is closed.
func runWriter(args []string) error {
	fs := flag.NewFlagSet("keyframe writer", flag.ContinueOnError)
	rate := fs.Int("rate", 1000, "lines a second")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rate < 1 {
		return errors.New("writer: -rate must be positive")
	}
	// "keyframe " + 10 digits + " " + filler + "\n" = 80 bytes.
	filler := strings.Repeat("x", 80-len("keyframe ")-10-len(" ")-len("\n"))
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	start := time.Now()
	tick := time.NewTicker(writerTick)
	defer tick.Stop()
	var n int64
	for range tick.C {
		due := int64(time.Since(start).Seconds() * float64(*rate))
		for ; n < due; n++ {
			fmt.Fprintf(w, "keyframe %010d %s\n", n, filler)
		}
		if err := w.Flush(); err != nil {
			if errors.Is(err, syscall.EPIPE) {
				return nil // kelpie is gone
			}
			return fmt.Errorf("writer: %w", err)
		}
	}
	return nil
}
