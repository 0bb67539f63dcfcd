// Package webhook implements `tw-cli webhook …`: registering webhook
// sources, locally or on a remote receiver, and signing test deliveries.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/triage"
	"github.com/tw-cli/tw-cli/internal/verify"
	"github.com/tw-cli/tw-cli/internal/webhookconfig"
)

// NewCmdWebhook returns the `webhook` command group.
func NewCmdWebhook(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "webhook <command>",
		Aliases: []string{"webhooks", "source", "sources"},
		Short:   "Register and test webhook sources",
		Long: `Register the security tools that send webhooks to 'tw-cli serve', and test
them. Each source has a name (the :source of POST /api/webhooks/:source)
and a secret used to verify deliveries.

Commands work on the local database by default, or on a remote receiver
through its admin API with --server URL --token tw_… (TW_SERVER, TW_TOKEN).
'webhook apply -f webhook_config.yaml' registers sources declared in a file.`,
		Example: `  $ tw-cli webhook add email-gateway --secret "$SECRET" --auto-triage --playbook phishing_triage
  $ tw-cli webhook list
  $ tw-cli webhook test email-gateway --url http://127.0.0.1:8080`,
	}
	cmd.AddCommand(
		NewCmdAdd(f, nil),
		NewCmdList(f, nil),
		NewCmdShow(f, nil),
		NewCmdUpdate(f, nil),
		NewCmdRemove(f, nil),
		NewCmdRotateSecret(f, nil),
		NewCmdTest(f, nil),
		NewCmdSign(f, nil),
		NewCmdApply(f, nil),
	)
	return cmd
}

// completeSourceNames completes a command's one source-name argument.
func completeSourceNames(f *cmdutil.Factory) cobra.CompletionFunc {
	return cmdutil.OnlyArg(cmdutil.CompleteSourceNames(f))
}

// notRegistered ends sources.NotFoundError's message, which a receiver's
// admin API also answers for a source it does not have: a 404 without it
// is for the path, a --server URL with a wrong prefix.
const notRegistered = "is not registered; run 'tw-cli webhook list'"

// sourceError maps source errors to exit codes.
func sourceError(err error) error {
	var verr *sources.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &verr):
		return &cmdutil.FlagError{Err: err}
	case errors.Is(err, sources.ErrNotFound):
		if err = sources.NotFoundAs(err, notRegistered, err); errors.Is(err, sources.ErrNotFound) {
			return &cmdutil.ExitError{Code: cmdutil.ExitNotFound, Err: err}
		}
		return err
	}
	return cmdutil.ReceiverError(err)
}

// secretFlags are --secret and --secret-env, shared by the commands that
// take a secret.
type secretFlags struct {
	Secret    string
	SecretEnv string
	// emptySecret is --secret given as "".
	emptySecret bool
}

func (s *secretFlags) register(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&s.Secret, "secret", "", what+" (prefer --secret-env: flags end up in shell history)")
	cmd.Flags().StringVar(&s.SecretEnv, "secret-env", "", "Read the secret from this environment `variable`")
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		s.emptySecret = c.Flags().Changed("secret") && s.Secret == ""
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
}

// weakSecretLen is the length under which a new secret draws a warning:
// a short HMAC key falls to an offline search from one signed delivery,
// and the receiver does not limit how often a bearer token is tried. Only
// a warning, and only to a person at a terminal: senders sometimes
// dictate the secret, and seed 003's example is 15 characters.
const weakSecretLen = 16

// warnWeakSecret warns about a short secret that was just stored; fix
// says how to get a strong one instead.
func warnWeakSecret(ios *iostreams.IOStreams, secret, fix string) {
	if secret != "" && len(secret) < weakSecretLen && ios.IsStderrTTY() {
		fmt.Fprintf(ios.ErrOut, "WARNING: a secret shorter than %d characters can be guessed; %s\n", weakSecretLen, fix)
	}
}

// generateHint is warnWeakSecret's fix for add and rotate-secret.
const generateHint = "leave out --secret to have a strong one generated"

// resolve returns the secret from the flags, or "" when none was given.
func (s *secretFlags) resolve(getenv func(string) string) (string, error) {
	if err := cmdutil.MutuallyExclusive("specify only one of --secret or --secret-env", s.Secret != "", s.SecretEnv != ""); err != nil {
		return "", err
	}
	if s.emptySecret {
		// --secret "" from an unset shell variable: generating a secret
		// then would hide the mistake.
		return "", cmdutil.FlagErrorf("--secret is empty: pass the secret, or leave the flag out to generate one")
	}
	if s.SecretEnv != "" {
		v := getenv(s.SecretEnv)
		if v == "" {
			return "", cmdutil.FlagErrorf("environment variable %s is empty or unset", s.SecretEnv)
		}
		return v, nil
	}
	return s.Secret, nil
}

