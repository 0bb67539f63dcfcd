// Package threatstack implements `tw-cli threatstack …`: agents, alerts,
// rulesets, vulnerabilities and raw calls against the Threat Stack REST API
// v2, authenticated with HAWK by pkg/threatstack.
package threatstack

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/noredirect"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// Config keys (see internal/config) the credentials and API URL come from;
// each also reads the vendor's own variables (TS_USER_ID, …, TS_API_URL).
const (
	keyUserID = "threatstack.user_id"
	keyAPIKey = "threatstack.api_key"
	keyOrgID  = "threatstack.organization_id"
	keyAPIURL = "threatstack.api_url"
)

// Persistent flags of the group, read by every subcommand's client.
const (
	flagAPIURL         = "api-url"
	flagTimeout        = "timeout"
	flagVerifyResponse = "verify-response"
)

// NewCmdThreatstack returns the `threatstack` command group.
func NewCmdThreatstack(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "threatstack <command>",
		Aliases: []string{"ts"},
		Short:   "Query Threat Stack: agents, alerts, rulesets, vulnerabilities",
		Long: `Query the Threat Stack REST API v2. Requests are signed with HAWK using
the credentials Threat Stack issues under Settings > Application Keys:

  TS_USER_ID          user id of the key holder (HAWK id)
  TS_API_KEY          API key (HAWK key)
  TS_ORGANIZATION_ID  organization to query (HAWK ext)

or the config keys threatstack.user_id, threatstack.api_key and
threatstack.organization_id ('tw-cli config init', 'tw-cli config set …'),
one organization per profile (--profile NAME). The environment wins.

The API is https://api.threatstack.com unless --api-url, TS_API_URL or
threatstack.api_url says otherwise.

Listings page through the API 100 items at a time and print each page as
it arrives: piped, as tab-separated rows without a header; on a terminal,
as one table per page; with -o json, as one array. The API allows about
200 requests a minute per organization; tw-cli waits and retries when it
is told to slow down. --debug logs every request, with the key redacted.`,
		Example: `  $ export TS_USER_ID=… TS_API_KEY=… TS_ORGANIZATION_ID=…
  $ tw-cli threatstack auth check
  $ tw-cli threatstack agents list --status offline --all
  $ tw-cli threatstack alerts list --severity 1 --from 24h -o json
  $ tw-cli threatstack api /v2/rulesets --paginate`,
	}
	pf := cmd.PersistentFlags()
	pf.String(flagAPIURL, "", "Threat Stack API base `URL` (env TS_API_URL)")
	pf.Bool(flagVerifyResponse, true, "Verify the server's Server-Authorization header when it sends one")
	pf.Duration(flagTimeout, threatstack.DefaultTimeout, "How long one request may take before it fails (each retry gets as long again)")

	cmd.AddCommand(
		NewCmdAgents(f),
		NewCmdAlerts(f),
		NewCmdRulesets(f),
		NewCmdVulnerabilities(f),
		NewCmdCVEs(f),
		NewCmdAPI(f, nil),
		NewCmdAuth(f),
	)
	return cmd
}

// idArg accepts exactly one non-blank id: an empty one (an unset shell
// variable quoted) would build a path such as /v2/alerts//events.
func idArg(what string) cobra.PositionalArgs {
	exact := cmdutil.ExactArgs(1, what)
	return func(cmd *cobra.Command, args []string) error {
		if err := exact(cmd, args); err != nil {
			return err
		}
		return nonBlankIDs(cmd, what, args)
	}
}

func nonBlankIDs(cmd *cobra.Command, what string, ids []string) error {
	for _, id := range ids {
		if strings.TrimSpace(id) == "" {
			return cmdutil.FlagErrorf("empty %s\n\nUsage: %s", what, cmd.UseLine())
		}
	}
	return nil
}

