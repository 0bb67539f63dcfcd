package events

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmd/webhook"
	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/store"
)

// NewCmdReplay returns `events replay`.
func NewCmdReplay(f *cmdutil.Factory) *cobra.Command {
	send := webhook.NewTestOptions(f)
	read := readerFor(f)
	cmd := &cobra.Command{
		Use:   "replay <id>",
		Short: "Send a received event's delivery to the receiver again",
		Long: `Send the body an event arrived in, byte for byte, to
<url>/api/webhooks/<source> as a new delivery: signed anew with the current
time, as the source's senders sign (its secret and verification mode), so
it goes through parsing, correlation and auto-triage again: after fixing a
source's format or severity mapping, or a playbook, say. For hmac and
slack sources the new timestamp makes it a new delivery; a github source's
replay key is the body itself, so the receiver refuses it as replayed
(409, exit 5) until its replay window has passed. A body that carried several events (a batch) brings all
of them again. The event is read from the local store, or with
--server/TW_SERVER from that receiver, which then needs the secret
(--secret-env).

The URL defaults to --server/TW_SERVER, or ` + webhook.DefaultReceiverURL + `.
Exit status as for 'tw-cli webhook test': 0 the receiver answered 2xx,
1 it could not be reached, 3 it refused the signature, 4 no such event,
5 any other non-2xx answer.`,
		Example: `  $ tw-cli events replay 3f1c…
  $ tw-cli events replay 3f1c… --url https://receiver.example.com -o json`,
		Args: cmdutil.ExactArgs(1, "event id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := read()
			if err != nil {
				return err
			}
			ev, err := r.GetEvent(cmd.Context(), args[0])
			if errors.Is(err, store.ErrNotFound) {
				return cmdutil.NotFound("no event %q: run 'tw-cli events list'", args[0])
			}
			if err != nil {
				return err
			}
			send.Name, send.ResignReplayed = ev.Source, true
			return webhook.Send(cmd.Context(), send, ev.Payload, "tw-cli events replay")
		},
	}
	webhook.AddSendFlags(cmd, send)
	return cmd
}
