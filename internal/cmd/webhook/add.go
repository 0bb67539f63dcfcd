package webhook

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmd/playbook"
	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/triage"
	"github.com/tw-cli/tw-cli/pkg/payload"
)

// AddOptions are the inputs of `webhook add`.
type AddOptions struct {
	IO      *iostreams.IOStreams
	Sources func() (sources.Service, error)
	Getenv  func(string) string
	// Playbooks loads the local receiver's playbooks; nil skips the check.
	Playbooks func() (*triage.Catalog, error)

	Spec        sources.Spec
	secret      secretFlags
	SeverityMap string
	Output      string
}

// NewCmdAdd returns `webhook add`.
func NewCmdAdd(f *cmdutil.Factory, runF func(*AddOptions) error) *cobra.Command {
	opts := &AddOptions{IO: f.IOStreams, Sources: f.Sources, Getenv: os.Getenv, Playbooks: localPlaybooks(f)}
	cmd := &cobra.Command{
		Use:   "add <source>",
		Short: "Register a webhook source",
		Long: `Register a webhook source. Deliveries to POST /api/webhooks/<source> must
carry an HMAC-SHA256 signature made with its secret:

  X-Webhook-Signature: sha256=<hex of HMAC(secret, "<timestamp>.<body>")>
  X-Webhook-Timestamp: <unix seconds>

Without --secret or --secret-env a random secret is generated and printed
once; it cannot be shown again (use 'webhook rotate-secret' to replace it).`,
		Example: `  $ tw-cli webhook add email-gateway --secret "your-secret-key" --auto-triage true --playbook phishing_triage
  $ EDR_SECRET=… tw-cli webhook add edr --secret-env EDR_SECRET --auto-triage --playbook malware_triage
  $ tw-cli webhook add siem --severity-map "P1=critical,P2=high,P3=medium"
  $ tw-cli webhook add threatstack --format threatstack --verify url-token --allow-from threatstack`,
		Args:              optionalBoolArg("auto-triage", "source name"),
		ValidArgsFunction: completeBoolArg("auto-triage", nil),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Spec.Source = args[0]
			if len(args) == 2 { // the seed writes "--auto-triage true"
				opts.Spec.AutoTriage, _ = cmdutil.ParseBool(args[1])
			}
			if runF != nil {
				return runF(opts)
			}
			return addRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	opts.secret.register(cmd, "Shared `secret` for HMAC signatures")
	fl.StringVar(&opts.Spec.Format, "format", payload.FormatAuto, "Payload `format`: "+strings.Join(payload.Formats(), ", "))
	fl.StringVar(&opts.Spec.Verify, "verify", sources.VerifyHMAC, "Verification `mode`: "+strings.Join(sources.VerifyModes, ", "))
	fl.BoolVar(&opts.Spec.AutoTriage, "auto-triage", false, "Run the playbook on each new incident (--auto-triage or --auto-triage=true|false)")
	fl.StringVar(&opts.Spec.Playbook, "playbook", "", "Triage `playbook`, e.g. phishing_triage, malware_triage")
	fl.StringVar(&opts.SeverityMap, "severity-map", "", "Map vendor severities: `vendor=severity,…` onto critical|high|medium|low|info")
	fl.StringVar(&opts.Spec.Description, "description", "", "Free-text description (at most 1 KiB, no control characters but tab and newline)")
	fl.StringSliceVar(&opts.Spec.AllowFrom, "allow-from", nil, allowFromUsage)
	output.AddFormatFlag(cmd, &opts.Output)
	registerEnumCompletions(cmd, f)
	return cmd
}

func addRun(cmd *cobra.Command, opts *AddOptions) error {
	secret, err := opts.secret.resolve(opts.Getenv)
	if err != nil {
		return err
	}
	opts.Spec.Secret = secret
	if opts.SeverityMap != "" {
		m, err := sources.ParseSeverityMapping(opts.SeverityMap)
		if err != nil {
			return sourceError(err)
		}
		opts.Spec.SeverityMapping = m
	}
	svc, err := opts.Sources()
	if err != nil {
		return err
	}
	v, generated, err := svc.Add(cmd.Context(), opts.Spec)
	if err != nil {
		return sourceError(err)
	}
	if opts.Output == output.JSON || opts.Output == output.YAML {
		return output.Print(opts.IO, opts.Output, sources.CreatedView{View: v, GeneratedSecret: generated}, nil)
	}
	warnUnverified(opts.IO, v)
	fmt.Fprintf(opts.IO.ErrOut, "✓ Registered source %s (format %s, verification %s, auto-triage %s%s)\n",
		v.Source, v.Format, v.Verify, onOff(v.AutoTriage), playbookNote(v.Playbook))
	warnWeakSecret(opts.IO, opts.Spec.Secret, generateHint)
	warnUnknownPlaybook(opts.IO, opts.Playbooks, v)
	noteManualPlaybook(opts.IO, v)
	if generated != "" {
		fmt.Fprintln(opts.IO.ErrOut, "Generated secret (shown once; store it with the sender now):")
		fmt.Fprintln(opts.IO.Out, generated)
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func playbookNote(p string) string {
	if p == "" {
		return ""
	}
	return ", playbook " + p
}

// optionalBoolArg accepts "<name> [true|false]": pflag bools never take a
// separate value, so seed 003's "--auto-triage true" leaves "true" as a
// positional argument. It is accepted only when that flag was given.
// Another word there ("--auto-triage maybe") was meant as the flag's
// value too: "too many arguments" would not say which flag is wrong.
func optionalBoolArg(flag, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 2 && cmd.Flags().Changed(flag) {
			if _, err := cmdutil.ParseBool(args[1]); err == nil {
				if v, _ := cmd.Flags().GetBool(flag); !v {
					// Only --flag=false reads false: a value after it
					// as well would silently win.
					return cmdutil.FlagErrorf("--%s=false and %q: give one value, as --%s=true|false or --%s true|false", flag, args[1], flag, flag)
				}
				return nil
			}
			// The bare flag is true; --flag=false took its value already.
			if v, _ := cmd.Flags().GetBool(flag); v {
				return cmdutil.FlagErrorf("invalid --%s value %q: want true or false", flag, args[1])
			}
		}
		return cmdutil.ExactArgs(1, what)(cmd, args)
	}
}

// completeBoolArg offers true and false for the word after a bare
// --flag (the seed's "--auto-triage true"), which is an argument to
// cobra; other arguments complete with next (nil: none).
func completeBoolArg(flag string, next cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if bare, _ := cmd.Flags().GetBool(flag); len(args) == 1 && cmd.Flags().Changed(flag) && bare {
			return []string{"true", "false"}, cobra.ShellCompDirectiveNoFileComp
		}
		if next == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return next(cmd, args, toComplete)
	}
}

func registerEnumCompletions(cmd *cobra.Command, f *cmdutil.Factory) {
	fixed := func(vals []string) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return vals, cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = cmd.RegisterFlagCompletionFunc("format", fixed(payload.Formats()))
	_ = cmd.RegisterFlagCompletionFunc("verify", fixed(sources.VerifyModes))
	_ = cmd.RegisterFlagCompletionFunc("auto-triage", fixed([]string{"true", "false"}))
	_ = cmd.RegisterFlagCompletionFunc("playbook", playbook.CompleteNames(f))
}
