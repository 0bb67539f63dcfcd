// Package canary implements `tw-cli canary …`: the flock webhook settings of
// a Thinkst Canary console (status, enable/disable, list/add/remove/test of
// generic, MS Teams, Slack and Splunk webhooks) and its flocks.
package canary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/config"
	"github.com/tw-cli/tw-cli/internal/noredirect"
	"github.com/tw-cli/tw-cli/internal/output"
	canaryapi "github.com/tw-cli/tw-cli/pkg/canary"
)

// NewCmdCanary returns the `canary` command group.
func NewCmdCanary(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "canary <command>",
		Short: "Manage a Thinkst Canary console's flock webhooks",
		Long: `Drive the webhook settings of a Thinkst Canary console's flocks: whether
webhooks are on, and the generic, MS Teams, Slack and Splunk webhooks that
receive the flock's alerts.

The console is https://<domain>.canary.tools/api/v1/, or a full --api-url
(on-premises consoles, test servers). Settings, first found wins:
  console     --api-url, --domain, then CANARY_API_URL, CANARY_DOMAIN
              (or CANARY_API_DOMAIN), then 'tw-cli config set canary.api_url'
              or canary.domain, then domain in ~/.canarytools.config
  auth token  CANARY_AUTH_TOKEN (or CANARY_API_TOKEN), then
              'tw-cli config set canary.auth_token', then api_key in
              ~/.canarytools.config; never a flag, so it stays out of shell
              history, and it is redacted from errors and --debug output
  flock       --flock, then CANARY_FLOCK or canary.flock, then flock:default`,
		Example: `  $ export CANARY_DOMAIN=1234abcd CANARY_AUTH_TOKEN=…
  $ tw-cli canary webhooks status
  $ tw-cli canary webhooks add generic https://hooks.example.com/canary --header "Authorization: Bearer $TOKEN"
  $ tw-cli canary webhooks list --flock flock:0123456789abcdef
  $ tw-cli canary flocks list`,
	}
	pf := cmd.PersistentFlags()
	pf.String(flagDomain, "", "Console `domain`: the part before .canary.tools (env CANARY_DOMAIN)")
	pf.String(flagAPIURL, "", "Full console API `URL`, instead of --domain (env CANARY_API_URL)")
	pf.String(flagFlock, "", "Flock `id` (env CANARY_FLOCK; default "+canaryapi.DefaultFlock+")")
	pf.Duration(flagTimeout, canaryapi.DefaultTimeout, "How long one request may take before it fails (each retry gets as long again)")
	_ = cmd.RegisterFlagCompletionFunc(flagFlock, completeFlocks(f))

	cmd.AddCommand(
		NewCmdWebhooks(f),
		NewCmdFlocks(f),
	)
	return cmd
}

// The group's persistent flags. Subcommands read them from their inherited
// flag set when they run, so each verb keeps the NewCmdX(f, runF) shape.
const (
	flagDomain  = "domain"
	flagAPIURL  = "api-url"
	flagTimeout = "timeout"
	flagFlock   = "flock"
)

// Console resolves which console to call, with which token, for which
// flock. It reads config and builds the client only when a command runs, so
// --help and completion of other flags stay offline.
type Console struct {
	// Flag values; empty when not given.
	Domain string
	APIURL string
	Flock  string
	// Timeout bounds one request (--timeout); 0 keeps the client's default.
	Timeout      time.Duration
	timeoutGiven bool // even as 0, which is refused

	Config     func() (*config.Config, error)
	HTTPClient func() *http.Client
	Debug      func() bool
	ErrOut     io.Writer
	// HomeDir locates ~/.canarytools.config.
	HomeDir func() (string, error)

	legacyRead *legacyConfig
	// quiet drops warnings: completion must not write to the shell's stderr.
	quiet bool
}

// NewConsole returns a Console wired to the factory; ReadFlags fills in the
// flag values when the command runs.
func NewConsole(f *cmdutil.Factory) *Console {
	c := &Console{
		Config:     f.Config,
		HTTPClient: f.HTTPClient,
		Debug:      f.Debug,
		HomeDir:    os.UserHomeDir,
	}
	if f.IOStreams != nil {
		c.ErrOut = f.IOStreams.ErrOut
	}
	return c
}

// ReadFlags takes --domain, --api-url and --flock from cmd's flags (they
// are inherited from the canary group; a verb run on its own in a test has
// none, which reads as not given).
func (c *Console) ReadFlags(cmd *cobra.Command) {
	get := func(name string) string {
		v, _ := cmd.Flags().GetString(name)
		return v
	}
	c.Domain, c.APIURL, c.Flock = get(flagDomain), get(flagAPIURL), get(flagFlock)
	if fl := cmd.Flags().Lookup(flagTimeout); fl != nil && fl.Changed {
		c.Timeout, _ = cmd.Flags().GetDuration(flagTimeout)
		c.timeoutGiven = true
	}
}

