package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// ErrLeaseLost means a triage job's lease expired and another worker may
// hold it now: the worker that lost it must stop writing for that job.
var ErrLeaseLost = errors.New("triage job lease lost")

// ErrGroupTaken means another open incident holds the group key an
// IncidentChange was to claim: it got there first, and the incident
// belongs in its group instead.
var ErrGroupTaken = errors.New("another incident opened this group first")

// Triage job states.
const (
	// JobQueued waits for a worker (first run, or a retry after RunAt).
	JobQueued = "queued"
	// JobRunning is held by LeaseOwner until LeaseUntil; an expired lease
	// makes it claimable again, which is how work resumes after a crash.
	JobRunning = "running"
	// JobDone finished every step.
	JobDone = "done"
	// JobFailed used up its attempts; it stays for analysts to see.
	JobFailed = "failed"
)

// TriageJob is one playbook run waiting in, or taken from, the durable
// triage queue.
type TriageJob struct {
	ID         string `json:"id"`
	IncidentID string `json:"incident_id"`
	EventID    string `json:"event_id,omitempty"`
	Source     string `json:"source"`
	Playbook   string `json:"playbook"`
	Status     string `json:"status"`
	// Step is the index of the next step to run, so a retry or a resumed
	// job does not repeat steps (and notifications) that already happened.
	Step int `json:"step"`
	// StepName names that step, so that a job resumes at it even when the
	// playbook was edited meanwhile and it moved; "" for a step the file
	// does not name (its generated name follows its position), before the
	// first step ran, past the last one, and for jobs of older builds.
	StepName    string    `json:"step_name,omitempty"`
	Attempts    int       `json:"attempts"`
	RunAt       time.Time `json:"run_at"`
	LeaseOwner  string    `json:"lease_owner,omitempty"`
	LeaseUntil  time.Time `json:"lease_until,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
}

// TriageRequest asks Ingest to queue auto-triage for every incident the
// delivery opens, in the same transaction as the events.
type TriageRequest struct {
	Playbook string
}

// Indicators are observables pulled out of events by extract_indicators.
type Indicators struct {
	URLs    []string `json:"urls,omitempty"`
	Domains []string `json:"domains,omitempty"`
	IPs     []string `json:"ips,omitempty"`
	Hashes  []string `json:"hashes,omitempty"`
}

// Empty reports whether no indicator is set.
func (i Indicators) Empty() bool {
	return len(i.URLs)+len(i.Domains)+len(i.IPs)+len(i.Hashes) == 0
}

// Merge returns i with the values of o it lacks appended, in order.
func (i Indicators) Merge(o Indicators) Indicators {
	return Indicators{
		URLs:    Union(i.URLs, o.URLs),
		Domains: Union(i.Domains, o.Domains),
		IPs:     Union(i.IPs, o.IPs),
		Hashes:  Union(i.Hashes, o.Hashes),
	}
}

// Union appends the values of add that list lacks, keeping the order of
// both, and drops empty strings.
func Union(list, add []string) []string {
	out := slices.Clone(list)
	for _, v := range add {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// IncidentTriage is what triage and analysts add to an incident beyond
// what deliveries carry.
type IncidentTriage struct {
	IncidentID string     `json:"-"`
	Owner      string     `json:"owner,omitempty"`
	Tags       []string   `json:"tags,omitempty"`
	Indicators Indicators `json:"indicators,omitzero"`
	// GroupKey is the key a group step computed; later incidents with the
	// same key within the window are folded into this one.
	GroupKey    string    `json:"group_key,omitempty"`
	GroupLastAt time.Time `json:"group_last_at,omitzero"`
	// MergedInto names the incident this one was folded into.
	MergedInto     string `json:"merged_into,omitempty"`
	Suppressed     bool   `json:"suppressed,omitempty"`
	SuppressReason string `json:"suppress_reason,omitempty"`
}

// SetStatus is how a change of status touches the triage state: an
// incident brought back from resolved by hand is no longer suppressed, or
// every playbook would go on skipping it, and nothing could clear it.
func (tr *IncidentTriage) SetStatus(status string) {
	if status != StatusResolved {
		tr.Suppressed, tr.SuppressReason = false, ""
	}
}

// Timeline entry kinds.
const (
	TimelinePlaybook = "playbook" // a playbook started, finished or gave up
	TimelineStep     = "step"     // one step's outcome
	TimelineComment  = "comment"
	TimelineAssign   = "assign"
	TimelineStatus   = "status"
	// TimelineDelivery is one destination of a notify step delivered,
	// recorded as it happens when the step has several: a job resumed
	// after an interruption mid-step sends only to those left.
	TimelineDelivery = "delivery"
)

// Step outcomes written to the timeline.
const (
	OutcomeOK      = "ok"
	OutcomeSkipped = "skipped" // the step's `if` was false
	OutcomeStopped = "stopped" // a match was false, or a step ended the playbook
	OutcomeFailed  = "failed"  // will be retried, or the job is exhausted
	OutcomeStarted = "started"
	OutcomeDone    = "done"
	// OutcomeInterrupted is a job stopped by a shutdown; it resumes.
	OutcomeInterrupted = "interrupted"
)

// TimelineEntry is one line of an incident's history.
type TimelineEntry struct {
	ID         int64     `json:"id"`
	IncidentID string    `json:"-"`
	At         time.Time `json:"at"`
	Kind       string    `json:"kind"`
	// Actor is who did it: "playbook:<name>", a user name, or "receiver".
	Actor   string `json:"actor"`
	Step    string `json:"step,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	Message string `json:"message"`
	// JobID ties playbook entries to the queue job that wrote them.
	JobID string `json:"job_id,omitempty"`
}

