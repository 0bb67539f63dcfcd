package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
)

// ErrUnknownDestination is returned for a destination name not configured.
var ErrUnknownDestination = errors.New("unknown destination")

// Notifier sends messages to stored destinations and keeps what could not
// be delivered on the dead-letter list.
type Notifier struct {
	Store  store.TriageStore
	Sender *Sender
	Now    func() time.Time

	// down remembers destinations whose last message failed every
	// attempt (see Cooldown).
	mu   sync.Mutex
	down map[string]downSince
}

// Cooldown is how long after a message failed every attempt with the
// endpoint down (no answer, 408, 425, 429, 5xx) its destination is not
// tried again: messages meanwhile go straight to the dead-letter list. A destination that is down or hangs took each triage
// job that notified it for the Sender's whole retry budget (four attempts
// and their timeouts), and with a few workers it held up every job.
const Cooldown = time.Minute

type downSince struct {
	at  time.Time
	err string
}

// Delivery is the outcome of notifying one destination.
type Delivery struct {
	Destination string
	Result
	// DeadLetter is set when the message was dead-lettered.
	DeadLetter string
}

// Notify renders m for the named destination and sends it; a message
// that fails every attempt is dead-lettered (Delivery.DeadLetter), so it
// is never lost. An error means nothing was attempted.
func (n *Notifier) Notify(ctx context.Context, name string, m Message) (Delivery, error) {
	d, err := n.Store.GetDestination(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return Delivery{}, fmt.Errorf("%w %q: add it with 'tw-cli destination add'", ErrUnknownDestination, name)
	}
	if err != nil {
		return Delivery{}, err
	}
	body, err := Render(d, m, n.Now())
	if err != nil {
		return Delivery{}, err
	}
	var out Delivery
	if why, skip := n.isDown(name); skip {
		out = Delivery{Destination: name, Result: Result{Err: errors.New(why)}}
	} else {
		out = Delivery{Destination: name, Result: n.Sender.Send(ctx, d, body)}
		if out.OK() {
			n.markUp(name)
			return out, nil
		}
		if ctx.Err() != nil {
			// Shutting down: the caller's job is retried as a whole, so
			// the message is not dead-lettered as if the endpoint had
			// failed.
			return out, ctx.Err()
		}
		if endpointDown(out.Status) {
			n.markDown(name, out.Err)
		}
	}
	now := n.Now()
	dl := &store.DeadLetter{
		Destination: name, Kind: d.Kind, IncidentID: m.IncidentID, IncidentNumber: m.Number, Body: body,
		Attempts: out.Attempts, LastStatus: out.Status, LastError: out.Err.Error(), CreatedAt: now, UpdatedAt: now,
	}
	if err := n.Store.AddDeadLetter(ctx, dl); err != nil {
		return out, fmt.Errorf("dead-letter the failed notification: %w", err)
	}
	out.DeadLetter = dl.ID
	return out, nil
}

// Test sends a test message once, without retries or dead-lettering.
func (n *Notifier) Test(ctx context.Context, name string) (Delivery, error) {
	d, err := n.Store.GetDestination(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return Delivery{}, fmt.Errorf("%w %q", ErrUnknownDestination, name)
	}
	if err != nil {
		return Delivery{}, err
	}
	body, err := Render(d, TestMessage(n.Now()), n.Now())
	if err != nil {
		return Delivery{}, err
	}
	once := *n.Sender
	once.MaxAttempts = 1
	return Delivery{Destination: name, Result: once.Send(ctx, d, body)}, nil
}

// Retry sends a dead letter again (with the Sender's retries). Delivered,
// it leaves the list; failed, it stays with its attempts counted.
func (n *Notifier) Retry(ctx context.Context, id string) (Delivery, error) {
	dl, err := n.Store.GetDeadLetter(ctx, id)
	if err != nil {
		return Delivery{}, err
	}
	d, err := n.Store.GetDestination(ctx, dl.Destination)
	if errors.Is(err, store.ErrNotFound) {
		return Delivery{}, fmt.Errorf("%w %q: it was removed; add it again to retry %s", ErrUnknownDestination, dl.Destination, id)
	}
	if err != nil {
		return Delivery{}, err
	}
	// The body was rendered for the destination as it was: sent to one
	// since replaced by another kind, it would be another kind's message.
	if dl.Kind != "" && dl.Kind != d.Kind {
		return Delivery{}, fmt.Errorf("destination %q is now a %s destination, and failed notification %q was built for a %s one: it cannot be resent there",
			dl.Destination, d.Kind, id, dl.Kind)
	}
	// Claimed before sending, for longer than the send can take: of two
	// retries, at once or overlapping, one sends. A retry that died holds
	// its claim until it lapses.
	claim := n.Sender.Longest() + time.Minute
	if err := n.Store.ClaimDeadLetter(ctx, id, dl.UpdatedAt, n.Now(), n.Now().Add(claim)); err != nil {
		if errors.Is(err, store.ErrLeaseLost) {
			return Delivery{}, fmt.Errorf("failed notification %q is being retried elsewhere, or was just (a retry holds it for at most %s): list the failures again", id, claim)
		}
		return Delivery{}, err
	}
	out := Delivery{Destination: dl.Destination, Result: n.Sender.Send(ctx, d, dl.Body), DeadLetter: id}
	// Recorded even when ctx was cancelled (Ctrl-C mid-send): with ctx,
	// a message sent just before stayed a dead letter, to be sent twice,
	// and a failed one kept its claim, refusing the next retry for minutes.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if out.OK() {
		return out, n.Store.DeleteDeadLetter(rec, id)
	}
	dl.Attempts += out.Attempts
	dl.LastStatus, dl.LastError, dl.UpdatedAt = out.Status, out.Err.Error(), n.Now()
	return out, n.Store.UpdateDeadLetter(rec, dl)
}

// recordTimeout bounds the store write that records a retry's outcome
// after its context was cancelled.
const recordTimeout = 10 * time.Second

// endpointDown reports whether a message's last status says the endpoint
// itself is failing (no answer, a timeout, overload, a server error), as
// opposed to a rejection of this one message, such as a 400 or a 413,
// which says nothing of the next.
func endpointDown(status int) bool {
	switch {
	case status == 0, status == http.StatusRequestTimeout, status == http.StatusTooEarly,
		status == http.StatusTooManyRequests, status >= 500:
		return true
	}
	return false
}

// isDown reports whether name failed a message within Cooldown, and why
// it is skipped.
func (n *Notifier) isDown(name string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	d, ok := n.down[name]
	if !ok || n.Now().Sub(d.at) >= Cooldown {
		return "", false
	}
	return fmt.Sprintf("not sent: it failed a message %s ago (%s); it is tried again %s after that failure",
		n.Now().Sub(d.at).Round(time.Second), d.err, Cooldown), true
}

func (n *Notifier) markDown(name string, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.down == nil {
		n.down = map[string]downSince{}
	}
	n.down[name] = downSince{at: n.Now(), err: err.Error()}
}

func (n *Notifier) markUp(name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.down, name)
}
