package triage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/pkg/payload"
)

// Engine applies playbooks to incidents. Each step's effect and its
// timeline entry are written in one transaction, together with the job's
// progress when a queue job drives the run.
type Engine struct {
	Store store.Store
	// Notifier delivers notify steps; nil makes them fail (and retry).
	Notifier *notify.Notifier
	Now      func() time.Time
}

// Run is one application of a playbook to an incident.
type Run struct {
	Playbook *Playbook
	Incident string // id or number
	// EventID picks the event expressions see; empty means the
	// incident's latest event.
	EventID string
	// Start is the index of the first step to run (a resumed job).
	Start int
	// Progress, for queue jobs, fences every write with the job's lease
	// and records the next step; nil for `playbook run`.
	Progress *store.JobProgress
	JobID    string
	// Record, when set, is the context for writing what a step did once
	// it happened (see recordContext): the worker's, which outlives its
	// shutdown for a bounded time.
	Record context.Context
}

// Summary tells what a run did.
type Summary struct {
	Incident *store.Incident
	Ran      int
	Skipped  int
	// Failed counts steps that ran but did not do their work (a notify
	// whose destinations all dead-lettered).
	Failed int
	// StoppedAt names the step that ended the playbook early, if any;
	// Reason says why, alone when the run ended before any step (the
	// incident was already suppressed or merged).
	StoppedAt string
	Reason    string
}

// Message renders the summary for the timeline.
func (s Summary) Message(pb string) string {
	if s.StoppedAt != "" {
		return fmt.Sprintf("playbook %s stopped at %s: %s", pb, s.StoppedAt, s.Reason)
	}
	if s.Reason != "" {
		return fmt.Sprintf("playbook %s stopped: %s", pb, s.Reason)
	}
	if s.Failed > 0 {
		return fmt.Sprintf("playbook %s finished: %d steps applied, %d skipped, %d failed", pb, s.Ran, s.Skipped, s.Failed)
	}
	return fmt.Sprintf("playbook %s finished: %d steps applied, %d skipped", pb, s.Ran, s.Skipped)
}

// StepError is a step that failed; the run stops there.
type StepError struct {
	Index int
	Step  string
	Err   error
}

