package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// Run shows the screen until the user quits, then returns once the backend
// has shut down. The terminal is restored even if the UI panics, and the
// units are stopped whichever way the screen ends.
func Run(b Backend, opts Options) (err error) {
	// Ask the terminal for its background before Bubble Tea owns the input,
	// so the adaptive colours are settled up front.
	lipgloss.HasDarkBackground()

	m := New(b, opts)
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithoutSignalHandler(), tea.WithFPS(m.opts.FPS))

	// Signals go through the model: the first stops the units gracefully
	// with the screen still up, a second one kills what is left.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	quitSignals := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				p.Send(signalMsg{sig: s})
			case <-quitSignals:
				return
			}
		}
	}()

	final, runErr := p.Run()
	close(quitSignals)
	signal.Stop(sigs)

	m.cancel() // every copy of the model shares this context
	done := false
	if fm, ok := final.(Model); ok {
		done = fm.ShutdownDone()
		if fm.sub != nil {
			fm.sub.Close()
		}
		if done && fm.shutErr != nil && !fm.killing {
			err = fm.shutErr
		}
	}
	if !done {
		// The program ended without the shutdown (a panic, a kill): stop the
		// units here, and let a signal cut the wait short.
		if runErr != nil {
			fmt.Fprintln(os.Stderr, "kelpie: stopping every unit…")
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		serr := b.Shutdown(ctx)
		stop()
		if serr != nil && !errors.Is(serr, context.Canceled) {
			err = errors.Join(err, serr)
		}
	}
	if runErr != nil {
		err = errors.Join(runErr, err)
	}
	return err
}
