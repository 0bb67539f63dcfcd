// Package store defines how tw-cli persists sources, tokens, events and
// incidents. The Store interface is implemented by store/sqlite (default,
// embedded) and, for several receivers on one database, by PostgreSQL.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MinFilterTime and MaxFilterTime bound the times a listing can filter
// by, in whole years: SQLite keeps times as int64 nanoseconds since 1970,
// and a time outside wrapped around and matched everything or nothing.
var (
	MinFilterTime = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxFilterTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Errors every implementation returns, so callers need not know the backend.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	// ErrChanged is UpdateSource's answer when another writer changed the
	// row since it was read.
	ErrChanged = errors.New("changed since it was read")
	// ErrReplayed means the same signature for the same source was already
	// accepted within the replay window.
	ErrReplayed = errors.New("replayed delivery")
	// ErrClosed means the store is shutting down and stored nothing; the
	// sender should retry, against this receiver once restarted or another.
	ErrClosed = errors.New("store closed")
	// ErrBusy means the database was locked by another writer (a
	// migration, another process) past the store's wait: nothing was
	// stored, and the sender should retry.
	ErrBusy = errors.New("database busy")
	// ErrUnavailable means the database could not be reached or ran out
	// of resources before anything was stored; the sender should retry.
	ErrUnavailable = errors.New("database unavailable")
	// ErrIdempotencyConflict refuses a delivery whose idempotency key
	// was used, within its retention, for another body: answering it as
	// a repeat would hand out the other delivery's incident.
	ErrIdempotencyConflict = errors.New("idempotency key already used for another body")
	// ErrNoEvents refuses a delivery without events: it would claim its
	// replay key with no event row to keep that key across a restart.
	ErrNoEvents = errors.New("delivery holds no events")
)

