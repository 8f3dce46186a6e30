package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kelpie-dev/kelpie/control"
	"github.com/kelpie-dev/kelpie/procs"
	"github.com/kelpie-dev/kelpie/vterm"
)

// sendKeysCommand is `kelpie send-keys NAME KEY...`: typing into a tty
// unit from the command line, as its pane's typing mode does.
func (c *cli) sendKeysCommand() *cobra.Command {
	var literal bool
	cmd := &cobra.Command{
		Use:   "send-keys NAME KEY... [flags]",
		Short: "Type keys into a tty unit (tty: true), as tmux send-keys does",
		Long: `Send keys to a tty unit's child, each encoded as the child asked (cursor
keys in application mode, for one). A KEY that names a key is that key:
Enter, Tab, BTab, Esc, Space, BSpace, Up, Down, Left, Right, Home, End,
PageUp, PageDown, Insert, Delete, F1..F12, with optional C- (ctrl), M- (alt)
and S- (shift) prefixes, or C-/M- on one character (C-c, C-d, M-x); any
other KEY is literal text, sent as it is (no space is added between KEYs).
With -l every KEY is literal text. A unit without a terminal is refused.`,
		Example: "  kelpie send-keys shell 'ls -l' Enter\n  kelpie send-keys repl C-c\n  kelpie send-keys vim Esc :wq Enter",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return c.argsFor("NAME", "KEY")(cmd, args)
			}
			return nil
		},
		ValidArgsFunction: c.completeKeys,
		RunE: func(cmd *cobra.Command, args []string) error {
			var keys []vterm.Key
			if literal {
				for _, a := range args[1:] {
					keys = append(keys, vterm.Key{Code: vterm.KeyRune, Text: a})
				}
			} else {
				keys = vterm.ParseKeys(args[1:])
			}
			err := c.request(cmd, control.Request{V: control.ProtocolVersion, Cmd: "keys", Name: args[0], Keys: keys})
			if errors.Is(err, procs.ErrNotTTY) {
				return fmt.Errorf("%s has no terminal to type into (send-keys is for units with tty: true): %w", args[0], err)
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&literal, "literal", "l", false, "send every KEY as literal text, none as a key name")
	return cmd
}

// keyNames are offered for `kelpie send-keys NAME <TAB>`: the key names
// vterm.ParseKeys knows, and the ctrl keys most often sent.
var keyNames = []string{
	"Enter", "Tab", "BTab", "Esc", "Space", "BSpace", "Up", "Down", "Left", "Right",
	"Home", "End", "PageUp", "PageDown", "Insert", "Delete",
	"F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11", "F12",
	"C-c", "C-d", "C-z", "C-l", "C-a",
}

// completeKeys completes send-keys' NAME with the units, then key names.
func (c *cli) completeKeys(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return c.completeUnits(cmd, args, prefix)
	}
	return withPrefix(keyNames, prefix), cobra.ShellCompDirectiveNoFileComp
}
