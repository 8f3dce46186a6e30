package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kelpie-dev/kelpie/config"
	"github.com/kelpie-dev/kelpie/export"
	"github.com/kelpie-dev/kelpie/procs"
)

// exportKinds are the engines `kelpie export` writes for.
func exportKinds() []string { return []string{"systemd", "kubernetes"} }

// exportCommand is `kelpie export systemd|kubernetes DIR`. Its flags live
// here rather than on cli: no other command shares them.
func (c *cli) exportCommand() *cobra.Command {
	var prefix, image string
	var force bool
	cmd := &cobra.Command{
		Use:   "export systemd|kubernetes DIR [flags]",
		Short: "Write the config as systemd units or Kubernetes objects into DIR",
		Long: `Write the config's processes and clusters as files another engine runs the
stack from, into DIR (created if missing):

  systemd     PREFIX.target for the stack, PREFIX-NAME.service per process
              (and PREFIX-NAME.timer for a schedule), and per cluster a
              PREFIX-NAME.socket shared by PREFIX-NAME@.service instances
              0 .. N-1 (LISTEN_FDS, KELPIE_WORKER_ID=%i, as kelpie does).
  kubernetes  one YAML file per object: PREFIX-NAME.deployment.yaml per
              process and cluster (replicas = instances),
              PREFIX-NAME.cronjob.yaml per scheduled process and
              PREFIX-NAME.service.yaml per cluster; apply with
              kubectl apply -f DIR.

What the engine cannot express (message channels, worker groups, watch,
log probes, ...) is printed, one line each, and written as a comment at the
top of the affected file. A file in DIR that kelpie did not write is never
replaced without --force. PREFIX defaults to the config directory's name.`,
		Example: "  kelpie export systemd /etc/systemd/system\n  kelpie export kubernetes deploy/ --image ghcr.io/me/app:1.2",
		Args:    c.argsFor("systemd|kubernetes", "DIR"),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return exportKinds(), cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveFilterDirs
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runExport(cmd, args[0], args[1], export.Options{Prefix: prefix, Image: image}, force)
		},
	}
	c.configFlags(cmd, false)
	cmd.Flags().StringVar(&prefix, "prefix", "", "start every unit and object name with `PREFIX` (default: the config directory's name)")
	cmd.Flags().StringVar(&image, "image", "", "kubernetes: the container `IMAGE` of every workload (default "+export.DefaultImage+", which must be replaced)")
	cmd.Flags().BoolVar(&force, "force", false, "replace files in DIR that kelpie did not write")
	return cmd
}

// runExport loads the config and writes the export.
func (c *cli) runExport(cmd *cobra.Command, kind, dir string, opt export.Options, force bool) error {
	var build func(*config.File, export.Options) (*export.Result, error)
	switch kind {
	case "systemd":
		build = export.Systemd
	case "kubernetes":
		build = export.Kubernetes
	default:
		return usagef(cmd, "unknown export kind %q (want systemd or kubernetes)", kind)
	}
	if opt.Prefix != "" {
		if err := export.CheckPrefix(opt.Prefix); err != nil {
			return usagef(cmd, "--prefix: %v", err)
		}
	}
	f, err := c.loadConfig()
	if err != nil {
		return err
	}
	res, err := build(f, opt)
	if err != nil {
		return err
	}
	if err := export.Write(dir, res.Files, force); err != nil {
		return err
	}
	for _, file := range res.Files {
		fmt.Fprintln(c.stdout, procs.Clean(filepath.Join(dir, file.Name)))
	}
	for _, n := range res.Notes {
		what := "not carried over:"
		switch n.Kind {
		case export.Secret:
			what = "written in clear:"
		case export.Info:
			what = "note:"
		}
		fmt.Fprintln(c.stderr, "kelpie export:", what, procs.Clean(n.String()))
	}
	return nil
}
