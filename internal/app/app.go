// Package app builds the root command, runs it, and turns its error into
// one message on stderr and an exit code.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tw-cli/tw-cli/internal/cmd/root"
	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/sources"
)

// Set at build time with -ldflags "-X …".
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// Main runs tw-cli with os.Args and returns the exit code.
func Main() int {
	ios := iostreams.System()
	var cmd *cobra.Command
	f, cleanup := newFactory(ios, version, func() *pflag.FlagSet { return cmd.PersistentFlags() })
	defer cleanup()
	cmd = root.NewCmdRoot(f, root.BuildInfo{Version: version, Commit: commit, Date: date})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Subcommands with their own PersistentPreRunE must not skip the
	// root's (--jq).
	cobra.EnableTraverseRunHooks = true
	err := cmd.ExecuteContext(ctx)
	if ferr := ios.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	if err == nil {
		return cmdutil.ExitOK
	}
	// cobra finds an unknown top-level command itself, before any RunE,
	// and says so in a plain error: a typo is a usage error (exit 2), as
	// it is below the top (cmdutil.RunGroup).
	var fe *cmdutil.FlagError
	if !errors.As(err, &fe) && strings.HasPrefix(err.Error(), "unknown command ") {
		err = &cmdutil.FlagError{Err: err}
	}
	printError(ios, cmd, err)
	return cmdutil.ExitCode(err)
}

func printError(ios *iostreams.IOStreams, cmd *cobra.Command, err error) {
	switch {
	case errors.Is(err, cmdutil.ErrSilent):
		return
	case errors.Is(err, cmdutil.ErrCancel):
		fmt.Fprintln(ios.ErrOut, "Cancelled.")
		return
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(ios.ErrOut, "Interrupted.")
		return
	}
	// Errors quote what servers, consoles and files said: their control
	// characters are shown, not sent to the terminal.
	msg := output.PrintableText(err.Error())
	if sources.IsUnauthorized(err) {
		fmt.Fprintf(ios.ErrOut, "error: %s\nCheck --token/TW_TOKEN; create a token on the server with 'tw-cli token create'.\n", msg)
		return
	}
	fmt.Fprintf(ios.ErrOut, "error: %s\n", msg)
	var fe *cmdutil.FlagError
	// cobra's own flag errors ("unknown flag") get a pointer to help.
	if errors.As(err, &fe) && !strings.Contains(msg, "Usage:") {
		fmt.Fprintf(ios.ErrOut, "Run '%s --help' for usage.\n", commandPath(cmd))
	}
}

func commandPath(cmd *cobra.Command) string {
	if c, _, err := cmd.Find(os.Args[1:]); err == nil && c != nil {
		return c.CommandPath()
	}
	return cmd.CommandPath()
}

// NewRootForDocs returns the command tree with a factory that is never
// used: documentation generation only walks the commands.
func NewRootForDocs() *cobra.Command {
	var cmd *cobra.Command
	f, _ := newFactory(iostreams.System(), version, func() *pflag.FlagSet { return cmd.PersistentFlags() })
	cmd = root.NewCmdRoot(f, root.BuildInfo{Version: version})
	return cmd
}