// localPlaybooks loads the playbooks a local receiver would run, or nil
// when --server/TW_SERVER points elsewhere, whose playbooks this side
// cannot see.
func localPlaybooks(f *cmdutil.Factory) func() (*triage.Catalog, error) {
	return func() (*triage.Catalog, error) {
		if f.Config == nil || f.DataDir == nil {
			return nil, nil // a factory without a local side
		}
		cfg, err := f.Config()
		if err != nil || cfg.Get("server") != "" {
			return nil, err
		}
		dir, err := f.DataDir()
		if err != nil {
			return nil, err
		}
		return triage.OpenCatalog(dir, cfg.Get("playbooks_dir"))
	}
}

// warnUnknownPlaybook warns when auto-triage names a playbook the local
// receiver does not have: a typo would only show as failing triage jobs
// in serve's log. It never fails the command; the playbook may come later.
func warnUnknownPlaybook(io *iostreams.IOStreams, playbooks func() (*triage.Catalog, error), v sources.View) {
	if playbooks == nil || !v.AutoTriage || v.Playbook == "" {
		return
	}
	cat, err := playbooks()
	if err != nil || cat == nil {
		return
	}
	if _, ok := cat.Get(v.Playbook); ok {
		return
	}
	var names []string
	for _, p := range cat.List() {
		names = append(names, p.Name)
	}
	fmt.Fprintf(io.ErrOut, "WARNING: no playbook %q among %s (in %s): triage jobs of %s will fail until it exists\n",
		v.Playbook, strings.Join(names, ", "), cat.Dir(), v.Source)
}

// noteManualPlaybook says that a playbook without auto-triage runs only
// when asked: taken for a typo as often as meant.
func noteManualPlaybook(io *iostreams.IOStreams, v sources.View) {
	if v.Playbook != "" && !v.AutoTriage {
		fmt.Fprintf(io.ErrOut, "Note: auto-triage is off, so %s runs only when asked ('tw-cli playbook run --incident …'); add --auto-triage to run it on every new incident\n", v.Playbook)
	}
}

// warnUnverified warns that a source accepts deliveries from anyone.
func warnUnverified(io *iostreams.IOStreams, v sources.View) {
	if v.Verify == verify.ModeNone {
		fmt.Fprintf(io.ErrOut, "WARNING: source %s accepts deliveries from anyone (--verify none); prefer bearer or url-token when the sender cannot sign\n", v.Source)
	}
}

// warnFileManaged warns that a change to a source from a
// webhook_config.yaml lasts only until the file is applied again, which
// makes the sources match it; what undid the change would otherwise be
// a mystery.
func warnFileManaged(io *iostreams.IOStreams, v sources.View, change string) {
	if v.Origin != webhookconfig.Origin {
		return
	}
	fmt.Fprintf(io.ErrOut, "WARNING: source %s is managed by a webhook_config.yaml (origin %s): the next 'webhook apply' or serve reload (SIGHUP) will %s; change the file instead\n",
		v.Source, v.Origin, change)
}

// sourceMode is how the source's deliveries are verified, from the local
// store or the remote receiver, so that test and sign authenticate as its
// senders must. A source this side does not know, signed with a secret
// from the flags (for a receiver elsewhere), is signed as hmac, the
// default mode.
func sourceMode(ctx context.Context, f *cmdutil.Factory, flags *secretFlags, name string) (string, error) {
	svc, err := f.Sources()
	if err != nil {
		return "", err
	}
	v, err := svc.Get(ctx, name)
	if errors.Is(err, sources.ErrNotFound) && (flags.Secret != "" || flags.SecretEnv != "") {
		return verify.ModeHMAC, nil
	}
	if err != nil {
		return "", sourceError(err)
	}
	return v.Verify, nil
}

// modeOf calls mode when set; hmac, the default mode, otherwise.
func modeOf(ctx context.Context, mode func(context.Context, string) (string, error), name string) (string, error) {
	if mode == nil {
		return verify.ModeHMAC, nil
	}
	return mode(ctx, name)
}

// sourceSecret finds the secret to sign with: the flags, else the local
// store. A remote receiver never reveals secrets.
func sourceSecret(ctx context.Context, f *cmdutil.Factory, flags *secretFlags, name string) ([]byte, error) {
	secret, err := flags.resolve(os.Getenv)
	if err != nil || secret != "" {
		return []byte(secret), err
	}
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	if cfg.Get("server") != "" {
		return nil, cmdutil.FlagErrorf("a remote receiver never reveals secrets: pass --secret-env VAR (or --secret) to sign for %q", name)
	}
	s, err := f.Store()
	if err != nil {
		return nil, err
	}
	src, err := s.GetSource(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, sourceError(sources.NotFoundError(name))
	}
	if err != nil {
		return nil, err
	}
	return []byte(src.Secret), nil
}

const allowFromUsage = "Only accept deliveries from these `networks`: IP addresses or CIDR prefixes, comma-separated; threatstack stands for Threat Stack's senders (behind a proxy, see serve --trusted-proxy)"
