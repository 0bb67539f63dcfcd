package webhook

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/triage"
	"github.com/tw-cli/tw-cli/internal/webhookconfig"
)

// ApplyOptions are the inputs of `webhook apply`.
type ApplyOptions struct {
	IO    *iostreams.IOStreams
	Store func() (store.Store, error)
	// Remote reports whether --server/TW_SERVER points the webhook
	// commands at a remote receiver.
	Remote    func() (bool, error)
	LookupEnv func(string) (string, bool)
	Now       func() time.Time
	// Playbooks loads the local receiver's playbooks; nil skips the check.
	Playbooks func() (*triage.Catalog, error)

	File   string
	DryRun bool
	Force  bool
	Output string
}

// applyResult is what -o json|yaml prints. After a failed write, Changes
// are those made before it, Error says what failed and Incomplete is set.
type applyResult struct {
	File string `json:"file"`
	webhookconfig.Plan
	Error      string `json:"error,omitempty"`
	Incomplete bool   `json:"incomplete,omitempty"`
}

// NewCmdApply returns `webhook apply`.
func NewCmdApply(f *cmdutil.Factory, runF func(*ApplyOptions) error) *cobra.Command {
	opts := &ApplyOptions{IO: f.IOStreams, Store: f.Store, LookupEnv: os.LookupEnv, Now: f.Now, Playbooks: localPlaybooks(f)}
	opts.Remote = func() (bool, error) {
		cfg, err := f.Config()
		if err != nil {
			return false, err
		}
		return cfg.Get("server") != "", nil
	}
	cmd := &cobra.Command{
		Use:   "apply -f <webhook_config.yaml>",
		Short: "Make the sources match a webhook_config.yaml",
		Long: `Register the sources of a webhook_config.yaml (seed 003's format) in the local
database, with origin "config":

  sources:
    email-gateway:
      secret: "${EMAIL_GATEWAY_SECRET}"   # or "file:/run/secrets/email-gateway"
      auto_triage: true
      playbook: phishing_triage
      severity_mapping: {critical: critical, high: high}
      # optional: format, verify, description

The file is declarative: sources it adds are created, changed ones are
updated, and config sources no longer in it are removed. A changed secret
does not cut senders off: the old one keeps verifying for 24h, as with
'webhook rotate-secret'. Sources added with 'webhook add' or the admin API
are never changed or removed; a file source with the same name as one of
them is an error unless --force lets the file take it over.

'tw-cli serve --config FILE' applies the same file at start and on SIGHUP.`,
		Example: `  $ tw-cli webhook apply -f webhook_config.yaml --dry-run
  $ EDR_SECRET=… tw-cli webhook apply -f webhook_config.yaml
  $ tw-cli webhook apply -f webhook_config.yaml -o json | jq '.changes[] | select(.action != "unchanged")'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.File == "" {
				return cmdutil.FlagErrorf("-f/--file is required: the webhook_config.yaml to apply")
			}
			if runF != nil {
				return runF(opts)
			}
			return applyRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "file", "f", "", "The webhook_config.yaml `file` to apply")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "Show what would change and change nothing")
	fl.BoolVar(&opts.Force, "force", false, "Let the file take over sources of the same name added with 'webhook add' or the admin API")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml")
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func applyRun(ctx context.Context, opts *ApplyOptions) error {
	remote, err := opts.Remote()
	if err != nil {
		return err
	}
	if remote {
		// The admin API has no apply endpoint, and the secrets in the file
		// resolve from this machine's environment, not the receiver's.
		return cmdutil.FlagErrorf("webhook apply is not supported remotely yet: run it on the receiver (without --server/TW_SERVER), or start the receiver with 'tw-cli serve --config %s'", opts.File)
	}
	if _, err := os.Stat(opts.File); errors.Is(err, fs.ErrNotExist) {
		// A mistyped path, as 'webhook test --payload' treats one; a
		// missing file: secret inside the config stays a config error.
		return cmdutil.FlagErrorf("-f %s: no such file", opts.File)
	}
	cfg, err := webhookconfig.Load(opts.File, webhookconfig.Options{LookupEnv: opts.LookupEnv})
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s\n", w)
	}
	for _, src := range cfg.Sources {
		warnUnknownPlaybook(opts.IO, opts.Playbooks, sources.View{Source: src.Spec.Source, AutoTriage: src.Spec.AutoTriage, Playbook: src.Spec.Playbook})
	}
	st, err := opts.Store()
	if err != nil {
		return err
	}
	plan, err := webhookconfig.Apply(ctx, st, cfg, webhookconfig.ApplyOptions{
		DryRun: opts.DryRun, Force: opts.Force, Now: opts.Now,
		Progress: func(done, total int) { opts.IO.Progress("Applying %s: %d/%d sources…", cfg.Path, done, total) },
	})
	opts.IO.StopProgress()
	if err != nil {
		var conflict *webhookconfig.ConflictError
		if len(plan.Changes) == 0 || errors.As(err, &conflict) {
			return err
		}
		// Some sources were written: say which, as a successful apply
		// would, so that the state left behind is known.
		if opts.Output == output.JSON || opts.Output == output.YAML {
			if perr := output.Print(opts.IO, opts.Output, applyResult{File: opts.File, Plan: plan, Error: err.Error(), Incomplete: true}, nil); perr != nil {
				return perr
			}
		} else if perr := printPlan(opts, plan); perr != nil {
			return perr
		}
		fmt.Fprintf(opts.IO.ErrOut, "Applied before the error: %s\n", plan.Summary())
		return err
	}
	if opts.Output == output.JSON || opts.Output == output.YAML {
		return output.Print(opts.IO, opts.Output, applyResult{File: opts.File, Plan: plan}, nil)
	}
	if err := printPlan(opts, plan); err != nil {
		return err
	}
	if opts.DryRun {
		fmt.Fprintf(opts.IO.ErrOut, "Dry run of %s: %s; nothing was changed\n", opts.File, plan.Summary())
		return nil
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ Applied %s: %s\n", opts.File, plan.Summary())
	for _, c := range plan.Changes {
		if c.PreviousSecretExpiresAt != nil {
			fmt.Fprintf(opts.IO.ErrOut, "The previous secret of %s keeps verifying until %s\n", c.Source, c.PreviousSecretExpiresAt.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// printPlan prints a plan's changes as a table.
func printPlan(opts *ApplyOptions, plan webhookconfig.Plan) error {
	return output.Print(opts.IO, opts.Output, nil, func(t *output.TablePrinter) {
		t.Header("SOURCE", "ACTION", "CHANGES")
		for _, c := range plan.Changes {
			t.Row(c.Source, string(c.Action), dash(changeDetail(c)))
		}
	})
}

// changeDetail lists an update's fields, and where a taken-over source
// came from.
func changeDetail(c webhookconfig.Change) string {
	fields := make([]string, len(c.Fields))
	for i, f := range c.Fields {
		fields[i] = f
		if f == "origin" && c.PreviousOrigin != "" {
			fields[i] = "origin (was " + c.PreviousOrigin + ")"
		}
	}
	return strings.Join(fields, ", ")
}