// clientFunc returns a lazy constructor of the API client for cmd: nothing
// reads the config or the credentials until a command really calls the API,
// so --help and completion work without them.
func clientFunc(f *cmdutil.Factory, cmd *cobra.Command) func() (*threatstack.Client, error) {
	return func() (*threatstack.Client, error) {
		cfg, err := f.Config()
		if err != nil {
			return nil, err
		}
		creds := threatstack.Credentials{
			UserID:         strings.TrimSpace(cfg.Get(keyUserID)),
			APIKey:         strings.TrimSpace(cfg.Get(keyAPIKey)),
			OrganizationID: strings.TrimSpace(cfg.Get(keyOrgID)),
		}
		if err := creds.Validate(); err != nil {
			var (
				mc *threatstack.MissingCredentialsError
				ic *threatstack.InvalidCredentialsError
			)
			switch {
			case errors.As(err, &mc):
				return nil, cmdutil.AuthError(missingCredentials(mc))
			case errors.As(err, &ic):
				return nil, cmdutil.AuthError(invalidCredentials(ic))
			}
			return nil, err
		}
		apiURL, _ := cmd.Flags().GetString(flagAPIURL)
		if apiURL == "" {
			apiURL = cfg.Get(keyAPIURL)
		}
		verify, _ := cmd.Flags().GetBool(flagVerifyResponse)
		timeout := threatstack.DefaultTimeout
		if fl := cmd.Flags().Lookup(flagTimeout); fl != nil {
			timeout, _ = cmd.Flags().GetDuration(flagTimeout)
		}
		if err := cmdutil.CheckTimeout(timeout); err != nil {
			return nil, err
		}
		opts := []threatstack.Option{
			threatstack.WithBaseURL(apiURL),
			threatstack.WithVerifyResponse(verify),
			threatstack.WithTimeout(timeout),
			threatstack.WithUserAgent("tw-cli/" + f.Version),
		}
		if f.Debug != nil && f.Debug() {
			// The client redacts the key from everything it logs.
			opts = append(opts, threatstack.WithLogger(slog.New(
				slog.NewTextHandler(f.IOStreams.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug}))))
		}
		c, err := threatstack.New(creds, opts...)
		if err != nil {
			return nil, cmdutil.FlagErrorf("%v (check --api-url, TS_API_URL or threatstack.api_url)", err)
		}
		return c, nil
	}
}

// missingCredentials says which variables are unset and both ways to set
// them, in one message.
func missingCredentials(mc *threatstack.MissingCredentialsError) error {
	return fmt.Errorf("missing Threat Stack credentials: %s not set\n"+
		"Set %s, %s and %s, or store them with 'tw-cli config init'\n"+
		"(or 'tw-cli config set threatstack.user_id|threatstack.api_key|threatstack.organization_id <value>',\n"+
		"with --profile NAME to keep several organizations)",
		strings.Join(mc.Missing, ", "), threatstack.EnvUserID, threatstack.EnvAPIKey, threatstack.EnvOrganizationID)
}

// invalidCredentials names both places the bad value may come from; the
// value itself is not shown.
func invalidCredentials(ic *threatstack.InvalidCredentialsError) error {
	key := map[string]string{threatstack.EnvUserID: keyUserID, threatstack.EnvOrganizationID: keyOrgID}[ic.Variable]
	return fmt.Errorf("invalid Threat Stack credentials: %s (or config key %s) %s, which a HAWK header cannot carry\n"+
		"Set it to the value Threat Stack shows under Settings > Application Keys, without quotes", ic.Variable, key, ic.Reason)
}

// apiError maps the client's errors to tw-cli's exit codes: 3 for
// authentication (401/403, a bad response signature), 4 for a 404, 5 when
// Threat Stack itself failed (5xx, still rate limiting after retries, or a
// 2xx whose body is not what the API documents).
func apiError(err error) error {
	var (
		apiErr    *threatstack.APIError
		decodeErr *threatstack.DecodeError
	)
	switch {
	case err == nil:
		return nil
	case threatstack.IsAuthError(err):
		return cmdutil.AuthError(err)
	case threatstack.IsNotFound(err):
		return &cmdutil.ExitError{Code: cmdutil.ExitNotFound, Err: err}
	case errors.As(err, &apiErr) && (apiErr.StatusCode >= 500 || apiErr.StatusCode == 429):
		return cmdutil.RemoteError(err)
	case errors.As(err, &decodeErr):
		// A login page or a proxy's placeholder answers 200 as readily as
		// the API does; the URL is the one thing the user can check.
		return cmdutil.RemoteError(fmt.Errorf("%w\n(check that --api-url, TS_API_URL or threatstack.api_url points at the Threat Stack API, not a proxy or login page)", err))
	}
	var redirect *noredirect.Error
	if errors.As(err, &redirect) {
		return fmt.Errorf("threatstack: %w", redirect)
	}
	var netErr net.Error
	if errors.As(err, &netErr) && !errors.As(err, &apiErr) {
		// No answer at all: say where to look.
		return fmt.Errorf("%w\n(the API did not answer: check --api-url, TS_API_URL or threatstack.api_url, and the network)", err)
	}
	return err
}
