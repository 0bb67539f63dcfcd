// Package logs implements `tw-cli logs`: read the receiver's log.
package logs

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/logs"
	"github.com/tw-cli/tw-cli/internal/output"
)

// Options are the inputs of `logs`.
type Options struct {
	IO      *iostreams.IOStreams
	DataDir func() (string, error)

	Filter string
	Source string
	Level  string
	Since  string
	Until  string
	Tail   int
	Follow bool
	Output string
	// Poll is how often --follow looks for new lines.
	Poll time.Duration
}

// NewCmdLogs returns `logs`.
func NewCmdLogs(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, DataDir: f.DataDir, Poll: 250 * time.Millisecond}
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Show the receiver's logs",
		Long: `Print the receiver's structured log (<data-dir>/logs/tw-cli.log), one
readable line per entry, or the JSON lines themselves with -o json.

Past 64 MiB the receiver moves its log to tw-cli.log.1 and starts a new
one, keeping three such files (.1 to .3). --tail reads them too when the
current file holds fewer matching entries, and --follow goes on into the
new file.

--filter selects a component: webhook (deliveries), admin (admin API),
server (start, stop, errors), triage.`,
		Example: `  $ tw-cli logs --filter webhook --tail 100
  $ tw-cli logs --source email-gateway --level warn -f
  $ tw-cli logs --filter webhook --since 1h --tail 0
  $ tw-cli logs --since 2024-01-15T10:00:00Z --until 2024-01-15T10:05:00Z --tail 0
  $ tw-cli logs --tail 20 -o json | jq .request_id`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Output != output.Table && opts.Output != output.JSON {
				return cmdutil.FlagErrorf("invalid output format %q: use table or json", opts.Output)
			}
			if opts.Tail < 0 {
				return cmdutil.FlagErrorf("--tail must not be negative")
			}
			if opts.Follow && opts.Until != "" {
				// New entries are logged now, after any --until: following
				// would wait for lines it must never print.
				return cmdutil.FlagErrorf("--until cannot be used with --follow")
			}
			if runF != nil {
				return runF(opts)
			}
			return Run(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Filter, "filter", "", "Only this `component`: webhook, admin, server, triage")
	fl.StringVar(&opts.Source, "source", "", "Only entries about this webhook `source`")
	_ = cmd.RegisterFlagCompletionFunc("source", cmdutil.CompleteLocalSourceNames(f))
	fl.StringVar(&opts.Level, "level", "", "Only entries at this `level` or above: debug, info, warn, error")
	fl.StringVar(&opts.Since, "since", "", "Only entries since this `time`: a duration back (90m, 24h, 7d), a date (UTC midnight) or RFC 3339")
	fl.StringVar(&opts.Until, "until", "", "Only entries before this `time`: a duration back (90m, 24h, 7d), a date or RFC 3339")
	fl.IntVarP(&opts.Tail, "tail", "n", 100, "Show the last `N` matching entries (0 for all)")
	fl.BoolVarP(&opts.Follow, "follow", "f", false, "Keep printing new entries until Ctrl-C")
	fl.StringVarP(&opts.Output, "output", "o", output.Table, "Output format: table (readable lines) or json (JSON lines)")
	fixed := func(vals ...string) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return vals, cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = cmd.RegisterFlagCompletionFunc("filter", fixed(logs.ComponentWebhook, logs.ComponentAdmin, logs.ComponentServer, logs.ComponentTriage))
	_ = cmd.RegisterFlagCompletionFunc("level", fixed("debug", "info", "warn", "error"))
	_ = cmd.RegisterFlagCompletionFunc("output", fixed(output.Table, output.JSON))
	return cmd
}

// Run prints the tail and, with --follow, what comes after.
func Run(cmd *cobra.Command, opts *Options) error {
	switch opts.Filter {
	case "", logs.ComponentWebhook, logs.ComponentAdmin, logs.ComponentServer, logs.ComponentTriage:
	default:
		// A misspelt component would match nothing and look like a quiet log.
		return cmdutil.FlagErrorf("invalid --filter %q: use webhook, admin, server or triage", opts.Filter)
	}
	filter := logs.Filter{Component: opts.Filter, Source: opts.Source}
	now := time.Now()
	since, err := cmdutil.ParseSince(opts.Since, now)
	if err != nil {
		return err
	}
	filter.Since = since
	if filter.Until, err = cmdutil.ParseTimeFlag("--until", opts.Until, now); err != nil {
		return err
	}
	if !since.IsZero() && !filter.Until.IsZero() && !since.Before(filter.Until) {
		// An empty window printed nothing and exited 0, like a quiet log;
		// "--since 1h --until 2h" reads as a range but is backwards.
		return cmdutil.FlagErrorf("--since %s (%s) is not before --until %s (%s): no entry can match",
			opts.Since, since.UTC().Format(time.RFC3339), opts.Until, filter.Until.UTC().Format(time.RFC3339))
	}
	if opts.Level != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(opts.Level)); err != nil {
			return cmdutil.FlagErrorf("invalid --level %q: use debug, info, warn or error", opts.Level)
		}
		filter.MinLevel = &l
	}
	dir, err := opts.DataDir()
	if err != nil {
		return err
	}
	path := logs.Path(dir)
	print := func(e logs.Entry) error {
		var err error
		if opts.Output == output.JSON {
			_, err = fmt.Fprintln(opts.IO.Out, strings.TrimSpace(string(e.Raw)))
		} else {
			_, err = fmt.Fprintln(opts.IO.Out, logs.Format(e))
		}
		return err
	}
	pos, err := printTail(path, opts.Tail, filter, print)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !opts.Follow {
			return cmdutil.NotFound("no log at %s yet: start the receiver with 'tw-cli serve'", path)
		}
	case err != nil:
		return err
	}
	if !opts.Follow {
		return nil
	}
	return logs.Follow(cmd.Context(), path, pos, filter, opts.Poll, print)
}

// printTail prints the last n matching entries, all of them when n is 0,
// and returns the position to follow from. All are printed as they are
// read, oldest first: the log can be 4×64 MiB, too much to hold. The last
// n are found reading backwards, so they are printed once all are found.
func printTail(path string, n int, f logs.Filter, print func(logs.Entry) error) (logs.Position, error) {
	if n == 0 {
		return logs.Stream(path, f, print)
	}
	entries, pos, err := logs.TailFrom(path, n, f)
	if err != nil {
		return logs.Position{}, err
	}
	for _, e := range entries {
		if err := print(e); err != nil {
			return logs.Position{}, err
		}
	}
	return pos, nil
}
