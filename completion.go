package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// completeTimeout bounds the question to the running kelpie while the user
// waits at a prompt; no answer in time means no completions.
const completeTimeout = 300 * time.Millisecond

// completeUnits completes a command's first argument with the names of the
// running kelpie's units. No kelpie running gives no completions and no
// message: the shell's prompt is no place for errors.
func (c *cli) completeUnits(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), completeTimeout)
	defer cancel()
	names, err := c.unitNames(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return withPrefix(names, prefix), cobra.ShellCompDirectiveNoFileComp
}

// signalNames are offered for `kelpie signal NAME <TAB>`; any name or
// number procs.ParseSignal knows is accepted.
var signalNames = []string{"TERM", "INT", "HUP", "QUIT", "KILL", "USR1", "USR2", "STOP", "CONT", "WINCH"}

func (c *cli) completeSignal(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 1 {
		return withPrefix(signalNames, strings.ToUpper(prefix)), cobra.ShellCompDirectiveNoFileComp
	}
	return c.completeUnits(cmd, args, prefix)
}

func withPrefix(words []string, prefix string) []string {
	var out []string
	for _, w := range words {
		if strings.HasPrefix(w, prefix) {
			out = append(out, w)
		}
	}
	return out
}
