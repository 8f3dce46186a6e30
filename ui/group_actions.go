package ui

import (
	"errors"
	"strings"
	"sync"
	"syscall"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// Actions on a group row: the engine acts on units, so the screen makes one
// call per member (several at once: a restart waits for each new run) and
// says the outcome in one status line.

// applies says which members an action on a group row reaches: start the
// ones not running, stop the ones that can stop, kill and signal the live
// ones (a signal only those with a process). Restart reaches every member.
func applies(verb string) func(in *procs.Info) bool {
	switch verb {
	case "start":
		return func(in *procs.Info) bool { return !in.State.Live() }
	case "stop":
		return func(in *procs.Info) bool { return canStop(in.State) }
	case "kill":
		return func(in *procs.Info) bool { return in.State.Live() }
	case "signal":
		return func(in *procs.Info) bool { return in.State.Live() && in.PID != 0 }
	}
	return nil
}

// targets lists the names an action on r reaches: the members of a
// virtual group row that want (filtered or folded away too; every member
// when want is nil), else r's own name.
func (r *unitRow) targets(want func(*procs.Info) bool) []string {
	if !r.virtual {
		return []string{r.info.Name}
	}
	out := make([]string, 0, len(r.members))
	for _, m := range r.members {
		if want == nil || want(&m.info) {
			out = append(out, m.info.Name)
		}
	}
	return out
}

// groupCalls is how many calls of a group action run at once (a restart
// waits for its member's new run, so they run side by side).
const groupCalls = 16

// groupAct runs f on every name, groupCalls at a time, and reports them in one actionMsg.
func groupAct(verb, sig, group string, names []string, f func(string) error) tea.Cmd {
	return func() tea.Msg {
		errs := make([]error, len(names))
		// A few at a time: over a control socket each call is a
		// connection, and a group may have a thousand members.
		sem := make(chan struct{}, groupCalls)
		var wg sync.WaitGroup
		for i, n := range names {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				errs[i] = f(n)
			}()
		}
		wg.Wait()
		msg := actionMsg{verb: verb, name: group, sig: sig, group: true, n: len(names)}
		for i, err := range errs {
			var ie *insteadErr
			switch {
			case err == nil:
			case errors.As(err, &ie) && ie.stopped:
				msg.instead++
				msg.why = trimErr(ie.refused, verb, names[i])
			default:
				msg.failed = append(msg.failed, names[i]+": "+trimErr(err, verb, names[i]))
			}
		}
		return msg
	}
}

// insteadErr is an action the engine refused, and what the screen did
// in its place.
type insteadErr struct {
	name    string
	refused error
	did     string
	stopped bool // the stop went through
}

// Error says what was done first: the status line is one line, and the
// engine's words are long.
func (e *insteadErr) Error() string { return e.did + " — " + trimErr(e.refused, "kill", e.name) }
func (e *insteadErr) Unwrap() error { return e.refused }

// killOrStop kills a unit; a worker the engine refuses to kill (a
// goroutine cannot be killed) is stopped instead, and the error says both.
// The refusal is procs.ErrUnkillable locally and over a control socket.
func killOrStop(be Backend, name string) error {
	err := be.Signal(name, syscall.SIGKILL)
	if err == nil || !errors.Is(err, procs.ErrUnkillable) {
		return err
	}
	if serr := be.Stop(name); serr != nil {
		return &insteadErr{name: name, refused: err, did: "stopping it instead failed: " + serr.Error()}
	}
	return &insteadErr{name: name, refused: err, did: "stopped it instead", stopped: true}
}

// groupDone words a group action's outcome: how many members it reached,
// and the failures, the first few in full.
func (m *Model) groupDone(msg actionMsg) tea.Cmd {
	what := plural(msg.n, "member") + " of " + msg.name
	if msg.n == 0 {
		return m.setStatus(statusInfo, msg.verb+" "+msg.name+": no member to "+msg.verb)
	}
	if msg.instead > 0 && len(msg.failed) == 0 {
		// Every member refused as a goroutine: one refusal says it.
		return m.setStatus(statusError, msg.verb+" "+msg.name+": stopped "+plural(msg.instead, "member")+" instead — "+msg.why)
	}
	if len(msg.failed) == 0 {
		switch msg.verb {
		case "start":
			return m.setStatus(statusOK, "started "+what)
		case "stop":
			return m.setStatus(statusOK, "stopping "+what)
		case "restart":
			return m.setStatus(statusOK, "restarted "+what)
		}
		return m.setStatus(statusOK, "sent "+msg.sig+" to "+what)
	}
	return m.setStatus(statusError, msg.verb+" "+msg.name+": "+failureText(msg.failed, msg.n))
}

// failureText says how many of a group's n members failed and names the
// first few failures: a thousand do not fit a status line.
func failureText(failed []string, n int) string {
	const shown = 3
	text := plural(len(failed), "failure") + " of " + plural(n, "member") + ": " + strings.Join(failed[:min(len(failed), shown)], "; ")
	if len(failed) > shown {
		text += "; …"
	}
	return text
}

// groupSend sends one message to each member at once: a failure names its
// members, the first few.
func groupSend(be Backend, group string, names []string, msg []byte) tea.Cmd {
	act := groupAct("send to", "", group, names, func(n string) error { return be.Send(n, msg) })
	return func() tea.Msg {
		res := act().(actionMsg)
		out := sendMsg{name: group, text: string(msg), members: res.n}
		if len(res.failed) > 0 {
			out.err = errors.New(failureText(res.failed, res.n))
		}
		return out
	}
}

// workerNote says what can be done with a worker in state s instead of a
// signal.
func workerNote(s procs.State) string {
	switch s {
	case procs.Stuck:
		return "it was asked to stop and stays stuck until it returns"
	case procs.Stopping:
		return "it is stopping"
	}
	if s.Live() {
		return "x stops it"
	}
	return "it is not running"
}
