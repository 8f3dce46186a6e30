package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/sys/unix"

	"github.com/kelpie-dev/kelpie/procs"
)

// printHeadless prints every unit's output, each line prefixed with the
// unit's name (coloured on a terminal), until the supervisor shuts down. It
// reads from the units' rings, so a slow stdout loses lines (and says how
// many) instead of slowing the children down.
func printHeadless(sup *procs.Supervisor, out io.Writer) {
	snap, sub := sup.Subscribe()
	defer sub.Close()
	order := make([]string, 0, len(snap))
	width := 0
	for _, in := range snap {
		order = append(order, in.Name)
		width = max(width, len(in.Name))
	}
	tty := isTerminal(out)
	prefix := make(map[string]string, len(order))
	for i, name := range order {
		p := fmt.Sprintf("%-*s | ", width, name)
		if tty {
			p = fmt.Sprintf("\x1b[%dm%s\x1b[0m", 31+i%6, p)
		}
		prefix[name] = p
	}
	cursor := make(map[string]uint64, len(order))
	w := bufio.NewWriterSize(out, 64<<10)
	defer w.Flush()
	var buf []byte
	var recs []procs.RawLine
	for {
		b, err := sub.Next(context.Background())
		if err != nil {
			return
		}
		for _, name := range order {
			if _, ok := b.Logs[name]; !ok {
				continue
			}
			for {
				var missed uint64
				buf, recs, missed, err = sup.AppendSince(name, cursor[name], 4096, buf[:0], recs[:0])
				if err != nil {
					break
				}
				if missed > 0 {
					fmt.Fprintf(w, "%s… %d lines dropped (stdout was slower than the output)\n", prefix[name], missed)
				}
				for _, l := range recs {
					text := buf[l.Off : l.Off+l.Len]
					w.WriteString(prefix[name])
					if l.Stream != procs.Stdout {
						w.WriteString("[" + l.Stream.String() + "] ")
					}
					if !tty && bytes.IndexByte(text, 0x1b) >= 0 {
						w.WriteString(ansi.Strip(string(text))) // colours only make sense on a terminal
					} else {
						w.Write(text)
					}
					if l.Cut {
						w.WriteString(" ↩")
					}
					w.WriteByte('\n')
					cursor[name] = l.Seq
				}
				if len(recs) < 4096 {
					break
				}
			}
		}
		if err := w.Flush(); err != nil {
			return
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