func (e *StepError) Error() string { return fmt.Sprintf("step %d (%s): %v", e.Index+1, e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Actor is how playbook entries are signed on the timeline.
func Actor(playbook string) string { return "playbook:" + playbook }

// Execute runs the playbook's steps from r.Start. A store.ErrLeaseLost
// means another worker owns the job now: stop without writing more.
func (e *Engine) Execute(ctx context.Context, r Run) (Summary, error) {
	var sum Summary
	ev, raw, err := e.loadEvent(ctx, r)
	if err != nil {
		return sum, &StepError{Index: r.Start, Step: "load event", Err: err}
	}
	if sum, err = e.earlierAttempts(ctx, r); err != nil {
		return sum, &StepError{Index: r.Start, Step: "load timeline", Err: err}
	}
	evVars, rawVars := EventVars(ev), RawVars(raw)
	actor := Actor(r.Playbook.Name)
	retried := -1 // the step last run again after losing a group to another incident
	for i := r.Start; i < len(r.Playbook.Steps); i++ {
		st := r.Playbook.Steps[i]
		inc, err := e.Store.GetIncident(ctx, r.Incident)
		if err != nil {
			return sum, &StepError{Index: i, Step: st.Name, Err: err}
		}
		sum.Incident = inc
		tr, err := e.Store.GetIncidentTriage(ctx, inc.ID)
		if err != nil {
			return sum, &StepError{Index: i, Step: st.Name, Err: err}
		}
		if tr.MergedInto != "" || tr.Suppressed {
			// Folded or suppressed by an earlier run: nothing to triage,
			// and no step that stopped it.
			sum.Reason = "incident already " + closedWhy(tr)
			return sum, nil
		}
		vars := Vars{Event: evVars, Incident: IncidentVars(inc, tr), Raw: rawVars}
		out, err := e.step(ctx, st, vars, inc, ev, raw, r)
		if err != nil {
			return sum, &StepError{Index: i, Step: st.Name, Err: err}
		}
		var prog *store.JobProgress
		if r.Progress != nil {
			p := *r.Progress
			p.NextStep = i + 1
			if out.stop {
				// A step that stops the run stops it for good: a job
				// resumed after a crash between this write and its
				// completion must not run on past the gate.
				p.NextStep = len(r.Playbook.Steps)
			}
			p.NextStepName = ""
			if p.NextStep < len(r.Playbook.Steps) && r.Playbook.Steps[p.NextStep].Named {
				p.NextStepName = r.Playbook.Steps[p.NextStep].Name
			}
			prog = &p
		}
		entries := []store.TimelineEntry{{
			Kind: store.TimelineStep, Actor: actor, Step: st.Name, Outcome: out.outcome, Message: out.msg, JobID: r.JobID,
		}}
		entries = append(entries, out.extra...)
		// Written even as shutdown cancels the run: the step happened (a
		// notification went out), and a job resumed before its record
		// would do it again. A lost lease still fences the write.
		wctx, cancel := r.recordContext(ctx)
		updated, err := e.Store.ApplyIncidentChange(wctx, inc.ID, out.change, prog, e.Now(), entries...)
		cancel()
		if err != nil {
			if errors.Is(err, store.ErrLeaseLost) {
				return sum, err
			}
			if errors.Is(err, store.ErrGroupTaken) && retried != i {
				// Another incident with the same key opened the group
				// between this step's look and its write: run it again
				// to join that group. Once: the second look sees it.
				retried = i
				i--
				continue
			}
			return sum, &StepError{Index: i, Step: st.Name, Err: err}
		}
		sum.Incident = updated
		switch out.outcome {
		case store.OutcomeSkipped:
			sum.Skipped++
		case store.OutcomeFailed:
			sum.Failed++
		default:
			sum.Ran++
		}
		if out.stop {
			sum.StoppedAt, sum.Reason = st.Name, out.msg
			return sum, nil
		}
	}
	return sum, nil
}

// earlierAttempts counts the steps before r.Start that earlier attempts
// of r's job ran, from their timeline entries: a resumed job's summary
// covered only its last attempt ("1 steps applied" after 7), and a notify
// that dead-lettered before the interruption went uncounted, so the
// worker did not warn of it.
func (e *Engine) earlierAttempts(ctx context.Context, r Run) (Summary, error) {
	var sum Summary
	if r.JobID == "" || r.Start == 0 {
		return sum, nil
	}
	inc, err := e.Store.GetIncident(ctx, r.Incident)
	if err != nil {
		return sum, err
	}
	tl, err := e.Store.ListTimeline(ctx, inc.ID)
	if err != nil {
		return sum, err
	}
	// The last entry of a step is its outcome: a failed attempt's entry
	// (retrying at …) comes before the run that went past the step.
	last := map[string]store.TimelineEntry{}
	for _, en := range tl {
		if en.Kind == store.TimelineStep && en.JobID == r.JobID {
			last[en.Step] = en
		}
	}
	for _, st := range r.Playbook.Steps[:min(r.Start, len(r.Playbook.Steps))] {
		en, ok := last[st.Name]
		if !ok {
			continue // added by an edit while the job waited: never ran
		}
		switch en.Outcome {
		case store.OutcomeSkipped:
			sum.Skipped++
		case store.OutcomeFailed:
			sum.Failed++
		case store.OutcomeStopped:
			// The job resumes at its end (see Execute), to record this.
			sum.Ran++
			sum.StoppedAt, sum.Reason = st.Name, en.Message
		default:
			sum.Ran++
		}
	}
	return sum, nil
}

// recordContext is the context for writing what a step already did: not
// cancelled with ctx, but bounded, so a database that stopped answering
// does not hold a shutdown.
func (r Run) recordContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.Record != nil {
		return context.WithTimeout(r.Record, DefaultRecordTimeout)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), DefaultRecordTimeout)
}

func closedWhy(tr *store.IncidentTriage) string {
	if tr.MergedInto != "" {
		return "grouped into " + tr.MergedInto
	}
	return "suppressed (" + tr.SuppressReason + ")"
}

func (e *Engine) loadEvent(ctx context.Context, r Run) (payload.Event, []byte, error) {
	var sev *store.Event
	var err error
	if r.EventID != "" {
		sev, err = e.Store.GetEvent(ctx, r.EventID)
	}
	if r.EventID == "" || errors.Is(err, store.ErrNotFound) {
		inc, ierr := e.Store.GetIncident(ctx, r.Incident)
		if ierr != nil {
			return payload.Event{}, nil, ierr
		}
		sev, err = e.Store.LatestIncidentEvent(ctx, inc.ID)
	}
	if errors.Is(err, store.ErrNotFound) {
		// An incident with no event left (all merged away) still runs,
		// with an empty event.
		return payload.Event{}, nil, nil
	}
	if err != nil {
		return payload.Event{}, nil, err
	}
	var ev payload.Event
	if len(sev.Normalized) > 0 {
		if err := json.Unmarshal(sev.Normalized, &ev); err != nil {
			return payload.Event{}, nil, fmt.Errorf("event %s: %w", sev.ID, err)
		}
	}
	return ev, sev.Payload, nil
}