// Source is a registered webhook sender.
type Source struct {
	Name   string `json:"source"`
	Secret string `json:"-"`
	// PreviousSecret keeps verifying until PreviousExpiresAt after a
	// rotation, so senders can switch without losing deliveries.
	PreviousSecret    string            `json:"-"`
	PreviousExpiresAt time.Time         `json:"-"`
	Format            string            `json:"format"`
	Verify            string            `json:"verify"`
	AutoTriage        bool              `json:"auto_triage"`
	Playbook          string            `json:"playbook,omitempty"`
	SeverityMapping   map[string]string `json:"severity_mapping,omitempty"`
	Description       string            `json:"description,omitempty"`
	// AllowFrom, when not empty, lists the only networks (CIDR prefixes)
	// deliveries may come from: the check for senders that sign nothing,
	// such as Threat Stack.
	AllowFrom []string `json:"allow_from,omitempty"`
	// Origin says where the source was defined: cli, api or config.
	Origin    string    `json:"origin"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// EncodeAllowFrom is how a source's networks are stored: comma-separated
// prefixes, the empty string for none. Prefixes hold no commas.
func EncodeAllowFrom(prefixes []string) string { return strings.Join(prefixes, ",") }

// DecodeAllowFrom reads EncodeAllowFrom's form.
func DecodeAllowFrom(raw string) []string {
	if raw == "" {
		return nil
	}
	return strings.Split(raw, ",")
}

// DecodeSeverityMapping reads a source's stored severity mapping, a JSON
// object; an empty one is nil. Most sources map nothing and are stored as
// "{}", which skips the decoder: listing a thousand sources noticed it.
func DecodeSeverityMapping(source, raw string) (map[string]string, error) {
	if raw == "{}" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("source %s: bad severity mapping: %w", source, err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// EncodeSeverityMapping is DecodeSeverityMapping's inverse: the JSON
// object both stores keep, "{}" for none.
func EncodeSeverityMapping(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Secrets returns the secrets that verify a delivery at now: the current
// one first, then the previous one while its grace period lasts.
func (s *Source) Secrets(now time.Time) [][]byte {
	out := [][]byte{[]byte(s.Secret)}
	if s.PreviousSecret != "" && now.Before(s.PreviousExpiresAt) {
		out = append(out, []byte(s.PreviousSecret))
	}
	return out
}

// Token is an admin API token. Only its SHA-256 hash is stored.
type Token struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Hash       string    `json:"-"`
	Prefix     string    `json:"prefix"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// Incident statuses.
const (
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusResolved     = "resolved"
)

// Incident is what an analyst works on; one or more events feed it.
type Incident struct {
	ID             string    `json:"id"`
	Number         string    `json:"number"`
	Title          string    `json:"title"`
	Severity       string    `json:"severity"`
	Status         string    `json:"status"`
	Source         string    `json:"source"`
	Category       string    `json:"category,omitempty"`
	CorrelationKey string    `json:"correlation_key,omitempty"`
	EventCount     int       `json:"event_count"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// Owner and Tags are the incident's triage state (see
	// IncidentTriage) as ListIncidents reads it, in the same query, so a
	// list shows and filters owners without a query per incident. Other
	// reads leave them empty: GetIncidentTriage and IncidentDetail carry
	// them for one incident.
	Owner string   `json:"owner,omitempty"`
	Tags  []string `json:"tags,omitempty"`
}

// DecodeTags reads an incident's stored tags, a JSON array; "[]", what
// most incidents hold, skips the decoder.
func DecodeTags(incidentID, raw string) ([]string, error) {
	if raw == "[]" || raw == "" {
		return nil, nil
	}
	var tags []string
	if err := json.Unmarshal([]byte(raw), &tags); err != nil {
		return nil, fmt.Errorf("incident %s: bad tags: %w", incidentID, err)
	}
	return tags, nil
}

// Event is one received delivery (or one alert of a batched delivery).
type Event struct {
	ID         string    `json:"id"`
	Source     string    `json:"source"`
	ReceivedAt time.Time `json:"received_at"`
	// Verification is the scheme that authenticated the delivery, e.g. "hmac".
	Verification string `json:"verification"`
	Format       string `json:"format"`
	Type         string `json:"event_type,omitempty"`
	IncidentID   string `json:"incident_id"`
	IncidentNum  string `json:"incident_number"`
	RequestID    string `json:"request_id,omitempty"`
	// Normalized is the parsed event as JSON.
	Normalized []byte `json:"-"`
	// Payload is the body exactly as received.
	Payload []byte `json:"-"`
}

// Delivery is one verified request to persist. Each item becomes an event;
// items without a matching open incident (by correlation key) get a new one.
type Delivery struct {
	Source       string
	ReceivedAt   time.Time
	Verification string
	Format       string
	RequestID    string
	// ReplayKey (source + signature) is remembered for the replay window;
	// a second delivery with the same key is ErrReplayed.
	ReplayKey string
	// ReplaySince, when set, stands for ReceivedAt in the replay window:
	// for a key holding a signed timestamp, that timestamp less the
	// tolerance (plus a margin), so that the window's prune forgets the
	// key once a replay of it would fail verification anyway, about
	// half the window sooner than by its receipt.
	ReplaySince time.Time
	// IdempotencyKey (source + the sender's X-Webhook-Id or
	// Idempotency-Key) makes a repeat of the delivery return the first
	// one's result instead of storing anything. It is stored in the same
	// transaction as the events, so a 2xx and its key are durable together.
	IdempotencyKey string
	// IdempotencyCutoff ends the retention window: a stored key seen
	// before it has expired, and the delivery is new.
	IdempotencyCutoff time.Time
	Payload           []byte
	Items             []DeliveryItem
	// Triage, when set, queues a triage job for each incident the
	// delivery opens, in the same transaction.
	Triage *TriageRequest
}

// DeliveryItem is one normalized event of a delivery.
type DeliveryItem struct {
	Type string
	// Title names the incident the item opens; Severity is its severity,
	// empty to keep an existing incident's.
	Title          string
	Severity       string
	Category       string
	CorrelationKey string
	Normalized     []byte
	// KeepTitle leaves an existing incident's title alone: the item is
	// about something inside it (a TheHive task, log or observable).
	KeepTitle bool
	// Resolve closes the incident the item lands on: the vendor deleted
	// or resolved the object it stands for. With nothing of its key open
	// it lands on the key's latest resolved incident (a vendor closing
	// twice, true_positive then closed, or closing what an analyst
	// already resolved here), and only a key never seen opens an
	// incident, resolved from the start and never triaged.
	Resolve bool
}

// PayloadDigest is what an idempotency record keeps of its delivery's
// body, to tell a repeat from another delivery reusing the key.
func PayloadDigest(payload []byte) string {
	sum := sha256.Sum256(payload)
	return hex.EncodeToString(sum[:16])
}

// ApplyItem is what one more delivery item does to the open incident it
// lands on, in every store. When the item resolves the incident it
// returns the timeline entry saying so: an analyst's resolve leaves one,
// and a sender's must too (who closed it, and when).
func ApplyItem(inc *Incident, it DeliveryItem, now time.Time) *TimelineEntry {
	inc.EventCount++
	inc.UpdatedAt = now
	if it.Title != "" && !it.KeepTitle {
		inc.Title = it.Title
	}
	if it.Severity != "" {
		inc.Severity = it.Severity
	}
	if !it.Resolve || inc.Status == StatusResolved {
		return nil
	}
	inc.Status = StatusResolved
	return &TimelineEntry{Kind: TimelineStatus, Actor: "source:" + inc.Source, Outcome: StatusResolved,
		Message: fmt.Sprintf("status → resolved: %s closed it (%s)", inc.Source, it.Type)}
}

// maxMergeHops bounds how far an item follows merged_into from its key's
// incident to the group holding its events.
const maxMergeHops = 8

// FollowMerges walks from into, the number an incident was merged into, to
// the incident holding its events now, through merges of merges. load reads
// an incident by number and the number it was itself merged into ("" when
// none). ok is false when there is nothing to attach to: the group is
// resolved (the key's next event opens a new incident) or the chain is
// longer than maxMergeHops.
func FollowMerges(into string, load func(number string) (*Incident, string, error)) (inc *Incident, ok bool, err error) {
	for range maxMergeHops {
		target, next, err := load(into)
		if err != nil {
			return nil, false, err
		}
		if next == "" {
			return target, target.Status != StatusResolved, nil
		}
		into = next
	}
	return nil, false, nil
}

// ForMergeTarget is an item as it lands on the group an incident of its key
// was merged into (a group step): it brings an event and may raise the
// severity, but the group keeps its title and stays open when this one
// member's vendor object closes.
func ForMergeTarget(it DeliveryItem, target *Incident) DeliveryItem {
	it.KeepTitle, it.Resolve = true, false
	if !MoreSevere(it.Severity, target.Severity) {
		it.Severity = ""
	}
	return it
}

// severityRank orders the normalized severities; unknown ones rank lowest.
var severityRank = map[string]int{"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

// MoreSevere reports whether severity a outranks b.
func MoreSevere(a, b string) bool { return severityRank[a] > severityRank[b] }

// FoldInto is what a merged incident brings to the one it is folded
// into: the higher severity, its tags and its indicators. Folded away
// with its events only, a critical repeat of a grouped phish left its
// group at high, without its new links.
func FoldInto(target *Incident, targetTriage *IncidentTriage, from *Incident, fromTriage *IncidentTriage, at time.Time) {
	target.EventCount += from.EventCount
	target.UpdatedAt = at
	if MoreSevere(from.Severity, target.Severity) {
		target.Severity = from.Severity
	}
	targetTriage.Tags = Union(targetTriage.Tags, fromTriage.Tags)
	targetTriage.Indicators = targetTriage.Indicators.Merge(fromTriage.Indicators)
	targetTriage.GroupLastAt = at
}

// NewIncidentStatus is the status of the incident an item opens: resolved
// at once when the item closes what it is about (a deletion whose
// creation was never received).
func NewIncidentStatus(it DeliveryItem) string {
	if it.Resolve {
		return StatusResolved
	}
	return StatusOpen
}

// IngestResult tells the receiver what a delivery produced.
type IngestResult struct {
	Events    []Event
	Incidents []Incident
	// Jobs are the triage jobs queued (see Delivery.Triage).
	Jobs []TriageJob
	// Duplicate says the idempotency key was already stored: nothing was
	// written, and Events and Incidents are the first delivery's, with
	// only their IDs and numbers set.
	Duplicate bool
}

// EventFilter narrows ListEvents; zero values mean no filter.
type EventFilter struct {
	Source string
	Since  time.Time
	Limit  int
}

// IncidentFilter narrows ListIncidents; zero values mean no filter.
type IncidentFilter struct {
	Source string
	Status string
	Since  time.Time
	Limit  int

	// Owner matches the incident's triage owner exactly.
	Owner string
}

// Store is the persistence contract. Every method is safe for concurrent use.
type Store interface {
	TriageStore

	CreateSource(ctx context.Context, s *Source) error
	GetSource(ctx context.Context, name string) (*Source, error)
	ListSources(ctx context.Context) ([]Source, error)
	// UpdateSource replaces every field of an existing source, but only
	// if it was not changed since it was read: its stored UpdatedAt must
	// still be readAt, else ErrChanged (read it again and redo the change).
	// A read-modify-write without this check let a parallel `webhook
	// update` undo a `rotate-secret` that had already shown its new secret.
	UpdateSource(ctx context.Context, s *Source, readAt time.Time) error
	DeleteSource(ctx context.Context, name string) error

	CreateToken(ctx context.Context, t *Token) error
	ListTokens(ctx context.Context) ([]Token, error)
	// RevokeToken deletes a token by id or name.
	RevokeToken(ctx context.Context, idOrName string) error
	// TouchToken returns the token with this hash and records its use.
	TouchToken(ctx context.Context, hash string, at time.Time) (*Token, error)

	// Ingest stores the delivery's events and incidents in one transaction;
	// when it returns nil the data is durable. Implementations may commit
	// concurrent deliveries together, but one delivery's failure (such as
	// ErrReplayed) never fails another's. After Close it returns ErrClosed.
	Ingest(ctx context.Context, d *Delivery) (*IngestResult, error)
	// PruneReplay forgets replay keys older than before.
	PruneReplay(ctx context.Context, before time.Time) error
	// PruneIdempotency forgets idempotency keys stored before before.
	PruneIdempotency(ctx context.Context, before time.Time) error

	ListEvents(ctx context.Context, f EventFilter) ([]Event, error)
	GetEvent(ctx context.Context, id string) (*Event, error)
	// ListIncidents returns incidents newest first, with their Owner and
	// Tags set.
	ListIncidents(ctx context.Context, f IncidentFilter) ([]Incident, error)
	// GetIncident finds an incident by id or number (INC-2024-0001).
	GetIncident(ctx context.Context, idOrNumber string) (*Incident, error)

	Ping(ctx context.Context) error
	// Close finishes the deliveries already handed to Ingest, then
	// releases the database. It is safe to call more than once.
	Close() error
}

// ReceiverClaimer is a Store that one receiving process at a time may
// ingest into (the SQLite file). serve claims before it listens, so a
// second receiver fails at start rather than on its first delivery.
type ReceiverClaimer interface {
	ClaimReceiver() error
}

// FormatIncidentNumber renders INC-<year>-<seq>, zero-padded to 4 digits.
// Every delivery names an incident, so this is strconv, not fmt.
func FormatIncidentNumber(year, seq int) string {
	var buf [24]byte
	b := append(buf[:0], "INC-"...)
	b = strconv.AppendInt(b, int64(year), 10)
	b = append(b, '-')
	return string(AppendZeroPadded(b, int64(seq), 4))
}

// AppendZeroPadded appends n in decimal, zero-padded to width
// characters as fmt's %0*d does (a minus sign counts).
func AppendZeroPadded(b []byte, n int64, width int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
		width--
	}
	var buf [20]byte // the digits of any int64
	digits := strconv.AppendInt(buf[:0], n, 10)
	for i := len(digits); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, digits...)
}
