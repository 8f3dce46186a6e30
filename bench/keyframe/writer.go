package main

import (
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
	// Each line is "keyframe NNNNNNNNNN xxx...x\n", 80 bytes; the counter's
	// 10 digits are rewritten in place.
	line := []byte("keyframe 0000000000 " + strings.Repeat("x", 59) + "\n")
	digits := line[len("keyframe ") : len("keyframe ")+10]
	var buf []byte
	start := time.Now()
	tick := time.NewTicker(writerTick)
	defer tick.Stop()
	var n int64
	for range tick.C {
		due := int64(time.Since(start).Seconds() * float64(*rate))
		buf = buf[:0]
		for ; n < due; n++ {
			v := n
			for i := len(digits) - 1; i >= 0; i-- {
				digits[i] = byte('0' + v%10)
				v /= 10
			}
			buf = append(buf, line...)
		}
		if _, err := os.Stdout.Write(buf); err != nil {
			if errors.Is(err, syscall.EPIPE) {
				return nil // kelpie is gone
			}
			return fmt.Errorf("writer: %w", err)
		}
	}
	return nil
}
