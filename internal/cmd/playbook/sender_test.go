package playbook

import (
	"context"
	"time"

	"github.com/tw-cli/tw-cli/internal/notify"
)

// newTestSender never sleeps between retries.
func newTestSender() *notify.Sender {
	s := notify.NewSender()
	s.Sleep = func(context.Context, time.Duration) error { return nil }
	return s
}
