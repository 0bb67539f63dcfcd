package canary

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	canaryapi "github.com/tw-cli/tw-cli/pkg/canary"
)

// ListOptions are the inputs of `canary webhooks list`.
type ListOptions struct {
	IO      *iostreams.IOStreams
	Console *Console
	// Kind limits the listing to one kind; empty lists all.
	Kind   canaryapi.Kind
	kind   string
	Output string
	// Reveal shows webhook URLs in full.
	Reveal bool
}

// webhookView is one listed webhook. It carries header names but never
// header values, and the Splunk token only masked: -o json goes into CI logs.
type webhookView struct {
	Kind             canaryapi.Kind `json:"kind"`
	URL              string         `json:"url,omitempty"`
	ID               string         `json:"webhook_id,omitempty"`
	HeaderNames      []string       `json:"header_names,omitempty"`
	Team             string         `json:"team,omitempty"`
	Channel          string         `json:"channel,omitempty"`
	ConfigurationURL string         `json:"configuration_url,omitempty"`
	Host             string         `json:"host,omitempty"`
	Port             string         `json:"port,omitempty"`
	Token            string         `json:"token,omitempty"`
}

// NewCmdList returns `canary webhooks list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Console: NewConsole(f)}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List a flock's webhooks of every kind",
		Long: `List the flock's webhooks: KIND, URL/HOST and DETAILS (the names of a
generic webhook's custom headers, a Slack webhook's team and channel, a
masked Splunk token). Header values and the Splunk HEC token are never
shown. Generic webhooks come from the console's generic/list endpoint.

Webhook URLs (and a Slack webhook's configuration_url in -o json) are shown
masked, their host and last characters only: a Slack or Teams URL is itself
the credential that posts to the channel, and a generic one may carry a
token. --reveal shows them in full, as 'canary webhooks remove' and
'canary webhooks test' need them.`,
		Example: `  $ tw-cli canary webhooks list
  $ tw-cli canary webhooks list --kind splunk -o json
  $ tw-cli canary webhooks list --kind slack --reveal`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Console.ReadFlags(cmd)
			if opts.kind != "" {
				k, err := canaryapi.ParseKind(opts.kind)
				if err != nil {
					return cmdutil.FlagErrorf("%s", err)
				}
				opts.Kind = k
			}
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.kind, "kind", "", "Only this `kind`: "+kindNames())
	cmd.Flags().BoolVar(&opts.Reveal, "reveal", false, "Show webhook URLs in full (they are credentials)")
	_ = cmd.RegisterFlagCompletionFunc("kind", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return strings.Split(kindNames(), ", "), cobra.ShellCompDirectiveNoFileComp
	})
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func kindNames() string {
	names := make([]string, len(canaryapi.Kinds))
	for i, k := range canaryapi.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

func listRun(cmd *cobra.Command, opts *ListOptions) error {
	client, flock, err := opts.Console.Target()
	if err != nil {
		return err
	}
	views, disabled, err := listWebhooks(cmd.Context(), client, flock, opts.Kind)
	if err != nil {
		return consoleError(err)
	}
	if disabled {
		fmt.Fprintf(opts.IO.ErrOut, "! Webhooks are disabled for flock %s: the console sends nothing to these\n", flock)
	}
	if !opts.Reveal {
		for i := range views {
			views[i].URL = maskURL(views[i].URL)
			// A Slack configuration URL names the team's app settings:
			// masked alike, so -o json in a CI log shows neither.
			views[i].ConfigurationURL = maskURL(views[i].ConfigurationURL)
		}
	}
	if len(views) == 0 && opts.Output != output.JSON && opts.Output != output.YAML {
		fmt.Fprintf(opts.IO.ErrOut, "No %swebhooks on flock %s\n", kindPrefix(opts.Kind), flock)
		return nil
	}
	return output.Print(opts.IO, opts.Output, views, func(t *output.TablePrinter) {
		t.Header("KIND", "URL/HOST", "DETAILS")
		for _, v := range views {
			t.Row(string(v.Kind), v.target(), v.details())
		}
	})
}

func kindPrefix(k canaryapi.Kind) string {
	if k == "" {
		return ""
	}
	return string(k) + " "
}

// listWebhooks gathers the kinds asked for, in the console's order, and
// reports whether an answer said webhooks_enabled false. An answer without
// the field says nothing, and must not read as disabled.
func listWebhooks(ctx context.Context, client *canaryapi.Client, flock string, only canaryapi.Kind) ([]webhookView, bool, error) {
	views := []webhookView{}
	disabled := false
	note := func(enabled *bool) {
		if enabled != nil && !*enabled {
			disabled = true
		}
	}
	want := func(k canaryapi.Kind) bool { return only == "" || only == k }

	if want(canaryapi.KindGeneric) {
		g, err := client.GenericWebhooks(ctx, flock)
		if err != nil {
			return nil, false, err
		}
		note(g.WebhooksEnabled)
		for _, w := range g.Webhooks {
			views = append(views, webhookView{Kind: canaryapi.KindGeneric, URL: w.URL, ID: w.ID, HeaderNames: w.HeaderNames})
		}
	}
	if want(canaryapi.KindMSTeams) {
		t, err := client.MSTeamsWebhooks(ctx, flock)
		if err != nil {
			return nil, false, err
		}
		note(t.WebhooksEnabled)
		for _, u := range t.URLs {
			views = append(views, webhookView{Kind: canaryapi.KindMSTeams, URL: u})
		}
	}
	if want(canaryapi.KindSlack) {
		s, err := client.SlackWebhooks(ctx, flock)
		if err != nil {
			return nil, false, err
		}
		note(s.WebhooksEnabled)
		for _, w := range s.Webhooks {
			views = append(views, webhookView{Kind: canaryapi.KindSlack, URL: w.URL, Team: w.Team, Channel: w.Channel, ConfigurationURL: w.ConfigurationURL})
		}
	}
	if want(canaryapi.KindSplunk) {
		s, err := client.SplunkWebhook(ctx, flock)
		if err != nil {
			return nil, false, err
		}
		note(s.WebhooksEnabled)
		if w := s.Webhook; w != nil {
			views = append(views, webhookView{Kind: canaryapi.KindSplunk, Host: w.Host, Port: w.Port, Token: output.Mask(w.Token)})
		}
	}
	return views, disabled, nil
}

// target is the URL/HOST column.
func (v webhookView) target() string {
	if v.Kind == canaryapi.KindSplunk {
		if v.Port == "" {
			return v.Host
		}
		return net.JoinHostPort(v.Host, v.Port)
	}
	return v.URL
}

// details is the DETAILS column.
func (v webhookView) details() string {
	switch v.Kind {
	case canaryapi.KindGeneric:
		if len(v.HeaderNames) > 0 {
			return "headers: " + strings.Join(v.HeaderNames, ", ")
		}
	case canaryapi.KindSlack:
		return fmt.Sprintf("team: %s, channel: %s", v.Team, v.Channel)
	case canaryapi.KindSplunk:
		return "token: " + v.Token
	}
	return ""
}

// maskURL keeps a webhook URL's scheme, host and last four characters:
// enough to tell two apart, not enough to post with one.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if raw == "" {
			return ""
		}
		return "(masked)"
	}
	rest := strings.TrimPrefix(raw, u.Scheme+"://"+u.Host)
	if rest == "" || rest == "/" {
		return raw
	}
	tail := ""
	if r := []rune(rest); len(r) > 8 {
		tail = string(r[len(r)-4:])
	}
	return u.Scheme + "://" + u.Host + "/…" + tail
}
