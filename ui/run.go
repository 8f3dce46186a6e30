package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
)

// Run shows the screen until the user quits, then returns once the backend
// has shut down. The terminal is restored even if the UI panics, and the
// units are stopped whichever way the screen ends.
func Run(b Backend, opts Options) (err error) {
	// The dark palette until the terminal says otherwise: nothing waits for
	// its answer (see answerReader), so lipgloss must not ask either.
	lipgloss.SetHasDarkBackground(true)

	// kelpie draws its own frames (see screen), so it sets up the terminal
	// itself: raw input, the alternate screen, and the size on every SIGWINCH.
	tty, out := os.Stdin, os.Stdout
	saved, err := term.MakeRaw(tty.Fd())
	if err != nil {
		return fmt.Errorf("the screen needs a terminal (use `kelpie up --headless` without one): %w", err)
	}
	defer func() { _ = term.Restore(tty.Fd(), saved) }()
	scr := newScreen(out)
	scr.open()
	defer scr.close()

	var p *tea.Program
	in := newAnswerReader(tty, func(dark bool) {
		go p.Send(backgroundMsg{dark: dark}) // from the input reader: never block it
	})
	scr.write(seqAskBackground)

	m := New(b, opts)
	suspend := func() tea.Msg {
		scr.suspend() // the terminal as it was, written out
		_ = term.Restore(tty.Fd(), saved)
		stopSelf()
		// `fg`: the terminal is kelpie's again, and may have a new size.
		_, _ = term.MakeRaw(tty.Fd())
		scr.resume()
		if w, h, err := term.GetSize(out.Fd()); err == nil {
			return tea.WindowSizeMsg{Width: w, Height: h}
		}
		return nil
	}
	p = tea.NewProgram(&framed{Model: m, scr: scr, suspend: suspend}, tea.WithInput(in), tea.WithOutput(out),
		tea.WithoutRenderer(), tea.WithoutSignalHandler())

	// Signals go through the model: the first stops the units gracefully
	// with the screen still up, a second one kills what is left.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGWINCH)
	quitSignals := make(chan struct{})
	sendSize := func() {
		if w, h, err := term.GetSize(out.Fd()); err == nil {
			p.Send(tea.WindowSizeMsg{Width: w, Height: h})
		}
	}
	go func() {
		sendSize()
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGWINCH {
					sendSize()
					continue
				}
				p.Send(signalMsg{sig: s})
			case <-quitSignals:
				return
			}
		}
	}()

	final, runErr := p.Run()
	close(quitSignals)
	signal.Stop(sigs)
	scr.close()

	m.cancel() // every copy of the model shares this context
	return finish(b, opts, final, runErr)
}

// finish ends Run once the program has: the model's outcome, and the
// shutdown it did not do (the program ended some other way), except on an
// attached screen, whose kelpie is left running unless Q stopped it.
func finish(b Backend, opts Options, final tea.Model, runErr error) (err error) {
	done, gone := false, false
	if ff, ok := final.(*framed); ok {
		fm := ff.Model
		done = fm.ShutdownDone()
		gone = fm.subEnded && !fm.shutting
		if fm.sub != nil {
			fm.sub.Close()
		}
		if done && fm.shutErr != nil && !fm.killing {
			err = fm.shutErr
		}
	}
	if opts.Attached != "" {
		// Leaving an attached screen leaves its kelpie running, whatever
		// ended the screen; only Q (done) stopped it.
		if gone {
			err = errors.Join(err, &GoneError{Where: opts.Attached})
		}
		return errors.Join(runErr, err)
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

// stopSelf stops kelpie's job as the terminal's ctrl+z would (the screen
// reads ctrl+z as a key in raw mode), and returns once it is continued.
// Units run in process groups of their own, so they keep running.
//
// Where nothing does job control (kelpie is a session leader, its parent is
// no shell), the kernel discards the SIGTSTP and no SIGCONT ever comes: the
// wait is bounded, and then the screen simply comes back. Stopped, the timer
// runs out too, but nothing is read before kelpie runs again.
func stopSelf() {
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, syscall.SIGCONT)
	defer signal.Stop(cont)
	_ = syscall.Kill(0, syscall.SIGTSTP)
	select {
	case <-cont:
	case <-time.After(time.Second / 4):
	}
}
