package sources_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
)

var t0 = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

// clock is a settable Now.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newLocal(t *testing.T) (*sources.Local, store.Store, *clock) {
	t.Helper()
	st := openStore(t)
	c := &clock{t: t0}
	return &sources.Local{Store: st, Origin: "cli", Now: c.Now}, st, c
}

func stored(t *testing.T, st store.Store, name string) *store.Source {
	t.Helper()
	src, err := st.GetSource(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func isValidation(err error) bool {
	var verr *sources.ValidationError
	return errors.As(err, &verr)
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestLocalAdd(t *testing.T) {
	ctx := context.Background()
	l, st, _ := newLocal(t)
	v, generated, err := l.Add(ctx, sources.Spec{Source: "email-gateway", Secret: "your-secret-key", AutoTriage: true,
		Playbook: "phishing_triage", SeverityMapping: map[string]string{"P1": "critical"}, Description: "mail"})
	if err != nil {
		t.Fatal(err)
	}
	if generated != "" {
		t.Errorf("generated = %q for a given secret", generated)
	}
	want := sources.View{Source: "email-gateway", Secret: sources.MaskedSecret, Format: "auto", Verify: "hmac", AutoTriage: true,
		Playbook: "phishing_triage", SeverityMapping: map[string]string{"P1": "critical"}, Description: "mail", Origin: "cli",
		CreatedAt: t0, UpdatedAt: t0}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("view =\n%+v\nwant\n%+v", v, want)
	}
	if got := stored(t, st, "email-gateway"); got.Secret != "your-secret-key" || got.Format != "auto" || got.Verify != "hmac" {
		t.Errorf("stored = %+v", got)
	}

	_, _, err = l.Add(ctx, sources.Spec{Source: "email-gateway", Secret: "other"})
	if !errors.Is(err, sources.ErrExists) {
		t.Fatalf("duplicate Add = %v, want ErrExists", err)
	}
	if want := `source already exists: "email-gateway" is already registered; use 'tw-cli webhook update email-gateway' to change it`; err.Error() != want {
		t.Errorf("duplicate message = %q", err)
	}
	if got := stored(t, st, "email-gateway"); got.Secret != "your-secret-key" {
		t.Error("a refused duplicate changed the secret")
	}
}

func TestLocalAddGeneratesSecret(t *testing.T) {
	l, st, _ := newLocal(t)
	_, generated, err := l.Add(context.Background(), sources.Spec{Source: "edr"})
	if err != nil {
		t.Fatal(err)
	}
	if !hex64.MatchString(generated) {
		t.Fatalf("generated = %q, want 64 hex digits", generated)
	}
	if got := stored(t, st, "edr").Secret; got != generated {
		t.Errorf("stored secret %q is not the one handed out", got)
	}
	_, again, _ := l.Add(context.Background(), sources.Spec{Source: "edr2"})
	if again == generated {
		t.Error("two generated secrets are equal")
	}
}

func TestLocalAddValidation(t *testing.T) {
	tests := []struct {
		name string
		spec sources.Spec
		msg  string
	}{
		{"empty name", sources.Spec{Source: ""}, `invalid source name ""`},
		{"space in name", sources.Spec{Source: "email gateway"}, `invalid source name "email gateway"`},
		{"slash in name", sources.Spec{Source: "a/b"}, `invalid source name "a/b"`},
		{"leading dash", sources.Spec{Source: "-edr"}, `invalid source name "-edr"`},
		{"name too long", sources.Spec{Source: strings.Repeat("a", 64)}, `invalid source name`},
		{"unknown format", sources.Spec{Source: "edr", Format: "xml"}, `unknown format "xml"`},
		{"unknown verify", sources.Spec{Source: "edr", Verify: "sha1-legacy"}, `unknown verification mode "sha1-legacy": use one of ` + strings.Join(sources.VerifyModes, ", ")},
		{"bad playbook", sources.Spec{Source: "edr", Playbook: "rm -rf"}, `invalid playbook name "rm -rf"`},
		{"bad severity", sources.Spec{Source: "edr", SeverityMapping: map[string]string{"P1": "urgent"}}, `severity mapping P1=urgent: target must be critical, high, medium, low or info`},
		{"empty vendor severity", sources.Spec{Source: "edr", SeverityMapping: map[string]string{" ": "high"}}, `severity mapping has an empty vendor severity`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, st, _ := newLocal(t)
			_, _, err := l.Add(context.Background(), tt.spec)
			if !isValidation(err) {
				t.Fatalf("err = %v (%T), want *ValidationError", err, err)
			}
			if !strings.HasPrefix(err.Error(), tt.msg) {
				t.Errorf("err = %q, want prefix %q", err, tt.msg)
			}
			if srcs, _ := st.ListSources(context.Background()); len(srcs) != 0 {
				t.Errorf("an invalid source was stored: %+v", srcs)
			}
		})
	}
	l, _, _ := newLocal(t)
	if _, _, err := l.Add(context.Background(), sources.Spec{Source: "A1.b_c-" + strings.Repeat("x", 56)}); err != nil {
		t.Errorf("63-char name with . _ - refused: %v", err)
	}
}

func TestLocalGetListRemove(t *testing.T) {
	ctx := context.Background()
	l, _, _ := newLocal(t)
	for _, name := range []string{"siem", "edr", "email-gateway"} {
		if _, _, err := l.Add(ctx, sources.Spec{Source: name, Secret: "s-" + name}); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := l.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range vs {
		names = append(names, v.Source)
		if v.Secret != sources.MaskedSecret {
			t.Errorf("List shows secret %q", v.Secret)
		}
	}
	if strings.Join(names, ",") != "edr,email-gateway,siem" {
		t.Errorf("List = %v, want sorted by name", names)
	}

	v, err := l.Get(ctx, "edr")
	if err != nil || v.Source != "edr" || v.Secret != sources.MaskedSecret {
		t.Errorf("Get = %+v, %v", v, err)
	}
	_, err = l.Get(ctx, "nope")
	if !errors.Is(err, sources.ErrNotFound) {
		t.Fatalf("Get(nope) = %v, want ErrNotFound", err)
	}
	if want := `source not found: "nope" is not registered; run 'tw-cli webhook list'`; err.Error() != want {
		t.Errorf("Get(nope) message = %q", err)
	}

	if err := l.Remove(ctx, "edr"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Get(ctx, "edr"); !errors.Is(err, sources.ErrNotFound) {
		t.Errorf("Get after Remove = %v", err)
	}
	if err := l.Remove(ctx, "edr"); !errors.Is(err, sources.ErrNotFound) {
		t.Errorf("second Remove = %v, want ErrNotFound", err)
	}
}

func TestLocalRotateWithGrace(t *testing.T) {
	ctx := context.Background()
	l, st, c := newLocal(t)
	if _, _, err := l.Add(ctx, sources.Spec{Source: "edr", Secret: "old"}); err != nil {
		t.Fatal(err)
	}
	c.t = t0.Add(time.Minute)
	v, generated, err := l.RotateSecret(ctx, "edr", "new", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if generated != "" {
		t.Errorf("generated = %q for a given secret", generated)
	}
	expiry := t0.Add(time.Minute + time.Hour)
	if v.PreviousSecretExpiresAt == nil || !v.PreviousSecretExpiresAt.Equal(expiry) {
		t.Fatalf("PreviousSecretExpiresAt = %v, want %v", v.PreviousSecretExpiresAt, expiry)
	}
	if !v.UpdatedAt.Equal(c.t) || !v.CreatedAt.Equal(t0) {
		t.Errorf("created/updated = %v/%v", v.CreatedAt, v.UpdatedAt)
	}

	src := stored(t, st, "edr")
	secrets := func(at time.Time) string {
		var out []string
		for _, s := range src.Secrets(at) {
			out = append(out, string(s))
		}
		return strings.Join(out, ",")
	}
	if got := secrets(expiry.Add(-time.Second)); got != "new,old" {
		t.Errorf("secrets just before expiry = %s, want new,old", got)
	}
	if got := secrets(expiry); got != "new" {
		t.Errorf("secrets at expiry = %s, want new", got)
	}

	// Once the grace period is over the view no longer says "rotating".
	c.t = expiry.Add(time.Second)
	v, err = l.Get(ctx, "edr")
	if err != nil {
		t.Fatal(err)
	}
	if v.PreviousSecretExpiresAt != nil {
		t.Errorf("after expiry PreviousSecretExpiresAt = %v", v.PreviousSecretExpiresAt)
	}
}

func TestLocalRotateGraceZeroDropsOldSecret(t *testing.T) {
	ctx := context.Background()
	l, st, _ := newLocal(t)
	if _, _, err := l.Add(ctx, sources.Spec{Source: "edr", Secret: "old"}); err != nil {
		t.Fatal(err)
	}
	v, _, err := l.RotateSecret(ctx, "edr", "new", 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.PreviousSecretExpiresAt != nil {
		t.Errorf("PreviousSecretExpiresAt = %v with grace 0", v.PreviousSecretExpiresAt)
	}
	src := stored(t, st, "edr")
	if src.Secret != "new" || src.PreviousSecret != "" || !src.PreviousExpiresAt.IsZero() {
		t.Errorf("stored = secret %q previous %q until %v", src.Secret, src.PreviousSecret, src.PreviousExpiresAt)
	}
	if got := src.Secrets(t0); len(got) != 1 || string(got[0]) != "new" {
		t.Errorf("secrets = %q, want only new", got)
	}
}

func TestLocalRotateErrors(t *testing.T) {
	ctx := context.Background()
	l, st, _ := newLocal(t)
	if _, _, err := l.Add(ctx, sources.Spec{Source: "edr", Secret: "same"}); err != nil {
		t.Fatal(err)
	}
	_, _, err := l.RotateSecret(ctx, "edr", "same", time.Hour)
	if !isValidation(err) || err.Error() != "the new secret is the same as the current one" {
		t.Errorf("rotate to the same secret = %v", err)
	}
	for _, grace := range []time.Duration{-time.Second, sources.MaxGrace + time.Second} {
		if _, _, err := l.RotateSecret(ctx, "edr", "new", grace); !isValidation(err) {
			t.Errorf("grace %s = %v, want *ValidationError", grace, err)
		}
	}
	if src := stored(t, st, "edr"); src.Secret != "same" || src.PreviousSecret != "" {
		t.Errorf("a refused rotation changed the source: %+v", src)
	}
	if _, _, err := l.RotateSecret(ctx, "nope", "x", time.Hour); !errors.Is(err, sources.ErrNotFound) {
		t.Errorf("rotate unknown = %v, want ErrNotFound", err)
	}
}

func TestLocalRotateGenerates(t *testing.T) {
	ctx := context.Background()
	l, st, _ := newLocal(t)
	if _, _, err := l.Add(ctx, sources.Spec{Source: "edr", Secret: "old"}); err != nil {
		t.Fatal(err)
	}
	_, generated, err := l.RotateSecret(ctx, "edr", "", sources.DefaultGrace)
	if err != nil {
		t.Fatal(err)
	}
	src := stored(t, st, "edr")
	if !hex64.MatchString(generated) || src.Secret != generated || src.PreviousSecret != "old" ||
		!src.PreviousExpiresAt.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("generated %q; stored %+v", generated, src)
	}
}

func ptr[T any](v T) *T { return &v }

func TestLocalUpdateChangesOnlyGivenFields(t *testing.T) {
	base := sources.Spec{Source: "edr", Secret: "s", Format: "auto", AutoTriage: true, Playbook: "malware_triage",
		SeverityMapping: map[string]string{"4": "high"}, Description: "endpoint"}
	tests := []struct {
		name  string
		patch sources.Patch
		check func(v sources.View) bool
	}{
		{"playbook", sources.Patch{Playbook: ptr("phishing_triage")}, func(v sources.View) bool { return v.Playbook == "phishing_triage" }},
		{"clear playbook", sources.Patch{Playbook: ptr("")}, func(v sources.View) bool { return v.Playbook == "" }},
		{"auto-triage off", sources.Patch{AutoTriage: ptr(false)}, func(v sources.View) bool { return !v.AutoTriage }},
		{"format", sources.Patch{Format: ptr("generic")}, func(v sources.View) bool { return v.Format == "generic" }},
		{"description", sources.Patch{Description: ptr("new")}, func(v sources.View) bool { return v.Description == "new" }},
		{"severity map", sources.Patch{SeverityMapping: ptr(map[string]string{"5": "critical"})}, func(v sources.View) bool {
			return reflect.DeepEqual(v.SeverityMapping, map[string]string{"5": "critical"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			l, st, c := newLocal(t)
			before, _, err := l.Add(ctx, base)
			if err != nil {
				t.Fatal(err)
			}
			c.t = t0.Add(time.Hour)
			v, err := l.Update(ctx, "edr", tt.patch)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(v) {
				t.Errorf("patch not applied: %+v", v)
			}
			if !v.UpdatedAt.Equal(c.t) || !v.CreatedAt.Equal(t0) {
				t.Errorf("created/updated = %v/%v", v.CreatedAt, v.UpdatedAt)
			}
			// Every field the patch did not name is as before.
			untouched := before
			untouched.UpdatedAt = v.UpdatedAt
			if tt.patch.Playbook != nil {
				untouched.Playbook = v.Playbook
			}
			if tt.patch.AutoTriage != nil {
				untouched.AutoTriage = v.AutoTriage
			}
			if tt.patch.Format != nil {
				untouched.Format = v.Format
			}
			if tt.patch.Description != nil {
				untouched.Description = v.Description
			}
			if tt.patch.SeverityMapping != nil {
				untouched.SeverityMapping = v.SeverityMapping
			}
			if !reflect.DeepEqual(v, untouched) {
				t.Errorf("update changed other fields:\ngot  %+v\nwant %+v", v, untouched)
			}
			got, _ := l.Get(ctx, "edr")
			if !reflect.DeepEqual(got, v) {
				t.Errorf("Get after Update = %+v, want %+v", got, v)
			}
			if stored(t, st, "edr").Secret != "s" {
				t.Error("Update changed the secret")
			}
		})
	}
}

func TestLocalUpdateErrors(t *testing.T) {
	ctx := context.Background()
	l, st, _ := newLocal(t)
	if _, _, err := l.Add(ctx, sources.Spec{Source: "edr", Secret: "s", Playbook: "malware_triage"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		patch sources.Patch
	}{
		{"empty patch", sources.Patch{}},
		{"bad format", sources.Patch{Format: ptr("xml")}},
		{"bad verify", sources.Patch{Verify: ptr("sha1-legacy")}},
		{"bad playbook", sources.Patch{Playbook: ptr("a b")}},
		{"bad severity map", sources.Patch{SeverityMapping: ptr(map[string]string{"P1": "urgent"})}},
		{"control characters in the description", sources.Patch{Description: ptr("a\x07b")}},
		// A valid field next to an invalid one is not half applied.
		{"valid and invalid", sources.Patch{Description: ptr("x"), Format: ptr("xml")}},
	}
	for _, tt := range tests {
		if _, err := l.Update(ctx, "edr", tt.patch); !isValidation(err) {
			t.Errorf("%s: err = %v, want *ValidationError", tt.name, err)
		}
	}
	src := stored(t, st, "edr")
	if src.Format != "auto" || src.Playbook != "malware_triage" || src.Description != "" || !src.UpdatedAt.Equal(t0) {
		t.Errorf("refused updates changed the source: %+v", src)
	}
	if _, err := l.Update(ctx, "nope", sources.Patch{Description: ptr("x")}); !errors.Is(err, sources.ErrNotFound) {
		t.Errorf("update unknown = %v, want ErrNotFound", err)
	}
}

func TestParseSeverityMapping(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{in: "", want: map[string]string{}},
		{in: "P1=critical", want: map[string]string{"P1": "critical"}},
		{in: " P1 = Critical , P2=HIGH,,", want: map[string]string{"P1": "critical", "P2": "high"}},
		{in: "4=high,5=critical,1=info", want: map[string]string{"4": "high", "5": "critical", "1": "info"}},
		{in: "P1", wantErr: `invalid severity mapping "P1": want vendor=severity[,vendor=severity…]`},
		{in: "P1=urgent", wantErr: "severity mapping P1=urgent: target must be critical, high, medium, low or info"},
		{in: "=high", wantErr: "severity mapping has an empty vendor severity"},
	}
	for _, tt := range tests {
		got, err := sources.ParseSeverityMapping(tt.in)
		if tt.wantErr != "" {
			if !isValidation(err) || err.Error() != tt.wantErr {
				t.Errorf("ParseSeverityMapping(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSeverityMapping(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestPatchEmpty(t *testing.T) {
	if !(sources.Patch{}).Empty() {
		t.Error("zero Patch is not Empty")
	}
	// A pointer to a zero value is a change (clear the playbook), not nothing.
	for _, p := range []sources.Patch{{Playbook: ptr("")}, {AutoTriage: ptr(false)}, {SeverityMapping: ptr(map[string]string{})}} {
		if p.Empty() {
			t.Errorf("%+v is Empty", p)
		}
	}
}

func TestUpdateVerifyNeedsAFittingSecret(t *testing.T) {
	ctx := context.Background()
	l, st, _ := newLocal(t)
	if _, _, err := l.Add(ctx, sources.Spec{Source: "s", Secret: "plain-secret"}); err != nil {
		t.Fatal(err)
	}
	var verr *sources.ValidationError
	if _, err := l.Update(ctx, "s", sources.Patch{Verify: ptr("standard-webhooks")}); !errors.As(err, &verr) {
		t.Fatalf("a non-whsec secret switched to standard-webhooks: %v", err)
	}
	if _, err := l.Update(ctx, "s", sources.Patch{Verify: ptr("github")}); err != nil {
		t.Fatalf("hmac secret to github: %v", err)
	}
	if _, _, err := l.Add(ctx, sources.Spec{Source: "open", Verify: "none"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Update(ctx, "open", sources.Patch{Verify: ptr("hmac")}); !errors.As(err, &verr) {
		t.Fatalf("a source without a secret switched to hmac: %v", err)
	}
	// The mode and a secret of its form change together, the old secret
	// dropped at once.
	whsec := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	v, err := l.Update(ctx, "s", sources.Patch{Verify: ptr("standard-webhooks"), Secret: &whsec})
	if err != nil || v.Verify != "standard-webhooks" || v.PreviousSecretExpiresAt != nil {
		t.Fatalf("switch with its secret: %+v, %v", v, err)
	}
	if got, _ := st.GetSource(ctx, "s"); got.Secret != whsec || got.PreviousSecret != "" {
		t.Fatalf("stored after the switch: secret %q, previous %q", got.Secret, got.PreviousSecret)
	}
	if _, err := l.Update(ctx, "s", sources.Patch{Secret: ptr("not-a-whsec")}); !errors.As(err, &verr) {
		t.Fatalf("a secret of the wrong form for the mode: %v", err)
	}
}

// rotate-secret checks the new secret against the mode: one of the wrong
// form made every delivery fail, the old secret's during the grace too.
func TestRotateNeedsASecretOfTheModesForm(t *testing.T) {
	ctx := context.Background()
	l, _, _ := newLocal(t)
	if _, _, err := l.Add(ctx, sources.Spec{Source: "sw", Verify: "standard-webhooks", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}); err != nil {
		t.Fatal(err)
	}
	var verr *sources.ValidationError
	if _, _, err := l.RotateSecret(ctx, "sw", "plainsecret", time.Hour); !errors.As(err, &verr) {
		t.Fatalf("rotated to a non-whsec secret: %v", err)
	}
	if _, _, err := l.Add(ctx, sources.Spec{Source: "b", Verify: "basic", Secret: "alice:s3cret"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.RotateSecret(ctx, "b", "nocolon", 0); !errors.As(err, &verr) {
		t.Fatalf("rotated a basic source to a secret without a colon: %v", err)
	}
	if _, gen, err := l.RotateSecret(ctx, "b", "", time.Hour); err != nil || !strings.Contains(gen, ":") {
		t.Fatalf("generated basic secret %q: %v", gen, err)
	}
	// A token the receiver reads trimmed can never end in a newline.
	if _, _, err := l.Add(ctx, sources.Spec{Source: "tok", Verify: "bearer", Secret: "tok-abcdefabcdefabcdef\n"}); !errors.As(err, &verr) {
		t.Fatalf("added a bearer secret ending in a newline: %v", err)
	}
	if _, _, err := l.RotateSecret(ctx, "b", " alice:s3cret2", 0); !errors.As(err, &verr) {
		t.Fatalf("rotated a basic source to a secret with a leading space: %v", err)
	}
	// A source that checks nothing has no secret to rotate.
	if _, _, err := l.Add(ctx, sources.Spec{Source: "open", Verify: "none"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.RotateSecret(ctx, "open", "", 0); !errors.As(err, &verr) || !strings.Contains(err.Error(), "checks no secret") {
		t.Fatalf("rotated the secret of a none source: %v", err)
	}
}

func TestNameRules(t *testing.T) {
	for name, want := range map[string]bool{
		"email-gateway":         true,
		"edr.eu_1":              true,
		"9lives":                true,
		strings.Repeat("a", 63): true,
		strings.Repeat("a", 64): false,
		"_edr":                  false,
		"edr/x":                 false,
		"édr":                   false,
	} {
		if got := sources.ValidateName(name) == nil; got != want {
			t.Errorf("ValidateName(%q) ok = %v, want %v", name, got, want)
		}
	}
	if sources.ValidatePlaybook("phishing.triage") == nil {
		t.Error("a playbook name with '.' was accepted")
	}
	if err := sources.ValidatePlaybook("phishing_triage"); err != nil {
		t.Error(err)
	}
}

// A rotation and an update of the same source at once both land: neither
// writes back a copy read before the other's write. Before, the update
// could silently restore the old secret after rotate-secret had shown the
// new one. The clock stands still, the worst case for a version stamp.
func TestConcurrentChangesBothLand(t *testing.T) {
	ctx := context.Background()
	l, st, _ := newLocal(t)
	if _, _, err := l.Add(ctx, sources.Spec{Source: "edr", Secret: "orig-secret-0000"}); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		desc := fmt.Sprintf("d%d", i)
		var wg sync.WaitGroup
		var secret string
		var rotErr, updErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, secret, rotErr = l.RotateSecret(ctx, "edr", "", 0) }()
		go func() { defer wg.Done(); _, updErr = l.Update(ctx, "edr", sources.Patch{Description: &desc}) }()
		wg.Wait()
		if rotErr != nil || updErr != nil {
			t.Fatalf("round %d: rotate %v, update %v", i, rotErr, updErr)
		}
		got := stored(t, st, "edr")
		if got.Secret != secret || got.Description != desc {
			t.Fatalf("round %d: stored secret %q (rotation showed %q), description %q (want %q)", i, got.Secret, secret, got.Description, desc)
		}
	}
}