// IncidentChange is a set of edits to an incident applied atomically with
// its timeline entries; nil and empty fields change nothing.
type IncidentChange struct {
	Severity      *string
	Status        *string
	Owner         *string
	AddTags       []string
	AddIndicators Indicators
	// GroupKey records the incident as the open group for this key. With
	// GroupSince set, the change fails with ErrGroupTaken when another
	// open incident holds the key since then: checked in the change's
	// transaction, so that two incidents triaged at once do not both
	// open the group.
	GroupKey   *string
	GroupSince time.Time
	// Check, when set, sees the incident and its triage state as the
	// change's transaction read them, before anything is written: an
	// error it returns is the change's, and nothing is written. Rules
	// that depend on the state (no acknowledging a resolved incident)
	// hold then even when another writer changes it meanwhile.
	Check func(*Incident, *IncidentTriage) error
	// MergeInto folds the incident into another one: its events move
	// there, it is resolved, and the target's group time is refreshed.
	MergeInto string
	Suppress  *string // the reason
}

// JobProgress is where a triage job stands after a step: the lease holder
// must still hold it for the write to happen (fencing a worker that
// stalled past its lease).
type JobProgress struct {
	JobID    string
	Worker   string
	NextStep int
	// NextStepName is that step's name, when the playbook names it ("" for
	// an unnamed step and past the last one).
	NextStepName string
	// Lease extends the lease from now by this much.
	Lease time.Duration
}

