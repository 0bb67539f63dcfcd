package serve

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/webhookconfig"
)

// sourceConfig is `serve --config`: the file's sources applied to the
// store at start and on every reload signal. The receiver looks sources
// up in the store per request, so applying is all a reload needs; requests
// in flight keep the source they already read.
type sourceConfig struct {
	path      string
	store     store.Store
	log       *slog.Logger
	lookupEnv func(string) (string, bool)
	now       func() time.Time
	// changed, when set, is told the sources an apply wrote, so the
	// receiver's source cache forgets them.
	changed func(names ...string)
	// applied, when set, runs after a successful apply: serve checks the
	// sources' playbooks there.
	applied func(ctx context.Context)
}

// apply loads the file and reconciles the store with it, logging every
// change. On error nothing is written if the file itself is bad or
// conflicts; a failing store write leaves the changes before it (logged).
func (c *sourceConfig) apply(ctx context.Context) error {
	cfg, err := webhookconfig.Load(c.path, webhookconfig.Options{LookupEnv: c.lookupEnv})
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		c.log.Warn("webhook config: "+w, "config", c.path)
	}
	plan, err := webhookconfig.Apply(ctx, c.store, cfg, webhookconfig.ApplyOptions{Now: c.now})
	if c.changed != nil {
		var names []string
		for _, ch := range plan.Changes {
			if ch.Action != webhookconfig.ActionUnchanged {
				names = append(names, ch.Source)
			}
		}
		c.changed(names...)
	}
	for _, ch := range plan.Changes {
		attrs := []any{"config", c.path, "source", ch.Source}
		switch ch.Action {
		case webhookconfig.ActionCreate:
			c.log.Info("config source created", attrs...)
		case webhookconfig.ActionDelete:
			c.log.Info("config source removed", attrs...)
		case webhookconfig.ActionUpdate:
			attrs = append(attrs, "fields", strings.Join(ch.Fields, ","))
			if ch.PreviousSecretExpiresAt != nil {
				attrs = append(attrs, "previous_secret_expires_at", ch.PreviousSecretExpiresAt.UTC().Format(time.RFC3339))
			}
			c.log.Info("config source updated", attrs...)
		}
	}
	if err != nil {
		return err
	}
	c.log.Info("webhook config applied", "config", c.path,
		"created", plan.Count(webhookconfig.ActionCreate), "updated", plan.Count(webhookconfig.ActionUpdate),
		"removed", plan.Count(webhookconfig.ActionDelete), "unchanged", plan.Count(webhookconfig.ActionUnchanged))
	if c.applied != nil {
		c.applied(ctx)
	}
	return nil
}

// reload re-applies the file. A bad file is logged and changes nothing:
// the sources of the last good apply stay, so a typo saved mid-edit never
// takes the receiver's sources away.
func (c *sourceConfig) reload(ctx context.Context) {
	c.log.Info("reloading webhook config", "config", c.path)
	if err := c.apply(ctx); err != nil && ctx.Err() == nil {
		c.log.Error("webhook config reload failed; keeping the previous sources", "config", c.path, "error", err)
	}
}

// watchSignals has the log file reopened (reopenLog, when set) and runs
// every reload, in order, on each signal until ctx is done; without
// reloads it logs that there is nothing else to reload.
func watchSignals(ctx context.Context, signals <-chan os.Signal, log *slog.Logger, reopenLog func(), reloads ...func(context.Context)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-signals:
			if reopenLog != nil {
				reopenLog()
			}
			if len(reloads) == 0 {
				log.Info("SIGHUP: log file reopened if it was moved; nothing to reload (serve was started without --config or --tls-cert)")
			}
			for _, r := range reloads {
				r(ctx)
			}
		}
	}
}