// outcome is what one step did, ready to commit.
type outcome struct {
	change  store.IncidentChange
	outcome string
	msg     string
	stop    bool
	// extra entries, e.g. on the incident a group step merged into.
	extra []store.TimelineEntry
}

func (e *Engine) step(ctx context.Context, st Step, vars Vars, inc *store.Incident, ev payload.Event, raw []byte, r Run) (outcome, error) {
	pb := r.Playbook.Name
	if st.If != nil {
		ok, err := st.If.Bool(ctx, vars)
		if err != nil {
			return outcome{}, err
		}
		if !ok {
			return outcome{outcome: store.OutcomeSkipped, msg: "condition false: " + st.IfSource}, nil
		}
	}
	switch st.Type {
	case StepMatch:
		ok, err := st.Match.Bool(ctx, vars)
		if err != nil {
			return outcome{}, err
		}
		if !ok {
			return outcome{outcome: store.OutcomeStopped, msg: "no match: " + oneLine(st.Match.Source), stop: true}, nil
		}
		return outcome{outcome: store.OutcomeOK, msg: "matched: " + oneLine(st.Match.Source)}, nil
	case StepSetSeverity:
		sev := st.Severity
		msg := "severity " + inc.Severity + " → " + sev
		if inc.Severity == sev {
			msg = "severity already " + sev
		}
		return outcome{change: store.IncidentChange{Severity: &sev}, outcome: store.OutcomeOK, msg: msg}, nil
	case StepAddTags:
		return outcome{change: store.IncidentChange{AddTags: st.Tags}, outcome: store.OutcomeOK, msg: "tags + " + strings.Join(st.Tags, ", ")}, nil
	case StepAssign:
		owner := st.Owner
		return outcome{change: store.IncidentChange{Owner: &owner}, outcome: store.OutcomeOK, msg: "assigned to " + owner}, nil
	case StepSuppress:
		reason := st.Reason
		return outcome{change: store.IncidentChange{Suppress: &reason}, outcome: store.OutcomeStopped, msg: "suppressed: " + reason, stop: true}, nil
	case StepExtract:
		ind := Extract(ev, raw, st.ScanRaw)
		return outcome{change: store.IncidentChange{AddIndicators: ind}, outcome: store.OutcomeOK, msg: describeIndicators(ind)}, nil
	case StepGroup:
		return e.group(ctx, st, vars, inc, pb)
	case StepNotify:
		return e.notify(ctx, st, inc, r)
	}
	return outcome{}, fmt.Errorf("unknown step type %q", st.Type)
}

func describeIndicators(in store.Indicators) string {
	if in.Empty() {
		return "no indicators found"
	}
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(len(in.URLs), "URLs")
	add(len(in.Domains), "domains")
	add(len(in.IPs), "IPs")
	add(len(in.Hashes), "hashes")
	return "indicators: " + strings.Join(parts, ", ")
}

func (e *Engine) group(ctx context.Context, st Step, vars Vars, inc *store.Incident, pb string) (outcome, error) {
	key, err := st.GroupKey.String(ctx, vars)
	if err != nil {
		return outcome{}, err
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return outcome{outcome: store.OutcomeOK, msg: "empty group key: not grouped"}, nil
	}
	now := e.Now()
	target, err := e.Store.FindGroupIncident(ctx, key, now.Add(-st.GroupWindow), inc.ID)
	if errors.Is(err, store.ErrNotFound) {
		// The store claims the key only if no other incident did since:
		// ErrGroupTaken then runs this step again, to join that group.
		return outcome{change: store.IncidentChange{GroupKey: &key, GroupSince: now.Add(-st.GroupWindow)}, outcome: store.OutcomeOK,
			msg: fmt.Sprintf("opened group %q for %s", key, st.GroupWindow)}, nil
	}
	if err != nil {
		return outcome{}, err
	}
	return outcome{
		change:  store.IncidentChange{MergeInto: target.ID},
		outcome: store.OutcomeStopped,
		msg:     fmt.Sprintf("grouped into %s (key %q); remaining steps skipped", target.Number, key),
		stop:    true,
		extra: []store.TimelineEntry{{
			IncidentID: target.ID, Kind: store.TimelineStep, Actor: Actor(pb), Step: st.Name, Outcome: store.OutcomeOK,
			Message: fmt.Sprintf("absorbed %s: %s", inc.Number, inc.Title),
		}},
	}, nil
}

