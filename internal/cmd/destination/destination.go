// Package destination implements `tw-cli destination …`: where notify
// steps deliver incidents (Slack, Microsoft Teams, a signed generic
// webhook, Splunk HEC), and the dead letters of failed deliveries.
package destination

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/redact"
	"github.com/tw-cli/tw-cli/internal/store"
)

// NewCmdDestination returns the `destination` command group.
func NewCmdDestination(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "destination <command>",
		Aliases: []string{"destinations", "dest"},
		Short:   "Configure where playbooks send notifications",
		Long: `Destinations receive incidents from playbooks' notify steps:

  slack       Slack incoming webhook (text + blocks)
  ms-teams    Microsoft Teams incoming webhook / Workflows (Adaptive Card)
  generic     JSON POST signed like seed 003 (X-Webhook-Signature,
              X-Webhook-Timestamp), so another tw-cli can receive it
  splunk-hec  Splunk HTTP Event Collector (Authorization: Splunk <token>,
              POST /services/collector/event)

Failed deliveries are retried with exponential backoff and jitter,
honouring Retry-After, then kept as dead letters: list them with
'destination failures', send one again with 'destination retry ID' or
drop it with 'destination discard ID'.
Secrets are read from environment variables at 'add' time and stored
with the source secrets; listings mask them and the webhook URLs.`,
		Example: `  $ tw-cli destination add slack soc-slack --url "$SLACK_WEBHOOK_URL"
  $ tw-cli destination add generic peer --url https://tw.example.com/api/webhooks/upstream --secret-env PEER_SECRET
  $ tw-cli destination add splunk-hec splunk --url https://splunk.example.com:8088 --token-env HEC_TOKEN
  $ tw-cli destination test soc-slack
  $ tw-cli destination failures`,
	}
	cmd.AddCommand(
		NewCmdAdd(f, nil),
		NewCmdList(f, nil),
		NewCmdRemove(f, nil),
		NewCmdTest(f, nil),
		NewCmdFailures(f, nil),
		NewCmdRetry(f, nil),
		NewCmdDiscard(f, nil),
	)
	return cmd
}

// View is a destination as listings show it: secrets never appear.
type View struct {
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	URL        string    `json:"url"`
	Token      string    `json:"token,omitempty"`
	Secret     string    `json:"secret,omitempty"`
	Sourcetype string    `json:"sourcetype,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// ViewOf masks a stored destination.
func ViewOf(d *store.Destination) View {
	v := View{Name: d.Name, Kind: d.Kind, URL: redact.URL(d.URL), Sourcetype: d.Sourcetype, CreatedAt: d.CreatedAt}
	if d.Token != "" {
		v.Token = output.Mask(d.Token)
	}
	if d.Secret != "" {
		v.Secret = output.Mask(d.Secret)
	}
	return v
}

// completeNames offers destination names from the local store.
func completeNames(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		// Only a database that exists at this build's schema: Tab must
		// not create or migrate one.
		ds, _ := cmdutil.ExistingDestinations(cmd.Context(), f)
		var out []string
		for _, d := range ds {
			if strings.HasPrefix(d.Name, toComplete) {
				out = append(out, d.Name+"\t"+d.Kind)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func notFound(err error, what, name, hint string) error {
	switch {
	case errors.Is(err, notify.ErrUnknownDestination):
		// notify says what to do when it knows (a dead letter whose
		// destination was removed); a bare "unknown destination" gets the
		// same hint as the store's not-found.
		if err.Error() == fmt.Sprintf("%s %q", notify.ErrUnknownDestination, name) {
			err = fmt.Errorf("%w: run '%s'", err, hint)
		}
		return &cmdutil.ExitError{Code: cmdutil.ExitNotFound, Err: err}
	case errors.Is(err, store.ErrNotFound):
		return cmdutil.NotFound("no %s %q: run '%s'", what, name, hint)
	}
	return err
}
