package webhookconfig

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
	"github.com/tw-cli/tw-cli/internal/verify"
)

var t0 = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func mustParse(t *testing.T, in string, kv ...string) *Config {
	t.Helper()
	cfg, err := Parse("webhook_config.yaml", []byte(in), env(kv...))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func at(ts time.Time) func() time.Time { return func() time.Time { return ts } }

func get(t *testing.T, st store.Store, name string) *store.Source {
	t.Helper()
	src, err := st.GetSource(context.Background(), name)
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	return src
}

// actions renders a plan as "name:action[fields]" for compact comparison.
func actions(p Plan) []string {
	var out []string
	for _, c := range p.Changes {
		s := c.Source + ":" + string(c.Action)
		if len(c.Fields) > 0 {
			s += "[" + strings.Join(c.Fields, ",") + "]"
		}
		out = append(out, s)
	}
	return out
}

func addCLI(t *testing.T, st store.Store, name, origin string) {
	t.Helper()
	l := &sources.Local{Store: st, Origin: origin, Now: at(t0)}
	if _, _, err := l.Add(context.Background(), sources.Spec{Source: name, Secret: origin + "-secret"}); err != nil {
		t.Fatal(err)
	}
}

func TestApplyCreatesConfigSources(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	cfg := mustParse(t, seedConfig, "EMAIL_GATEWAY_SECRET", "eg-1", "EDR_SECRET", "edr-1")
	plan, err := Apply(ctx, st, cfg, ApplyOptions{Now: at(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(plan); !reflect.DeepEqual(got, []string{"edr:create", "email-gateway:create"}) {
		t.Fatalf("plan %v", got)
	}
	eg := get(t, st, "email-gateway")
	want := store.Source{
		Name: "email-gateway", Secret: "eg-1", Format: "auto", Verify: "hmac", AutoTriage: true, Playbook: "phishing_triage",
		Origin: "config", CreatedAt: t0, UpdatedAt: t0,
		SeverityMapping: map[string]string{"critical": "critical", "high": "high", "medium": "medium", "low": "low"},
	}
	if !reflect.DeepEqual(*eg, want) {
		t.Fatalf("stored:\n got %+v\nwant %+v", *eg, want)
	}
	if plan.Summary() != "2 created, 0 updated, 0 removed, 0 unchanged" || !plan.Changed() {
		t.Fatalf("summary %q", plan.Summary())
	}

	// The same file again changes nothing, not even updated_at.
	plan, err = Apply(ctx, st, cfg, ApplyOptions{Now: at(t0.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(plan); !reflect.DeepEqual(got, []string{"edr:unchanged", "email-gateway:unchanged"}) || plan.Changed() {
		t.Fatalf("re-apply plan %v", got)
	}
	if !get(t, st, "edr").UpdatedAt.Equal(t0) {
		t.Fatal("an unchanged source was rewritten")
	}
}

func TestApplyUpdatesAndKeepsOldSecretForTheGrace(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	if _, err := Apply(ctx, st, mustParse(t, seedConfig, "EMAIL_GATEWAY_SECRET", "eg-1", "EDR_SECRET", "edr-1"), ApplyOptions{Now: at(t0)}); err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(seedConfig, "playbook: malware_triage", "playbook: malware_triage_v2\n    format: crowdstrike", 1)
	t1 := t0.Add(time.Hour)
	plan, err := Apply(ctx, st, mustParse(t, edited, "EMAIL_GATEWAY_SECRET", "eg-2", "EDR_SECRET", "edr-1"), ApplyOptions{Now: at(t1)})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(plan); !reflect.DeepEqual(got, []string{"edr:update[format,playbook]", "email-gateway:update[secret]"}) {
		t.Fatalf("plan %v", got)
	}
	exp := plan.Changes[1].PreviousSecretExpiresAt
	if exp == nil || !exp.Equal(t1.Add(sources.DefaultGrace)) {
		t.Fatalf("previous secret expiry %v, want %v", exp, t1.Add(sources.DefaultGrace))
	}
	eg := get(t, st, "email-gateway")
	if eg.Secret != "eg-2" || !eg.UpdatedAt.Equal(t1) || !eg.CreatedAt.Equal(t0) {
		t.Fatalf("email-gateway after update: %+v", eg)
	}
	// What the receiver does with it: both secrets verify during the
	// grace, only the new one after.
	for _, tc := range []struct {
		when time.Time
		want []string
	}{
		{t1.Add(sources.DefaultGrace - time.Second), []string{"eg-2", "eg-1"}},
		{t1.Add(sources.DefaultGrace), []string{"eg-2"}},
	} {
		var got []string
		for _, s := range eg.Secrets(tc.when) {
			got = append(got, string(s))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("secrets at %v: %v, want %v", tc.when, got, tc.want)
		}
	}
	edr := get(t, st, "edr")
	if edr.Format != "crowdstrike" || edr.Playbook != "malware_triage_v2" || edr.PreviousSecret != "" {
		t.Fatalf("edr after update: %+v", edr)
	}
}

func TestApplyGraceOptions(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	one := "sources:\n  s:\n    secret: ${S}\n"
	if _, err := Apply(ctx, st, mustParse(t, one, "S", "a"), ApplyOptions{Now: at(t0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(ctx, st, mustParse(t, one, "S", "b"), ApplyOptions{Now: at(t0), Grace: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if s := get(t, st, "s"); s.PreviousSecret != "a" || !s.PreviousExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("grace 1h: %+v", s)
	}
	plan, err := Apply(ctx, st, mustParse(t, one, "S", "c"), ApplyOptions{Now: at(t0), Grace: -1})
	if err != nil {
		t.Fatal(err)
	}
	if s := get(t, st, "s"); s.Secret != "c" || s.PreviousSecret != "" || plan.Changes[0].PreviousSecretExpiresAt != nil {
		t.Fatalf("negative grace must drop the old secret: %+v", s)
	}
}

func TestApplyVerifyChangeDropsOldSecret(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	if _, err := Apply(ctx, st, mustParse(t, "sources:\n  s:\n    secret: hex-secret\n"), ApplyOptions{Now: at(t0)}); err != nil {
		t.Fatal(err)
	}
	plan, err := Apply(ctx, st, mustParse(t, "sources:\n  s:\n    secret: user:pass\n    verify: basic\n"), ApplyOptions{Now: at(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(plan); !reflect.DeepEqual(got, []string{"s:update[secret,verify]"}) || plan.Changes[0].PreviousSecretExpiresAt != nil {
		t.Fatalf("plan %v, previous secret expires %v", got, plan.Changes[0].PreviousSecretExpiresAt)
	}
	s := get(t, st, "s")
	if s.PreviousSecret != "" {
		t.Fatalf("an hmac secret was kept for basic auth: %+v", s)
	}
	// The receiver must still be able to build the verifier.
	if _, err := verify.New(s.Verify, s.Secrets(t0), verify.Options{}); err != nil {
		t.Fatalf("verifier for the updated source: %v", err)
	}
}

func TestApplyDeletesOnlyConfigSources(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	addCLI(t, st, "from-cli", "cli")
	addCLI(t, st, "from-api", "api")
	two := "sources:\n  keep:\n    secret: k\n  drop:\n    secret: d\n"
	if _, err := Apply(ctx, st, mustParse(t, two), ApplyOptions{Now: at(t0)}); err != nil {
		t.Fatal(err)
	}
	plan, err := Apply(ctx, st, mustParse(t, "sources:\n  keep:\n    secret: k\n"), ApplyOptions{Now: at(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(plan); !reflect.DeepEqual(got, []string{"drop:delete", "keep:unchanged"}) {
		t.Fatalf("plan %v", got)
	}
	if _, err := st.GetSource(ctx, "drop"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("drop still there: %v", err)
	}
	// An explicitly empty file removes every config source, and still
	// leaves cli and api sources alone.
	plan, err = Apply(ctx, st, mustParse(t, "sources: {}\n"), ApplyOptions{Now: at(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(plan); !reflect.DeepEqual(got, []string{"keep:delete"}) {
		t.Fatalf("plan %v", got)
	}
	left, _ := st.ListSources(ctx)
	if len(left) != 2 || left[0].Name != "from-api" || left[1].Name != "from-cli" || left[1].Secret != "cli-secret" {
		t.Fatalf("left: %+v", left)
	}
}

func TestApplyConflictWithCLISource(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	addCLI(t, st, "edr", "cli")
	addCLI(t, st, "email-gateway", "api")
	cfg := mustParse(t, seedConfig+"  new-one:\n    secret: n\n", "EMAIL_GATEWAY_SECRET", "eg", "EDR_SECRET", "edr-file")
	for _, dry := range []bool{true, false} {
		_, err := Apply(ctx, st, cfg, ApplyOptions{Now: at(t0), DryRun: dry})
		var cerr *ConflictError
		if !errors.As(err, &cerr) || !errors.Is(err, sources.ErrExists) {
			t.Fatalf("dry-run %v: got %v, want a ConflictError", dry, err)
		}
		want := []Conflict{{Source: "email-gateway", Origin: "api", Line: 3}, {Source: "edr", Origin: "cli", Line: 12}}
		if !reflect.DeepEqual(cerr.Conflicts, want) {
			t.Fatalf("conflicts %+v", cerr.Conflicts)
		}
		msg := err.Error()
		for _, w := range []string{`webhook_config.yaml:12: source "edr" is already registered with origin cli`, "--force"} {
			if !strings.Contains(msg, w) {
				t.Errorf("message lacks %q:\n%s", w, msg)
			}
		}
	}
	// Nothing was written, not even the source that did not conflict.
	if _, err := st.GetSource(ctx, "new-one"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a conflicting apply created new-one: %v", err)
	}
	if s := get(t, st, "edr"); s.Origin != "cli" || s.Secret != "cli-secret" {
		t.Fatalf("edr was touched: %+v", s)
	}

	plan, err := Apply(ctx, st, cfg, ApplyOptions{Now: at(t0), Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(plan); !reflect.DeepEqual(got, []string{
		"edr:update[secret,auto_triage,playbook,origin]",
		"email-gateway:update[secret,auto_triage,playbook,severity_mapping,origin]",
		"new-one:create"}) {
		t.Fatalf("forced plan %v", got)
	}
	if plan.Changes[0].PreviousOrigin != "cli" || plan.Changes[1].PreviousOrigin != "api" {
		t.Fatalf("previous origins: %+v", plan.Changes)
	}
	edr := get(t, st, "edr")
	if edr.Origin != "config" || edr.Secret != "edr-file" || edr.PreviousSecret != "cli-secret" {
		t.Fatalf("taken over edr: %+v", edr)
	}
}

func TestApplyDryRunWritesNothing(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	if _, err := Apply(ctx, st, mustParse(t, "sources:\n  old:\n    secret: o\n  same:\n    secret: s\n  changed:\n    secret: c1\n"), ApplyOptions{Now: at(t0)}); err != nil {
		t.Fatal(err)
	}
	before, _ := st.ListSources(ctx)
	next := mustParse(t, "sources:\n  same:\n    secret: s\n  changed:\n    secret: c2\n  fresh:\n    secret: f\n")
	dry, err := Apply(ctx, st, next, ApplyOptions{Now: at(t0.Add(time.Hour)), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := st.ListSources(ctx)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("dry run changed the store:\n%+v\n%+v", before, after)
	}
	if !dry.DryRun || dry.Summary() != "1 to create, 1 to update, 1 to remove, 1 unchanged" {
		t.Fatalf("dry plan %+v: %s", dry, dry.Summary())
	}
	real, err := Apply(ctx, st, next, ApplyOptions{Now: at(t0.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	dry.DryRun = false
	if !reflect.DeepEqual(dry, real) {
		t.Fatalf("the dry run predicted\n%+v\nbut apply did\n%+v", dry, real)
	}
}

// failingStore fails the nth source write, to check what a partial apply reports.
type failingStore struct {
	store.Store
	writes, failAt int
}

func (f *failingStore) fail() error {
	f.writes++
	if f.writes == f.failAt {
		return errors.New("disk full")
	}
	return nil
}

func (f *failingStore) CreateSource(ctx context.Context, s *store.Source) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Store.CreateSource(ctx, s)
}

func TestApplyPartialFailureReportsWhatWasDone(t *testing.T) {
	st := &failingStore{Store: openStore(t), failAt: 2}
	cfg := mustParse(t, "sources:\n  a:\n    secret: x\n  b:\n    secret: y\n  c:\n    secret: z\n")
	plan, err := Apply(context.Background(), st, cfg, ApplyOptions{Now: at(t0)})
	if err == nil || err.Error() != "create source b: disk full" {
		t.Fatalf("err %v", err)
	}
	if got := actions(plan); !reflect.DeepEqual(got, []string{"a:create"}) {
		t.Fatalf("plan after failure %v", got)
	}
	// Applying again converges.
	st.failAt = 0
	plan, err = Apply(context.Background(), st, cfg, ApplyOptions{Now: at(t0)})
	if err != nil || !reflect.DeepEqual(actions(plan), []string{"a:unchanged", "b:create", "c:create"}) {
		t.Fatalf("second apply: %v %v", actions(plan), err)
	}
}

// A rename whose create fails leaves the old source in place: removals
// come last, so the senders of a renamed source keep one.
func TestApplyRemovesLast(t *testing.T) {
	base := openStore(t)
	if _, err := Apply(context.Background(), base, mustParse(t, "sources:\n  edr:\n    secret: x\n"), ApplyOptions{Now: at(t0)}); err != nil {
		t.Fatal(err)
	}
	st := &failingStore{Store: base, failAt: 1}
	plan, err := Apply(context.Background(), st, mustParse(t, "sources:\n  edr-v2:\n    secret: x\n"), ApplyOptions{Now: at(t0)})
	if err == nil || err.Error() != "create source edr-v2: disk full" || len(plan.Changes) != 0 {
		t.Fatalf("plan %v, err %v", actions(plan), err)
	}
	if _, err := base.GetSource(context.Background(), "edr"); err != nil {
		t.Fatalf("the source being renamed was removed before its new name existed: %v", err)
	}
	// A whole apply still lists its changes by name.
	st.failAt = 0
	plan, err = Apply(context.Background(), st, mustParse(t, "sources:\n  a:\n    secret: x\n"), ApplyOptions{Now: at(t0)})
	if err != nil || !reflect.DeepEqual(actions(plan), []string{"a:create", "edr:delete"}) {
		t.Fatalf("plan %v, err %v", actions(plan), err)
	}
}

// racingStore is another receiver applying the same file at the same
// moment: just before this process creates a source, the other one does.
type racingStore struct {
	store.Store
	cfg          *Config
	raced        bool
	updateRaced  bool
	updateRacing bool // also race the first update
}

// UpdateSource lets another receiver apply the same file first, as two
// receivers reloading together do.
func (r *racingStore) UpdateSource(ctx context.Context, s *store.Source, readAt time.Time) error {
	if r.updateRacing && !r.updateRaced {
		r.updateRaced = true
		if _, err := Apply(ctx, r.Store, r.cfg, ApplyOptions{Now: at(t0.Add(time.Minute))}); err != nil {
			return err
		}
	}
	return r.Store.UpdateSource(ctx, s, readAt)
}

func (r *racingStore) CreateSource(ctx context.Context, s *store.Source) error {
	if !r.raced {
		r.raced = true
		if _, err := Apply(ctx, r.Store, r.cfg, ApplyOptions{Now: at(t0)}); err != nil {
			return err
		}
	}
	return r.Store.CreateSource(ctx, s)
}

func TestApplyConcurrentWithTheSameFile(t *testing.T) {
	cfg := mustParse(t, "sources:\n  a:\n    secret: x\n  b:\n    secret: y\n")
	st := &racingStore{Store: openStore(t), cfg: cfg}
	plan, err := Apply(context.Background(), st, cfg, ApplyOptions{Now: at(t0)})
	if err != nil {
		t.Fatalf("apply racing another receiver's = %v, want it to reconcile", err)
	}
	if got := actions(plan); !reflect.DeepEqual(got, []string{"a:unchanged", "b:unchanged"}) {
		t.Fatalf("plan %v", got)
	}
	if src := get(t, st, "a"); src.Secret != "x" || src.Origin != Origin {
		t.Fatalf("a = %+v", src)
	}

	// The same for an edit of the file that both receivers apply.
	edited := mustParse(t, "sources:\n  a:\n    secret: x2\n    description: edited\n  b:\n    secret: y\n")
	st.cfg, st.updateRacing = edited, true
	plan, err = Apply(context.Background(), st, edited, ApplyOptions{Now: at(t0.Add(time.Hour))})
	if err != nil || !st.updateRaced {
		t.Fatalf("an edit racing another receiver's = %v (raced %v), want it to reconcile", err, st.updateRaced)
	}
	if src := get(t, st, "a"); src.Secret != "x2" || src.Description != "edited" {
		t.Fatalf("a after the edit = %+v", src)
	}
}

// allow_from takes a list or one comma-separated string, as --allow-from
// does, and a change of it is an update like any other field's.
func TestApplyAllowFrom(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	file := func(allow string) string {
		return "sources:\n  ts:\n    secret: tok-0123456789\n    verify: url-token\n    format: threatstack\n    allow_from: " + allow + "\n"
	}
	if _, err := Apply(ctx, st, mustParse(t, file("[threatstack, 198.51.100.7]")), ApplyOptions{Now: at(t0)}); err != nil {
		t.Fatal(err)
	}
	if got, want := get(t, st, "ts").AllowFrom, append(slices.Clone(sources.ThreatStackSenders), "198.51.100.7/32"); !slices.Equal(got, want) {
		t.Fatalf("allow_from %q, want %q", got, want)
	}
	plan, err := Apply(ctx, st, mustParse(t, file(`"10.0.0.0/8, 192.0.2.1"`)), ApplyOptions{Now: at(t0.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(plan); !reflect.DeepEqual(got, []string{"ts:update[allow_from]"}) {
		t.Fatalf("plan %v", got)
	}
	if got := get(t, st, "ts").AllowFrom; !slices.Equal(got, []string{"10.0.0.0/8", "192.0.2.1/32"}) {
		t.Fatalf("allow_from after the edit %q", got)
	}
	_, err = Parse("c.yaml", []byte(file("[10.0.0.0/8, example.com]")), env())
	if err == nil || !strings.Contains(err.Error(), `c.yaml:6: sources.ts.allow_from: allow-from "example.com"`) {
		t.Fatalf("a bad network: %v", err)
	}
}
