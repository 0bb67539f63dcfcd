package webhookconfig

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
)

// Action is what Apply does to one source.
type Action string

// Actions of a Plan.
const (
	ActionCreate    Action = "create"
	ActionUpdate    Action = "update"
	ActionDelete    Action = "delete"
	ActionUnchanged Action = "unchanged"
)

// Change is one line of a Plan.
type Change struct {
	Source string `json:"source"`
	Action Action `json:"action"`
	// Fields names what an update changes: secret, format, verify,
	// auto_triage, playbook, severity_mapping, description, allow_from, origin.
	Fields []string `json:"fields,omitempty"`
	// PreviousOrigin is the origin of a cli or api source that Force took
	// over.
	PreviousOrigin string `json:"previous_origin,omitempty"`
	// PreviousSecretExpiresAt is when a replaced secret stops verifying.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
}

// Plan is what Apply did, or with DryRun would do, sorted by source name.
type Plan struct {
	DryRun  bool     `json:"dry_run"`
	Changes []Change `json:"changes"`
}

// Count returns how many changes have action a.
func (p Plan) Count(a Action) int {
	n := 0
	for _, c := range p.Changes {
		if c.Action == a {
			n++
		}
	}
	return n
}

// Changed reports whether the plan changes the store.
func (p Plan) Changed() bool {
	return len(p.Changes) > p.Count(ActionUnchanged)
}

// Summary is a one-line count, e.g. "1 created, 1 updated, 0 removed, 2
// unchanged"; a dry run says what it would do.
func (p Plan) Summary() string {
	if p.DryRun {
		return fmt.Sprintf("%d to create, %d to update, %d to remove, %d unchanged",
			p.Count(ActionCreate), p.Count(ActionUpdate), p.Count(ActionDelete), p.Count(ActionUnchanged))
	}
	return fmt.Sprintf("%d created, %d updated, %d removed, %d unchanged",
		p.Count(ActionCreate), p.Count(ActionUpdate), p.Count(ActionDelete), p.Count(ActionUnchanged))
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// DryRun computes the plan and changes nothing.
	DryRun bool
	// Force lets the file take over sources of the same name that were
	// registered from the CLI or the admin API.
	Force bool
	// Grace is how long a secret replaced by the file keeps verifying, so
	// senders still signing with it are not refused while they switch.
	// Zero means sources.DefaultGrace, as for rotate-secret; a negative
	// value drops the old secret at once.
	Grace time.Duration
	Now   func() time.Time
	// Progress, when set, is told after each source is written.
	Progress func(done, total int)
}

// Conflict is a file source whose name a cli or api source already has.
type Conflict struct {
	Source string
	Origin string
	Line   int
}

// ConflictError refuses to take over sources the file does not own. It
// matches sources.ErrExists.
type ConflictError struct {
	Path      string
	Conflicts []Conflict
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	for i, c := range e.Conflicts {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s:%d: source %q is already registered with origin %s; the file will not take it over", e.Path, c.Line, c.Source, c.Origin)
	}
	fmt.Fprintf(&b, "\nRename it in the file, remove the existing source ('tw-cli webhook remove NAME'), or run 'tw-cli webhook apply -f %s --force' to let the file manage it", e.Path)
	return b.String()
}

// Unwrap makes errors.Is(err, sources.ErrExists) hold.
func (e *ConflictError) Unwrap() error { return sources.ErrExists }

// Apply makes the store's config sources match cfg: it creates the file's
// new sources, updates the changed ones, and deletes config sources the
// file no longer has. Sources with another origin are never changed or
// deleted; one with the name of a file source is a ConflictError (before
// anything is written) unless opts.Force.
//
// The store has no multi-source transaction, so a failing write leaves
// the changes before it in place; the returned plan lists exactly those,
// and applying the same file again finishes the job.
func Apply(ctx context.Context, st store.Store, cfg *Config, opts ApplyOptions) (Plan, error) {
	plan, err := applyOnce(ctx, st, cfg, opts)
	if !errors.Is(err, errCreateRaced) && !errors.Is(err, store.ErrChanged) {
		return plan, err
	}
	// Another process created or changed a source between this pass's
	// read and its write: receivers sharing one database that start (or
	// reload) together with the same --config. A second pass reads it
	// and reconciles, which for the same file changes nothing.
	again, err := applyOnce(ctx, st, cfg, opts)
	done := make(map[string]bool, len(plan.Changes))
	for _, c := range plan.Changes {
		done[c.Source] = true
	}
	for _, c := range again.Changes {
		if !done[c.Source] {
			plan.Changes = append(plan.Changes, c)
		}
	}
	sort.SliceStable(plan.Changes, func(i, j int) bool { return plan.Changes[i].Source < plan.Changes[j].Source })
	return plan, err
}

// errCreateRaced marks a create that found the source already there.
var errCreateRaced = errors.New("it was registered while the file was being applied; apply again")

