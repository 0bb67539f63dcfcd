package webhook

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/triage"
	"github.com/tw-cli/tw-cli/pkg/payload"
)

// UpdateOptions are the inputs of `webhook update`.
type UpdateOptions struct {
	IO      *iostreams.IOStreams
	Sources func() (sources.Service, error)
	// Playbooks loads the local receiver's playbooks; nil skips the check.
	Playbooks func() (*triage.Catalog, error)
	Name      string
	Patch     sources.Patch
	Output    string
	secret    secretFlags
}

// NewCmdUpdate returns `webhook update`.
func NewCmdUpdate(f *cmdutil.Factory, runF func(*UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IOStreams, Sources: f.Sources, Playbooks: localPlaybooks(f)}
	var format, verify, playbook, sevMap, desc string
	var autoTriage bool
	var allow []string
	cmd := &cobra.Command{
		Use:   "update <source>",
		Short: "Change a webhook source's settings",
		Long: `Change the settings of a registered source; only the flags you give change.
To replace the secret use 'tw-cli webhook rotate-secret', which keeps the
old one valid for a grace period. A change of verification mode whose
secrets take another form (a whsec_ key, user:password) takes the new
secret in the same update, with --secret or --secret-env; the old secret
stops working at once.`,
		Example: `  $ tw-cli webhook update email-gateway --auto-triage=false
  $ tw-cli webhook update edr --playbook malware_triage --severity-map "4=high,5=critical"
  $ tw-cli webhook update hooks --verify standard-webhooks --secret-env WHSEC
  $ tw-cli webhook update threatstack --allow-from threatstack,198.51.100.0/24`,
		Args:              optionalBoolArg("auto-triage", "source name"),
		ValidArgsFunction: completeBoolArg("auto-triage", completeSourceNames(f)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			fl := cmd.Flags()
			if fl.Changed("format") {
				opts.Patch.Format = &format
			}
			if fl.Changed("verify") {
				opts.Patch.Verify = &verify
			}
			if fl.Changed("playbook") {
				opts.Patch.Playbook = &playbook
			}
			if fl.Changed("description") {
				opts.Patch.Description = &desc
			}
			if fl.Changed("auto-triage") {
				if len(args) == 2 {
					autoTriage, _ = cmdutil.ParseBool(args[1])
				}
				opts.Patch.AutoTriage = &autoTriage
			}
			if fl.Changed("allow-from") {
				opts.Patch.AllowFrom = &allow
			}
			if fl.Changed("severity-map") {
				m, err := sources.ParseSeverityMapping(sevMap)
				if err != nil {
					return sourceError(err)
				}
				opts.Patch.SeverityMapping = &m
			}
			secret, err := opts.secret.resolve(os.Getenv)
			if err != nil {
				return err
			}
			if secret != "" {
				opts.Patch.Secret = &secret
			}
			if opts.Patch.Empty() {
				return cmdutil.FlagErrorf("nothing to update: give at least one of --format, --verify, --auto-triage, --playbook, --severity-map, --allow-from, --description, --secret")
			}
			if runF != nil {
				return runF(opts)
			}
			return updateRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "", "Payload `format`: "+strings.Join(payload.Formats(), ", "))
	fl.StringVar(&verify, "verify", "", "Verification `mode`: "+strings.Join(sources.VerifyModes, ", "))
	fl.BoolVar(&autoTriage, "auto-triage", false, "Run the playbook on each new incident")
	fl.StringVar(&playbook, "playbook", "", "Triage `playbook` (empty to clear)")
	fl.StringVar(&sevMap, "severity-map", "", "Replace the severity mapping: `vendor=severity,…` (empty to clear)")
	opts.secret.register(cmd, "Replace the `secret` at once, with no grace (for a change of --verify)")
	fl.StringVar(&desc, "description", "", "Free-text description (at most 1 KiB, no control characters but tab and newline)")
	fl.StringSliceVar(&allow, "allow-from", nil, allowFromUsage+` (replaces the list; --allow-from "" accepts any address again)`)
	output.AddFormatFlag(cmd, &opts.Output)
	registerEnumCompletions(cmd, f)
	return cmd
}

func updateRun(cmd *cobra.Command, opts *UpdateOptions) error {
	svc, err := opts.Sources()
	if err != nil {
		return err
	}
	v, err := svc.Update(cmd.Context(), opts.Name, opts.Patch)
	if err != nil {
		return sourceError(err)
	}
	warnFileManaged(opts.IO, v, "revert this change")
	if opts.Output == output.JSON || opts.Output == output.YAML {
		return output.Print(opts.IO, opts.Output, v, nil)
	}
	if opts.Patch.Verify != nil {
		warnUnverified(opts.IO, v) // an authenticated source made open
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ Updated source %s\n", v.Source)
	if opts.Patch.Secret != nil {
		warnWeakSecret(opts.IO, *opts.Patch.Secret, "run 'tw-cli webhook rotate-secret "+v.Source+"' to have a strong one generated")
	}
	warnUnknownPlaybook(opts.IO, opts.Playbooks, v)
	if opts.Patch.Playbook != nil {
		noteManualPlaybook(opts.IO, v)
	}
	return nil
}
