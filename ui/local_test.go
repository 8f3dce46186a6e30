package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// driver runs a Model against a real backend the way Bubble Tea does:
// commands in goroutines, their messages applied one at a time.
type driver struct {
	t    *testing.T
	m    Model
	msgs chan tea.Msg
	quit bool
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if batch, ok := msg.(tea.BatchMsg); ok {
			for _, c := range batch {
				d.run(c)
			}
			return
		}
		d.msgs <- msg
	}()
}

func (d *driver) send(msg tea.Msg) {
	nm, cmd := d.m.Update(msg)
	d.m = nm.(Model)
	d.run(cmd)
}

// until applies messages until cond holds; the deadline only guards
// against a hang, nothing waits for it to pass.
func (d *driver) until(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case msg := <-d.msgs:
			if _, ok := msg.(tea.QuitMsg); ok {
				d.quit = true
				continue
			}
			d.send(msg)
		case <-deadline:
			d.t.Fatalf("timed out waiting for %s; screen:\n%s", what, d.m.View())
		}
	}
}

func TestLocalSupervisorEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	s, err := procs.New(procs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []procs.Spec{
		{Name: "greeter", Shell: `echo hello from greeter; echo oops >&2; exec sleep 60`},
		{Name: "quitter", Shell: `echo bye`, Restart: procs.RestartNever},
	} {
		if err := s.Add(spec); err != nil {
			t.Fatal(err)
		}
	}
	idle := func(ctx context.Context, _ procs.Worker) error { <-ctx.Done(); return nil }
	if err := s.AddGroup(procs.Spec{Name: "idlers", Task: idle, TaskName: "idle", Shared: []string{"seen"}}, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	d := &driver{t: t, m: New(Local(s), Options{}), msgs: make(chan tea.Msg, 64)}
	d.send(tea.WindowSizeMsg{Width: 140, Height: 30})
	d.run(d.m.Init())
	screen := func() string { return d.m.View() }
	d.until("greeter's output", func() bool { return strings.Contains(screen(), "hello from greeter") })
	d.until("quitter to exit", func() bool { return strings.Contains(screen(), "✔ exited 0") })
	d.send(keyMsg("j"))
	d.until("quitter's output", func() bool { return strings.Contains(screen(), "bye") })
	// The worker group: its row, then K on a member: the engine's refusal
	// (a goroutine cannot be killed) and the stop done instead.
	d.until("the group row", func() bool { return strings.Contains(screen(), "2/2 running") && strings.Contains(screen(), "seen=0") })
	d.send(keyMsg("j"))
	d.send(keyMsg("l"))
	d.send(keyMsg("j"))
	if got := d.m.table.selectedName(); got != "idlers/0" {
		t.Fatalf("selected %q", got)
	}
	d.send(keyMsg("K"))
	d.until("K's answer", func() bool {
		return strings.Contains(d.m.status.text, "stopped it instead — a worker is a goroutine")
	})
	d.until("the worker stopped", func() bool {
		return strings.Contains(screen(), "■ stopped") && strings.Contains(screen(), "1/2 running")
	})
	d.send(keyMsg("q"))
	d.until("the shutdown", func() bool { return d.quit })
	if !d.m.ShutdownDone() {
		t.Error("quit before the shutdown finished")
	}
	select {
	case <-s.Done():
	default:
		t.Error("supervisor still running after quit")
	}
}
