package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/kelpie-dev/kelpie/config"
	"github.com/kelpie-dev/kelpie/control"
	"github.com/kelpie-dev/kelpie/demo"
	"github.com/kelpie-dev/kelpie/logfile"
	"github.com/kelpie-dev/kelpie/procs"
	"github.com/kelpie-dev/kelpie/ui"
)

// loadConfig loads the config -f names or locate finds (never the demo):
// none found is a usage error saying so, and a bad one a usage error with
// its positioned messages, for validate, export and logs alike.
func (c *cli) loadConfig() (*config.File, error) {
	path, _, err := c.locate()
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, &exitError{code: exitUsage, text: "kelpie: no " + configNames + " here or above (use -f FILE)"}
	}
	f, err := config.Load(path)
	if err != nil {
		return nil, &exitError{code: exitUsage, text: err.Error()}
	}
	return f, nil
}

func (c *cli) runValidate(*cobra.Command, []string) error {
	f, err := c.loadConfig()
	if err != nil {
		return err
	}
	if len(f.Clusters) > 0 {
		fmt.Fprintf(c.stdout, "%s: %d processes, %d clusters, OK\n", f.Path, len(f.Specs), len(f.Clusters))
		return nil
	}
	fmt.Fprintf(c.stdout, "%s: %d processes, OK\n", f.Path, len(f.Specs))
	return nil
}

// specs loads what up runs: the config at path, or the demo when path is "".
func (c *cli) specs(path, exe string) (f *config.File, title string, err error) {
	if path == "" {
		return &config.File{Specs: demo.Specs(exe), Clusters: demo.Clusters(exe)}, "demo", nil
	}
	f, err = config.Load(path)
	if err != nil {
		// The positioned errors, as validate prints them.
		return nil, "", &exitError{code: exitUsage, text: err.Error()}
	}
	return f, configTitle(path), nil
}

// listenAll binds every cluster's address, before anything starts: one
// that cannot be bound is one error naming it, and nothing runs.
func listenAll(clusters []procs.Cluster) ([]*net.TCPListener, error) {
	lns := make([]*net.TCPListener, 0, len(clusters))
	for i := range clusters {
		ln, err := procs.ListenCluster(&clusters[i])
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// configTitle names a config in the header: its folder (the project), and
// the file too when it is not one of the names kelpie looks for.
func configTitle(path string) string {
	dir := filepath.Base(filepath.Dir(path))
	switch name := filepath.Base(path); name {
	case "kelpie.yaml", "kelpie.yml", "Procfile":
		return dir
	default:
		return dir + "/" + name
	}
}

func (c *cli) runUp(*cobra.Command, []string) error {
	if c.detach {
		return c.runDetach()
	}
	if !c.headless && (!isTerminal(os.Stdin) || !isTerminal(os.Stdout)) {
		return &exitError{code: exitUsage, text: "kelpie: the screen needs a terminal; use `kelpie up --headless` to run without one"}
	}
	path, key, err := c.locate()
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	f, title, err := c.specs(path, exe)
	if err != nil {
		return err
	}
	specs, clusters := f.Specs, f.Clusters
	if c.logDir != "" {
		f.Logs.Dir = c.logDir
	}
	lns, err := listenAll(clusters)
	if err != nil {
		return err
	}
	sockPath, err := control.Path(c.socket, key)
	if err != nil {
		return err
	}
	srv, err := control.Listen(sockPath)
	if err != nil {
		return err
	}
	defer srv.Close()

	// The socket's lock is ours: a run record beside it from a kelpie that
	// died with its guard (killall -9 kelpie) names what that run left.
	stateFile := procs.StateFileFor(sockPath)
	n, err := procs.ReapLeftovers(stateFile)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(c.stderr, "kelpie: the previous kelpie for this config died with its guard; killed the %d processes it left\n", n)
	}

	tag := procs.NewTag()
	// The guard (kelpie re-executed) cleans up after us even if we are
	// SIGKILLed; the supervisor starts it and replaces it if it dies.
	sup, err := procs.New(procs.Options{Tag: tag, Subreaper: true, Guard: []string{exe, guardArg, tag}, StateFile: stateFile})
	if err != nil {
		return err
	}
	shutdown := shutdownFunc(sup, stopWait(f))
	if f.Logs.Dir != "" {
		// Started before any unit, so the files have every line from the
		// first; shutdown waits until the last is on disk.
		w, err := logfile.Start(sup, logfile.Options{Dir: f.Logs.Dir, MaxSize: f.Logs.MaxSize, MaxFiles: f.Logs.MaxFiles,
			OnError: func(unit string, err error) {
				_ = sup.Note(unit, "log file: "+err.Error()+" (no more of this unit's lines go to disk)")
			}})
		if err != nil {
			shutdown()
			return err
		}
		stop := shutdown
		shutdown = func() {
			stop()
			_ = w.Wait()
		}
	}
	for _, sp := range specs {
		if err := sup.Add(sp); err != nil {
			shutdown()
			return err
		}
	}
	for i, cl := range clusters {
		if err := sup.AddCluster(cl, lns[i]); err != nil {
			shutdown()
			return err
		}
	}
	srv.Down = shutdown
	go srv.Serve(sup)

	if err := sup.StartAll(); err != nil {
		shutdown()
		return err
	}
	defer shutdown()
	if c.headless {
		c.runHeadless(sup, shutdown)
		return nil
	}
	return ui.Run(ui.Local(sup), ui.Options{Title: title, Version: version})
}

// stopWait is how long stopping every unit of f (its processes and its
// clusters) may take: a little longer than the longest stop timeout.
func stopWait(f *config.File) time.Duration {
	var wait time.Duration
	for _, sp := range f.Specs {
		wait = max(wait, sp.StopTimeout)
	}
	for _, cl := range f.Clusters {
		wait = max(wait, cl.Spec.StopTimeout)
	}
	return max(wait, procs.DefaultStopTimeout) + 5*time.Second
}

// shutdownFunc stops every unit, waiting at most wait (see stopWait).
func shutdownFunc(sup *procs.Supervisor, wait time.Duration) func() {
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_ = sup.Shutdown(ctx)
	}
}
