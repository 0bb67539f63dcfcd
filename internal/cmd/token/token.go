// Package token manages admin API tokens: `tw-cli token create|list|revoke`.
package token

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/receiver"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
)

// NewCmdToken returns the `token` command group.
func NewCmdToken(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token <command>",
		Short: "Manage admin API tokens of the local receiver",
		Long: `Admin API tokens (tw_…) authorize calls to the receiver's /api/webhooks,
/api/incidents and /api/events endpoints, and 'tw-cli webhook … --server'.
Only a hash of each token is stored; a token is shown once, at creation.`,
	}
	cmd.AddCommand(newCmdCreate(f), newCmdList(f), newCmdRevoke(f))
	return cmd
}

// CreateOptions are the inputs of `token create`.
type CreateOptions struct {
	IO     *iostreams.IOStreams
	Store  func() (store.Store, error)
	Now    func() time.Time
	Name   string
	Output string
}

func newCmdCreate(f *cmdutil.Factory) *cobra.Command {
	opts := &CreateOptions{IO: f.IOStreams, Store: f.Store, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "create [--name NAME]",
		Short: "Create an admin API token (shown once)",
		Example: `  $ tw-cli token create --name ci
  $ export TW_TOKEN=$(tw-cli token create --name ci-deploy)`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("name") {
				if err := validateName(opts.Name); err != nil {
					return err
				}
			}
			return createRun(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "A `name` to recognise the token by: 1-63 letters, digits, '.', '_' or '-' (default token-YYYYMMDD-HHMMSS in UTC)")
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

// Created is what `token create -o json` prints.
type Created struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"created_at"`
	Token     string    `json:"token"`
}

// validateName applies the rule source and destination names follow: the
// name is typed back to 'token revoke' and shown in tables, so no
// spaces, control characters or invalid UTF-8 that could not be typed or
// would reach the terminal raw, and no unbounded length.
func validateName(name string) error {
	if sources.IsToken(name, "._-") {
		return nil
	}
	const rule = "use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"
	switch {
	case name == "":
		return cmdutil.FlagErrorf("--name is empty: %s, or leave --name out for a name made from the date", rule)
	case len(name) > 63:
		// Not quoted back: it could fill the screen.
		return cmdutil.FlagErrorf("--name is %d bytes long: %s", len(name), rule)
	}
	return cmdutil.FlagErrorf("invalid token name %q: %s", name, rule)
}

// maxDefaultNameTries bounds the -2, -3… suffixes tried for a default
// name: more tokens than that created within one second is a runaway
// script, better stopped.
const maxDefaultNameTries = 100

func createRun(cmd *cobra.Command, opts *CreateOptions) error {
	s, err := opts.Store()
	if err != nil {
		return err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	secret := receiver.TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	now := opts.Now().UTC()
	t := &store.Token{ID: uuid.NewString(), Name: opts.Name, Hash: receiver.HashToken(secret), Prefix: secret[:9], CreatedAt: now}
	if opts.Name == "" {
		err = createDefaultNamed(cmd.Context(), s, t, "token-"+now.Format("20060102-150405"))
	} else {
		err = s.CreateToken(cmd.Context(), t)
	}
	if err != nil {
		if errors.Is(err, store.ErrExists) {
			// Not a usage error: the command was typed right, the name is
			// taken (exit 1, as for 'webhook add' of an existing source).
			return fmt.Errorf("a token named %q already exists: pick another --name, or revoke it first with 'tw-cli token revoke %s --yes'", t.Name, t.Name)
		}
		return err
	}
	if opts.Output == output.JSON || opts.Output == output.YAML {
		return output.Print(opts.IO, opts.Output, Created{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, Token: secret}, nil)
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ Created token %s (shown once; store it now)\n", output.Printable(t.Name))
	_, err = fmt.Fprintln(opts.IO.Out, secret)
	return err
}

// createDefaultNamed stores t under base, or base-2, base-3… when a token
// created in the same second took it. Trying the insert, rather than
// listing names first, stays right when two creates race.
func createDefaultNamed(ctx context.Context, s store.Store, t *store.Token, base string) error {
	t.Name = base
	for i := 2; ; i++ {
		err := s.CreateToken(ctx, t)
		if !errors.Is(err, store.ErrExists) || i > maxDefaultNameTries {
			return err
		}
		t.Name = fmt.Sprintf("%s-%d", base, i)
	}
}

// ListOptions are the inputs of `token list`.
type ListOptions struct {
	IO     *iostreams.IOStreams
	Store  func() (store.Store, error)
	Now    func() time.Time
	Output string
}

func newCmdList(f *cmdutil.Factory) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Store: f.Store, Now: f.Now}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List admin API tokens (never their values)",
		Example: `  $ tw-cli token list
  $ tw-cli token list -o json --jq '.[] | select(.last_used_at == null) | .name'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := opts.Store()
			if err != nil {
				return err
			}
			toks, err := s.ListTokens(cmd.Context())
			if err != nil {
				return err
			}
			if toks == nil {
				toks = []store.Token{}
			}
			if len(toks) == 0 && opts.Output == output.Table && opts.IO.IsStdoutTTY() {
				fmt.Fprintln(opts.IO.ErrOut, "No admin tokens. Create one with 'tw-cli token create --name NAME'.")
				return nil
			}
			now := opts.Now()
			return output.Print(opts.IO, opts.Output, toks, func(t *output.TablePrinter) {
				t.Header("ID", "NAME", "PREFIX", "CREATED", "LAST USED")
				for _, tok := range toks {
					last := output.Time(tok.LastUsedAt, t.IsTTY(), now)
					if last == "" {
						last = "never"
					}
					t.Row(tok.ID, tok.Name, tok.Prefix+"…", output.Time(tok.CreatedAt, t.IsTTY(), now), last)
				}
			})
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

// RevokeOptions are the inputs of `token revoke`.
type RevokeOptions struct {
	IO    *iostreams.IOStreams
	Store func() (store.Store, error)
	Token string // id or name
	Yes   bool
}

func newCmdRevoke(f *cmdutil.Factory) *cobra.Command {
	opts := &RevokeOptions{IO: f.IOStreams, Store: f.Store}
	cmd := &cobra.Command{
		Use:     "revoke <id|name>",
		Aliases: []string{"delete", "rm"},
		Short:   "Revoke an admin API token",
		Long: `Revoke a token by id or name. Clients still using it are refused from then
on. Asks for confirmation on a terminal; scripts pass --yes.`,
		Example: `  $ tw-cli token revoke ci --yes`,
		Args:    cmdutil.ExactArgs(1, "token id or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Token = args[0]
			if !opts.Yes && !opts.IO.CanPrompt() {
				return cmdutil.FlagErrorf("--yes is required to revoke token %q when not running interactively", opts.Token)
			}
			return revokeRun(cmd, opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "Revoke without asking")
	return cmd
}

func revokeRun(cmd *cobra.Command, opts *RevokeOptions) error {
	s, err := opts.Store()
	if err != nil {
		return err
	}
	notFound := cmdutil.NotFound("no token with id or name %q: run 'tw-cli token list'", opts.Token)
	if !opts.Yes {
		// Check it exists first so the prompt is not asked in vain.
		toks, err := s.ListTokens(cmd.Context())
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(toks, func(t store.Token) bool { return t.ID == opts.Token || t.Name == opts.Token }) {
			return notFound
		}
		ok, err := cmdutil.Confirm(opts.IO, fmt.Sprintf("Revoke admin token %q? Clients using it will be refused. [y/N] ", opts.Token))
		if err != nil {
			return err
		}
		if !ok {
			return cmdutil.ErrCancel
		}
	}
	if err := s.RevokeToken(cmd.Context(), opts.Token); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound
		}
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ Revoked token %s\n", output.Printable(opts.Token))
	return nil
}