// configGetter reads tw-cli's merged config (flags, env, file).
func (c *Console) configGetter() (func(string) string, error) {
	if c.Config == nil {
		return func(string) string { return "" }, nil
	}
	cfg, err := c.Config()
	if err != nil {
		return nil, err
	}
	return cfg.Get, nil
}

// configConsole picks canary.api_url or canary.domain from tw-cli's config
// by where each is set: a flag, then the environment, then the active
// profile, then the config file's top level; a full URL before a domain
// only within one source. Taking
// canary.api_url from anywhere first let a file's api_url beat
// CANARY_DOMAIN from the environment, sending the token to another console.
func (c *Console) configConsole() (key, value string, err error) {
	if c.Config == nil {
		return "", "", nil
	}
	cfg, err := c.Config()
	if err != nil {
		return "", "", err
	}
	best := 0
	for _, k := range []string{"canary.api_url", "canary.domain"} {
		v := cfg.Get(k)
		if v == "" {
			continue
		}
		rank := 4 // the file's top level, or a default
		switch src := cfg.Source(k); {
		case strings.HasPrefix(src, "flag"):
			rank = 1
		case strings.HasPrefix(src, "env"):
			rank = 2
		case strings.HasPrefix(src, "profile"):
			// The active profile's console is the one its token is for.
			rank = 3
		}
		if key == "" || rank < best {
			key, value, best = k, v, rank
		}
	}
	return key, value, nil
}

// legacy reads the Python client's ~/.canarytools.config, once; it is
// consulted only for what tw-cli's own settings lack.
func (c *Console) legacy() legacyConfig {
	if c.legacyRead == nil {
		l := readLegacyConfig(c.HomeDir)
		c.legacyRead = &l
	}
	return *c.legacyRead
}

// apiURL resolves the API base URL: flags, then env, then tw-cli's config
// file (each a full URL before a domain; see configConsole), then
// ~/.canarytools.config.
func (c *Console) apiURL() (string, error) {
	if err := cmdutil.MutuallyExclusive("specify only one of --domain or --api-url", c.Domain != "", c.APIURL != ""); err != nil {
		return "", err
	}
	key, value, err := c.configConsole()
	if err != nil {
		return "", err
	}
	var u string
	switch {
	case c.APIURL != "":
		u, err = canaryapi.NormalizeAPIURL(c.APIURL)
	case c.Domain != "":
		u, err = canaryapi.DomainURL(c.Domain)
	case key == "canary.api_url":
		u, err = canaryapi.NormalizeAPIURL(value)
	case key == "canary.domain":
		u, err = canaryapi.DomainURL(value)
	case c.legacy().domain != "":
		u, err = canaryapi.DomainURL(c.legacy().domain)
	default:
		return "", cmdutil.AuthError(errors.New("no Canary console: pass --domain or --api-url, set CANARY_DOMAIN, or run 'tw-cli config set canary.domain <domain>'"))
	}
	if err != nil {
		return "", cmdutil.FlagErrorf("%s", err)
	}
	return u, nil
}

// token resolves the auth token from env/config, then ~/.canarytools.config.
func (c *Console) token() (string, error) {
	get, err := c.configGetter()
	if err != nil {
		return "", err
	}
	if t := get("canary.auth_token"); t != "" {
		return t, nil
	}
	if t := c.legacy().apiKey; t != "" {
		return t, nil
	}
	return "", cmdutil.AuthError(errors.New("no Canary auth token: set CANARY_AUTH_TOKEN or run 'tw-cli config set canary.auth_token <token>'"))
}

// FlockID is the flock the command acts on: --flock, then env/config, then
// the default flock.
func (c *Console) FlockID() (string, error) {
	if c.Flock != "" {
		return c.Flock, nil
	}
	get, err := c.configGetter()
	if err != nil {
		return "", err
	}
	if f := get("canary.flock"); f != "" {
		return f, nil
	}
	return canaryapi.DefaultFlock, nil
}