func (e *Engine) notify(ctx context.Context, st Step, inc *store.Incident, r Run) (outcome, error) {
	pb := r.Playbook.Name
	if e.Notifier == nil {
		return outcome{}, errors.New("notifications are not available in this process")
	}
	// Resolve every name before sending anything, so a missing
	// destination fails the step (and its retries) without sending twice.
	var names []string
	for _, d := range st.Destinations {
		if d != AllDestinations {
			if _, err := e.Store.GetDestination(ctx, d); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return outcome{}, fmt.Errorf("unknown destination %q: add it with 'tw-cli destination add'", d)
				}
				return outcome{}, err
			}
			names = store.Union(names, []string{d})
			continue
		}
		all, err := e.Store.ListDestinations(ctx)
		if err != nil {
			return outcome{}, err
		}
		for _, a := range all {
			names = store.Union(names, []string{a.Name})
		}
	}
	if len(names) == 0 {
		return outcome{outcome: store.OutcomeOK, msg: "no destinations configured"}, nil
	}
	tr, err := e.Store.GetIncidentTriage(ctx, inc.ID)
	if err != nil {
		return outcome{}, err
	}
	msg := notify.Message{
		IncidentID: inc.ID, Number: inc.Number, Title: inc.Title, Severity: inc.Severity, Status: inc.Status,
		Source: inc.Source, Category: inc.Category, Owner: tr.Owner, Tags: tr.Tags, Indicators: tr.Indicators,
		EventCount: inc.EventCount, CreatedAt: inc.CreatedAt, Playbook: pb,
	}
	// With several destinations, each outcome is recorded as it happens,
	// and a resumed job skips the destinations its interrupted attempt
	// already delivered to or dead-lettered: a shutdown mid-step resent
	// the message to every one.
	record := r.JobID != "" && len(names) > 1
	before := map[string]store.TimelineEntry{}
	if record {
		if before, err = e.notifiedBefore(ctx, inc.ID, r.JobID, st.Name); err != nil {
			return outcome{}, err
		}
	}
	var parts []string
	failed := false
	for _, name := range names {
		if earlier, ok := before[name]; ok {
			parts = append(parts, earlier.Message+" (before an interruption)")
			failed = failed || earlier.Outcome == store.OutcomeFailed
			continue
		}
		d, err := e.Notifier.Notify(ctx, name, msg)
		if err != nil {
			return outcome{}, err
		}
		var words string
		switch {
		case d.OK():
			words = fmt.Sprintf("%s delivered (HTTP %d, %s)", name, d.Status, attempts(d.Attempts))
		case d.Attempts == 0:
			// Down within the notifier's cooldown: not tried.
			words = fmt.Sprintf("%s %v; dead letter %s", name, d.Err, d.DeadLetter)
		default:
			words = fmt.Sprintf("%s failed after %s: %v; dead letter %s", name, attempts(d.Attempts), d.Err, d.DeadLetter)
		}
		failed = failed || !d.OK()
		parts = append(parts, words)
		if record {
			entry := store.TimelineEntry{Kind: store.TimelineDelivery, Actor: Actor(pb), Step: st.Name, Outcome: store.OutcomeOK, Message: words, JobID: r.JobID}
			if !d.OK() {
				entry.Outcome = store.OutcomeFailed
			}
			// Written even as shutdown cancels the step: the send it
			// records happened, and must not happen again on resume.
			wctx, cancel := r.recordContext(ctx)
			_, err := e.Store.ApplyIncidentChange(wctx, inc.ID, store.IncidentChange{}, nil, e.Now(), entry)
			cancel()
			if err != nil {
				return outcome{}, err
			}
		}
	}
	res := outcome{outcome: store.OutcomeOK, msg: "notify: " + strings.Join(parts, "; ")}
	if failed {
		// Dead-lettered, not retried with the job: the notifier already
		// retried, and `destination retry` resends the kept message.
		res.outcome = store.OutcomeFailed
	}
	return res, nil
}

// notifiedBefore maps the destinations an earlier attempt of job's step
// delivered to or dead-lettered to the entry recorded then.
func (e *Engine) notifiedBefore(ctx context.Context, incident, job, step string) (map[string]store.TimelineEntry, error) {
	tl, err := e.Store.ListTimeline(ctx, incident)
	if err != nil {
		return nil, err
	}
	done := map[string]store.TimelineEntry{}
	for _, en := range tl {
		if en.Kind == store.TimelineDelivery && en.JobID == job && en.Step == step {
			if name, _, ok := strings.Cut(en.Message, " "); ok {
				done[name] = en
			}
		}
	}
	return done, nil
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}