// Destination is an outbound notification target.
type Destination struct {
	Name string `json:"name"`
	// Kind is slack, ms-teams, generic or splunk-hec.
	Kind string `json:"kind"`
	// URL may itself be a secret (Slack and Teams webhook URLs carry a
	// token): display code must mask it.
	URL string `json:"-"`
	// Token is the Splunk HEC token; Secret signs generic deliveries.
	Token      string    `json:"-"`
	Secret     string    `json:"-"`
	Sourcetype string    `json:"sourcetype,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// DeadLetter is a notification that failed every attempt. Body is the
// message as rendered, so a retry sends the same content.
type DeadLetter struct {
	ID          string `json:"id"`
	Destination string `json:"destination"`
	// Kind is the destination's kind the body was rendered for; "" on
	// letters older than the field.
	Kind           string    `json:"kind,omitempty"`
	IncidentID     string    `json:"incident_id,omitempty"`
	IncidentNumber string    `json:"incident_number,omitempty"`
	Body           []byte    `json:"-"`
	Attempts       int       `json:"attempts"`
	LastStatus     int       `json:"last_status,omitempty"`
	LastError      string    `json:"last_error"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// TriageStore persists the triage queue, incident timelines and triage
// state, notification destinations and their dead letters.
type TriageStore interface {
	// ClaimTriageJobs leases up to limit runnable jobs (queued and due, or
	// running with an expired lease) to worker until now+lease, counting
	// an attempt for each.
	ClaimTriageJobs(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]TriageJob, error)
	// ExtendTriageLease keeps a long step's job leased; ErrLeaseLost when
	// the worker no longer holds it.
	ExtendTriageLease(ctx context.Context, id, worker string, until time.Time) error
	// CompleteTriageJob marks a held job done, with the final entries.
	CompleteTriageJob(ctx context.Context, id, worker string, now time.Time, entries ...TimelineEntry) error
	// FailTriageJob records a failed attempt: the job is queued again at
	// retryAt, or marked failed when retryAt is zero.
	FailTriageJob(ctx context.Context, id, worker string, now time.Time, errMsg string, retryAt time.Time, entries ...TimelineEntry) error
	// RequeueTriageJob gives a held job back to the queue at once, and the
	// attempt its claim counted with it: a graceful shutdown interrupted
	// the job, the job did not fail.
	RequeueTriageJob(ctx context.Context, id, worker string, now time.Time, entries ...TimelineEntry) error
	GetTriageJob(ctx context.Context, id string) (*TriageJob, error)
	ListTriageJobs(ctx context.Context, incidentID string) ([]TriageJob, error)

	// ApplyIncidentChange edits an incident and appends timeline entries
	// in one transaction. With progress set it also advances that job,
	// and fails with ErrLeaseLost if the worker lost its lease.
	ApplyIncidentChange(ctx context.Context, idOrNumber string, ch IncidentChange, progress *JobProgress, at time.Time, entries ...TimelineEntry) (*Incident, error)
	GetIncidentTriage(ctx context.Context, incidentID string) (*IncidentTriage, error)
	// FindGroupIncident returns the open incident holding key whose group
	// time is at or after since, other than exclude; ErrNotFound if none.
	FindGroupIncident(ctx context.Context, key string, since time.Time, exclude string) (*Incident, error)
	ListTimeline(ctx context.Context, incidentID string) ([]TimelineEntry, error)
	// LatestIncidentEvent returns the newest event of an incident.
	LatestIncidentEvent(ctx context.Context, incidentID string) (*Event, error)

	CreateDestination(ctx context.Context, d *Destination) error
	GetDestination(ctx context.Context, name string) (*Destination, error)
	ListDestinations(ctx context.Context) ([]Destination, error)
	DeleteDestination(ctx context.Context, name string) error

	AddDeadLetter(ctx context.Context, dl *DeadLetter) error
	ListDeadLetters(ctx context.Context) ([]DeadLetter, error)
	GetDeadLetter(ctx context.Context, id string) (*DeadLetter, error)
	// UpdateDeadLetter records another failed retry.
	UpdateDeadLetter(ctx context.Context, dl *DeadLetter) error
	// ClaimDeadLetter takes a dead letter for one retry until until: it
	// succeeds only while the letter is as it was read (updated at seen)
	// and no other retry's claim is live at now, so that of two retries,
	// at once or overlapping, one sends. UpdateDeadLetter releases the
	// claim. ErrLeaseLost when it changed, went or is claimed meanwhile.
	ClaimDeadLetter(ctx context.Context, id string, seen, now, until time.Time) error
	DeleteDeadLetter(ctx context.Context, id string) error
}
