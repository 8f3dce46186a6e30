// Command embed shows kelpie as a library: a Go program registers its own
// worker functions and processes with a procs.Supervisor, serves the control
// socket (so `kelpie ps`, `kelpie send crawler '{"ping":1}'`, `kelpie logs
// crawler`, `kelpie stop crawler` work on it, with KELPIE_SOCKET or -s), and
// opens kelpie's screen, or runs headless until told to stop.
//
//	go run ./examples/embed            # the screen
//	go run ./examples/embed -headless  # no screen; stop with Ctrl-C or `kelpie down`
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/kelpie-dev/kelpie/control"
	"github.com/kelpie-dev/kelpie/procs"
	"github.com/kelpie-dev/kelpie/ui"
)

func main() {
	headless := flag.Bool("headless", false, "run without the screen (the control socket only)")
	socket := flag.String("socket", "", "the control socket's path (default: $KELPIE_SOCKET, else one for this program)")
	flag.Parse()
	if err := run(*headless, *socket); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

// crawl is a worker function: it "fetches" a page every 100 ms, counts pages
// in the group's shared counter, and answers messages: {"ping": x} with
// {"pong": x}, anything else with the pages it fetched.
func crawl(ctx context.Context, w procs.Worker) error {
	w.Printf("crawler %d ready", w.Index())
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	mine := 0
	for {
		select {
		case <-ctx.Done():
			w.Printf("crawler %d stopping after %d pages", w.Index(), mine)
			return nil
		case m := <-w.Inbox():
			var p struct {
				Ping json.RawMessage `json:"ping"`
			}
			if json.Unmarshal(m, &p) == nil && p.Ping != nil {
				_ = w.Send(map[string]json.RawMessage{"pong": p.Ping})
				continue
			}
			_ = w.Send(map[string]int{"pages": mine})
		case <-t.C:
			mine++
			total := w.Add("pages", 1)
			if mine%10 == 0 {
				w.Printf("crawler %d: %d pages (%d in all)", w.Index(), mine, total)
			}
		}
	}
}

func run(headless bool, socket string) error {
	sup, err := procs.New(procs.Options{Subreaper: true})
	if err != nil {
		return err
	}
	shutdown := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = sup.Shutdown(ctx)
	}
	defer shutdown()
	// Four crawler workers, crawler/0 .. crawler/3, sharing "pages".
	if err := sup.Go("crawler", 4, crawl); err != nil {
		return err
	}
	// A built-in task and a plain process beside them.
	primes, err := procs.BuiltinTask("primes", []string{"2000000", "10ms"})
	if err != nil {
		return err
	}
	if err := sup.AddGroup(procs.Spec{Name: "primes", Kind: procs.KindWorker, Task: primes, TaskName: "primes",
		Shared: []string{"found", "checked"}}, 2); err != nil {
		return err
	}
	if err := sup.Add(procs.Spec{Name: "clock", Shell: "while :; do date +%T; sleep 1; done"}); err != nil {
		return err
	}

	if socket == "" {
		exe, _ := os.Executable()
		if socket, err = control.Path("", filepath.Clean(exe)); err != nil {
			return err
		}
	}
	srv, err := control.Listen(socket)
	if err != nil {
		return err
	}
	defer srv.Close()
	srv.Down = shutdown // `kelpie down`
	go srv.Serve(sup)
	if err := sup.StartAll(); err != nil {
		return err
	}
	if !headless {
		return ui.Run(ui.Local(sup), ui.Options{Title: "embed"})
	}
	fmt.Println("embed: running; control socket", socket)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sigs:
		shutdown()
	case <-sup.Done():
	}
	return nil
}