// Client builds the console client.
func (c *Console) Client() (*canaryapi.Client, error) {
	apiURL, err := c.apiURL()
	if err != nil {
		return nil, err
	}
	tok, err := c.token()
	if err != nil {
		return nil, err
	}
	c.warnCleartext(apiURL)
	var opts []canaryapi.Option
	if c.Timeout != 0 || c.timeoutGiven {
		if err := cmdutil.CheckTimeout(c.Timeout); err != nil {
			return nil, err
		}
		opts = append(opts, canaryapi.WithTimeout(c.Timeout))
	}
	if c.HTTPClient != nil {
		opts = append(opts, canaryapi.WithHTTPClient(c.HTTPClient()))
	}
	if c.Debug != nil && c.Debug() && c.ErrOut != nil {
		opts = append(opts, canaryapi.WithDebug(c.ErrOut))
	}
	return canaryapi.New(apiURL, tok, opts...)
}

// warnCleartext warns when the token would cross the network
// unencrypted (cmdutil.WarnCleartext).
func (c *Console) warnCleartext(apiURL string) {
	if c.quiet || c.ErrOut == nil {
		return
	}
	cmdutil.WarnCleartext(c.ErrOut, apiURL, "The Canary API URL", "auth token", "")
}

// Target is the client and the flock, what most commands need first.
func (c *Console) Target() (*canaryapi.Client, string, error) {
	client, err := c.Client()
	if err != nil {
		return nil, "", err
	}
	flock, err := c.FlockID()
	if err != nil {
		return nil, "", err
	}
	return client, flock, nil
}

// ConsoleURL is the console's web address (the API URL without /api/v1/),
// for pointing people at its UI; empty when no console is configured.
func (c *Console) ConsoleURL() string {
	apiURL, err := c.apiURL()
	if err != nil {
		return ""
	}
	u, err := url.Parse(apiURL)
	if err != nil {
		return ""
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v1") + "/"
	return u.String()
}

// completeFlocks completes --flock from the console's flocks/list, ids with
// their names as descriptions. Any failure just means no suggestions.
func completeFlocks(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		c := NewConsole(f)
		c.ReadFlags(cmd)
		c.quiet = true
		client, err := c.Client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(cmdContext(cmd), cmdutil.CompletionTimeout)
		defer cancel()
		flocks, err := client.Flocks(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, fl := range flocks {
			if strings.HasPrefix(fl.ID, toComplete) {
				out = append(out, fl.ID+"\t"+output.Printable(fl.Name))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// unreadable reports a 2xx answer that is not the console's refusal
// ("result": "error" with a message) but something no console sends: not
// JSON, or another result.
func unreadable(e *canaryapi.APIError) bool {
	if e.StatusCode < 200 || e.StatusCode > 299 {
		return false
	}
	var env struct {
		Result any `json:"result"`
	}
	if json.Unmarshal(e.Body, &env) != nil {
		return true
	}
	r, _ := env.Result.(string)
	return !strings.EqualFold(r, "error")
}

// isDecodeError reports a successful answer whose fields are not what the
// console documents.
func isDecodeError(err error) bool {
	// Every decoding of an answer goes through the client's decodeJSON,
	// which wraps its failure in a DecodeError.
	var decode *canaryapi.DecodeError
	return errors.As(err, &decode)
}

// authHint is added to authentication failures.
const authHint = "check the auth token (CANARY_AUTH_TOKEN, or 'tw-cli config set canary.auth_token') and that it belongs to this console"

// consoleError maps client errors onto exit codes: bad input 2, rejected
// token 3, 404 4, the console failing (5xx, still rate limiting after
// retries, an answer that is not its JSON) 5, as for Threat Stack. Other
// console errors, such as a refusal it explains, stay 1.
func consoleError(err error) error {
	var inputErr *canaryapi.InputError
	var apiErr *canaryapi.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &inputErr):
		return &cmdutil.FlagError{Err: err}
	case errors.Is(err, canaryapi.ErrAuth):
		return cmdutil.AuthError(fmt.Errorf("%w\n%s", err, authHint))
	case errors.Is(err, canaryapi.ErrNotFound):
		return &cmdutil.ExitError{Code: cmdutil.ExitNotFound, Err: err}
	case errors.As(err, &apiErr) && (apiErr.StatusCode >= 500 || apiErr.StatusCode == http.StatusTooManyRequests || unreadable(apiErr)),
		isDecodeError(err):
		return cmdutil.RemoteError(err)
	}
	var redirect *noredirect.Error
	if errors.As(err, &redirect) {
		return fmt.Errorf("canary: %w", redirect)
	}
	var reqErr *canaryapi.RequestError
	if errors.As(err, &reqErr) {
		// No answer at all: say where to look.
		return fmt.Errorf("%w\n(the console did not answer: check --domain or --api-url, CANARY_DOMAIN, and the network)", err)
	}
	return err
}
