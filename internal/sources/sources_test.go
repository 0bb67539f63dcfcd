package sources

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
)

func TestNormalizeSpecDefaultsAndRules(t *testing.T) {
	got, err := NormalizeSpec(Spec{Source: "edr", Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Format != "auto" || got.Verify != "hmac" {
		t.Fatalf("defaults: format %q verify %q", got.Format, got.Verify)
	}
	bad := []struct {
		spec Spec
		want string
	}{
		{Spec{Source: "bad name"}, "invalid source name"},
		{Spec{Source: "a", Format: "xml"}, `unknown format "xml"`},
		{Spec{Source: "a", Verify: "rot13"}, `unknown verification mode "rot13"`},
		{Spec{Source: "a", Playbook: "has space"}, "invalid playbook name"},
		{Spec{Source: "a", SeverityMapping: map[string]string{"P1": "urgent"}}, "severity mapping P1=urgent"},
		{Spec{Source: "a", SeverityMapping: map[string]string{"High": "high", "high": "critical"}}, "are the same key"},
		{Spec{Source: "a", Verify: "basic", Secret: "no-colon"}, "secret does not suit verification mode basic"},
		{Spec{Source: "a", Description: strings.Repeat("d", MaxDescriptionLen+1)}, "description is 1025 bytes"},
		{Spec{Source: "a", Description: "clears the screen \x1b[2J"}, "control characters"},
	}
	if _, err := NormalizeSpec(Spec{Source: "a", Secret: "s", Description: "two lines\n\tindented"}); err != nil {
		t.Errorf("a description with a line break and a tab: %v", err)
	}
	for _, tc := range bad {
		_, err := NormalizeSpec(tc.spec)
		var verr *ValidationError
		if !errors.As(err, &verr) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NormalizeSpec(%+v) = %v, want a ValidationError containing %q", tc.spec, err, tc.want)
		}
	}
}

func TestReplaceSecret(t *testing.T) {
	now := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	src := &store.Source{Secret: "old"}
	ReplaceSecret(src, "new", now, time.Hour)
	if src.Secret != "new" || src.PreviousSecret != "old" || !src.PreviousExpiresAt.Equal(now.Add(time.Hour)) || !src.UpdatedAt.Equal(now) {
		t.Fatalf("after rotation with grace: %+v", src)
	}
	if n := len(src.Secrets(now.Add(59 * time.Minute))); n != 2 {
		t.Fatalf("%d secrets verify within the grace, want 2", n)
	}
	if n := len(src.Secrets(now.Add(time.Hour))); n != 1 {
		t.Fatalf("%d secrets verify after the grace, want 1", n)
	}
	ReplaceSecret(src, "newer", now, 0)
	if src.PreviousSecret != "" || !src.PreviousExpiresAt.IsZero() {
		t.Fatalf("grace 0 must drop the old secret: %+v", src)
	}
}