func applyOnce(ctx context.Context, st store.Store, cfg *Config, opts ApplyOptions) (Plan, error) {
	now := time.Now().UTC()
	if opts.Now != nil {
		now = opts.Now().UTC()
	}
	grace := opts.Grace
	if grace == 0 {
		grace = sources.DefaultGrace
	}
	existing, err := st.ListSources(ctx)
	if err != nil {
		return Plan{DryRun: opts.DryRun}, err
	}
	byName := make(map[string]*store.Source, len(existing))
	for i := range existing {
		byName[existing[i].Name] = &existing[i]
	}

	type step struct {
		change Change
		src    *store.Source
		readAt time.Time // the version an update was planned from
	}
	var steps []step
	var conflicts []Conflict
	inFile := make(map[string]bool, len(cfg.Sources))
	for _, want := range cfg.Sources {
		inFile[want.Spec.Source] = true
		cur, ok := byName[want.Spec.Source]
		if !ok {
			steps = append(steps, step{change: Change{Source: want.Spec.Source, Action: ActionCreate}, src: newSource(want.Spec, now)})
			continue
		}
		if cur.Origin != Origin && !opts.Force {
			conflicts = append(conflicts, Conflict{Source: cur.Name, Origin: cur.Origin, Line: want.Line})
			continue
		}
		next, ch := reconcile(cur, want.Spec, now, grace)
		steps = append(steps, step{ch, next, cur.UpdatedAt})
	}
	if len(conflicts) > 0 {
		return Plan{DryRun: opts.DryRun}, &ConflictError{Path: cfg.Path, Conflicts: conflicts}
	}
	for _, cur := range existing {
		if cur.Origin == Origin && !inFile[cur.Name] {
			steps = append(steps, step{change: Change{Source: cur.Name, Action: ActionDelete}})
		}
	}
	// Written in this order: creates and updates, then removals, each by
	// name. A write that fails part way then leaves the sources the file
	// renamed in place beside their new names, rather than the senders of
	// a renamed source with no source at all.
	sort.SliceStable(steps, func(i, j int) bool {
		di, dj := steps[i].change.Action == ActionDelete, steps[j].change.Action == ActionDelete
		if di != dj {
			return dj
		}
		return steps[i].change.Source < steps[j].change.Source
	})

	plan := Plan{DryRun: opts.DryRun, Changes: make([]Change, 0, len(steps))}
	for i, s := range steps {
		if !opts.DryRun {
			if err := write(ctx, st, s.change, s.src, s.readAt); err != nil {
				return plan, fmt.Errorf("%s source %s: %w", s.change.Action, s.change.Source, err)
			}
			if opts.Progress != nil {
				opts.Progress(i+1, len(steps))
			}
		}
		plan.Changes = append(plan.Changes, s.change)
	}
	// Shown by name, as the file lists them.
	sort.SliceStable(plan.Changes, func(i, j int) bool { return plan.Changes[i].Source < plan.Changes[j].Source })
	return plan, nil
}

func write(ctx context.Context, st store.Store, c Change, src *store.Source, readAt time.Time) error {
	switch c.Action {
	case ActionCreate:
		err := st.CreateSource(ctx, src)
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("%w: %w", sources.ErrExists, errCreateRaced)
		}
		return err
	case ActionUpdate:
		// Changed by hand since the plan was made: applying the plan would
		// undo that change unseen.
		if err := st.UpdateSource(ctx, src, readAt); errors.Is(err, store.ErrChanged) {
			return fmt.Errorf("changed by another process while applying; apply again to see the difference: %w", err)
		} else if err != nil {
			return err
		}
		return nil
	case ActionDelete:
		// Gone already (removed by hand meanwhile) is what we wanted.
		if err := st.DeleteSource(ctx, c.Source); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

func newSource(spec sources.Spec, now time.Time) *store.Source {
	return &store.Source{
		Name: spec.Source, Secret: spec.Secret, Format: spec.Format, Verify: spec.Verify, AutoTriage: spec.AutoTriage,
		Playbook: spec.Playbook, SeverityMapping: spec.SeverityMapping, Description: spec.Description,
		AllowFrom: spec.AllowFrom, Origin: Origin, CreatedAt: now, UpdatedAt: now,
	}
}

// reconcile returns cur changed to match spec, and the change it makes.
func reconcile(cur *store.Source, spec sources.Spec, now time.Time, grace time.Duration) (*store.Source, Change) {
	next := *cur
	ch := Change{Source: cur.Name, Action: ActionUnchanged}
	set := func(field string, differs bool, apply func()) {
		if differs {
			ch.Fields = append(ch.Fields, field)
			apply()
		}
	}
	set("secret", cur.Secret != spec.Secret, func() {
		g := grace
		if cur.Verify != spec.Verify {
			g = -1 // see verify below
		}
		sources.ReplaceSecret(&next, spec.Secret, now, g)
		if next.PreviousSecret != "" {
			t := next.PreviousExpiresAt
			ch.PreviousSecretExpiresAt = &t
		}
	})
	set("format", cur.Format != spec.Format, func() { next.Format = spec.Format })
	set("verify", cur.Verify != spec.Verify, func() {
		next.Verify = spec.Verify
		// A rotated-out secret of another scheme cannot verify under the
		// new one (a whsec_ key is no basic-auth pair), and the verifier
		// refuses secrets that do not fit its mode.
		next.PreviousSecret, next.PreviousExpiresAt = "", time.Time{}
	})
	set("auto_triage", cur.AutoTriage != spec.AutoTriage, func() { next.AutoTriage = spec.AutoTriage })
	set("playbook", cur.Playbook != spec.Playbook, func() { next.Playbook = spec.Playbook })
	set("severity_mapping", !maps.Equal(cur.SeverityMapping, spec.SeverityMapping), func() { next.SeverityMapping = spec.SeverityMapping })
	set("description", cur.Description != spec.Description, func() { next.Description = spec.Description })
	set("allow_from", !slices.Equal(cur.AllowFrom, spec.AllowFrom), func() { next.AllowFrom = spec.AllowFrom })
	set("origin", cur.Origin != Origin, func() {
		ch.PreviousOrigin = cur.Origin
		next.Origin = Origin
	})
	if len(ch.Fields) > 0 {
		ch.Action = ActionUpdate
		next.UpdatedAt = now
	}
	return &next, ch
}
