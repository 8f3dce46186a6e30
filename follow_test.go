package main

import (
	"testing"
)

// countingWriter counts the writes made to it.
type countingWriter struct {
	writes int
	bytes  []byte
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	w.bytes = append(w.bytes, p...)
	return len(p), nil
}

// A batch of followed lines reaches stdout in one write, not one per line.
func TestLogPrinterWritesOncePerBatch(t *testing.T) {
	var w countingWriter
	p := &logPrinter{out: &w}
	for i := range 100 {
		if err := p.add("api", line(uint64(i+1), "x")); err != nil {
			t.Fatal(err)
		}
	}
	if w.writes != 0 {
		t.Fatalf("%d writes before the batch ended", w.writes)
	}
	if err := p.flush(); err != nil {
		t.Fatal(err)
	}
	if w.writes != 1 || len(w.bytes) != 100*len("03:04:05.001 x\n") {
		t.Fatalf("%d writes of %d bytes, want one of every line", w.writes, len(w.bytes))
	}
}
