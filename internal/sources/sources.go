// Package sources holds the rules for webhook sources (names, secrets,
// rotation, validation) once, for the CLI working on the local store, the
// receiver's admin API, and the CLI talking to a remote receiver.
package sources

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/verify"
	"github.com/tw-cli/tw-cli/pkg/payload"
)

// DefaultGrace is how long a rotated-out secret keeps verifying.
const DefaultGrace = 24 * time.Hour

// MaxGrace bounds a rotation's grace period: an old secret verifying for
// longer is no rotation.
const MaxGrace = 365 * 24 * time.Hour

// VerifyHMAC is the default verification mode, seed 003's scheme.
const VerifyHMAC = verify.ModeHMAC

// VerifyModes lists the accepted --verify values.
var VerifyModes = verify.Modes()

// Errors callers map to exit codes and HTTP statuses.
var (
	ErrNotFound = errors.New("source not found")
	ErrExists   = errors.New("source already exists")
)

// ValidationError is bad input: a usage error in the CLI, 400 in the API.
type ValidationError struct{ Msg string }

func (e *ValidationError) Error() string { return e.Msg }

func invalid(format string, args ...any) error {
	return &ValidationError{Msg: fmt.Sprintf(format, args...)}
}

// View is a source as shown to users and sent by the admin API: the secret
// is always masked.
type View struct {
	Source          string            `json:"source"`
	Secret          string            `json:"secret"`
	Format          string            `json:"format"`
	Verify          string            `json:"verify"`
	AutoTriage      bool              `json:"auto_triage"`
	Playbook        string            `json:"playbook,omitempty"`
	SeverityMapping map[string]string `json:"severity_mapping,omitempty"`
	Description     string            `json:"description,omitempty"`
	AllowFrom       []string          `json:"allow_from,omitempty"`
	Origin          string            `json:"origin"`
	// PreviousSecretExpiresAt is set while a rotated-out secret still verifies.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
}

// MaskedSecret is what View.Secret always holds.
const MaskedSecret = "********"

// ViewOf renders a stored source for display at now.
func ViewOf(s *store.Source, now time.Time) View {
	v := View{
		Source: s.Name, Secret: MaskedSecret, Format: s.Format, Verify: s.Verify, AutoTriage: s.AutoTriage,
		Playbook: s.Playbook, SeverityMapping: s.SeverityMapping, Description: s.Description, AllowFrom: s.AllowFrom,
		Origin: s.Origin, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	if s.PreviousSecret != "" && now.Before(s.PreviousExpiresAt) {
		t := s.PreviousExpiresAt
		v.PreviousSecretExpiresAt = &t
	}
	return v
}

// Spec is a request to register a source; the JSON shape is the admin
// API's POST /api/webhooks body (seed 003).
type Spec struct {
	Source          string            `json:"source"`
	Secret          string            `json:"secret,omitempty"`
	Format          string            `json:"format,omitempty"`
	Verify          string            `json:"verify,omitempty"`
	AutoTriage      bool              `json:"auto_triage"`
	Playbook        string            `json:"playbook,omitempty"`
	SeverityMapping map[string]string `json:"severity_mapping,omitempty"`
	Description     string            `json:"description,omitempty"`
	// AllowFrom lists the networks deliveries may come from (see
	// ParseAllowFrom); empty allows any.
	AllowFrom []string `json:"allow_from,omitempty"`
}

// Patch changes some fields of a source; nil means unchanged. It is the
// body of PATCH /api/webhooks/:source.
type Patch struct {
	Format          *string            `json:"format,omitempty"`
	Verify          *string            `json:"verify,omitempty"`
	AutoTriage      *bool              `json:"auto_triage,omitempty"`
	Playbook        *string            `json:"playbook,omitempty"`
	SeverityMapping *map[string]string `json:"severity_mapping,omitempty"`
	Description     *string            `json:"description,omitempty"`
	// AllowFrom replaces the allowed networks; an empty list allows any.
	AllowFrom *[]string `json:"allow_from,omitempty"`
	// Secret replaces the secret at once, with no grace: it is for a
	// change of verification mode, whose secrets take another form
	// (rotate-secret keeps the old one valid for a while instead).
	Secret *string `json:"secret,omitempty"`
}

// Empty reports whether the patch changes nothing.
func (p Patch) Empty() bool {
	return p.Format == nil && p.Verify == nil && p.AutoTriage == nil && p.Playbook == nil &&
		p.SeverityMapping == nil && p.Description == nil && p.Secret == nil && p.AllowFrom == nil
}

// Service manages sources, locally or on a remote receiver.
type Service interface {
	// Add registers a source. When spec.Secret is empty one is generated
	// and returned; it is never retrievable again.
	Add(ctx context.Context, spec Spec) (View, string, error)
	List(ctx context.Context) ([]View, error)
	Get(ctx context.Context, name string) (View, error)
	Update(ctx context.Context, name string, p Patch) (View, error)
	Remove(ctx context.Context, name string) error
	// RotateSecret replaces the secret (generated when empty) and keeps
	// the old one verifying for grace.
	RotateSecret(ctx context.Context, name, secret string, grace time.Duration) (View, string, error)
}

// ValidateName checks a source name is usable as a URL path segment.
// The receiver runs it on every delivery, so it is a loop, not a regexp.
func ValidateName(name string) error {
	if !IsToken(name, "._-") {
		return invalid("invalid source name %q: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// ValidatePlaybook checks a playbook name; empty means none.
func ValidatePlaybook(p string) error {
	if p != "" && !IsToken(p, "_-") {
		return invalid("invalid playbook name %q: use letters, digits, '_' or '-'", p)
	}
	return nil
}

// MaxDescriptionLen bounds a source's description: every listing carries
// it.
const MaxDescriptionLen = 1024

// ValidateDescription checks a description: at most MaxDescriptionLen
// bytes of text, tabs and line breaks the only control characters (the
// rest would reach terminals through webhook list).
func ValidateDescription(d string) error {
	if len(d) > MaxDescriptionLen {
		return invalid("description is %d bytes: keep it to %d", len(d), MaxDescriptionLen)
	}
	if !utf8.ValidString(d) || strings.ContainsFunc(d, func(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\n' }) {
		return invalid("description may not hold control characters or invalid UTF-8")
	}
	return nil
}

// ValidateFormat checks a payload format name.
func ValidateFormat(f string) error {
	if !payload.ValidFormat(f) {
		return invalid("unknown format %q: use one of %s", f, strings.Join(payload.Formats(), ", "))
	}
	return nil
}

// ValidateVerify checks a verification mode name.
func ValidateVerify(v string) error {
	for _, m := range VerifyModes {
		if m == v {
			return nil
		}
	}
	return invalid("unknown verification mode %q: use one of %s", v, strings.Join(VerifyModes, ", "))
}

// ValidateSecretFor checks a given secret fits the mode: Standard Webhooks
// secrets are whsec_<base64>, basic auth needs user:password.
func ValidateSecretFor(mode, secret string) error {
	if secret == "" || mode == verify.ModeNone {
		return nil
	}
	switch mode {
	case verify.ModeBearer, verify.ModeBasic, verify.ModeURLToken:
		if strings.TrimSpace(secret) != secret || strings.ContainsFunc(secret, unicode.IsControl) {
			// Senders present this secret as a token, which the receiver
			// reads trimmed, and which a header cannot carry with a
			// newline: it could never match (a newline from echo, say).
			return invalid("a %s secret cannot have leading or trailing spaces, a newline or another control character: remove them", mode)
		}
	}
	if _, err := verify.New(mode, [][]byte{[]byte(secret)}, verify.Options{}); err != nil {
		return invalid("secret does not suit verification mode %s: %v", mode, err)
	}
	return nil
}

// ValidateSeverityMapping checks every target is a normalized severity.
func ValidateSeverityMapping(m map[string]string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.TrimSpace(k) == "" {
			return invalid("severity mapping has an empty vendor severity")
		}
		if _, ok := payload.ParseSeverity(m[k]); !ok {
			return invalid("severity mapping %s=%s: target must be critical, high, medium, low or info", k, m[k])
		}
	}
	// Vendor severities match case-insensitively, so "High" and "high"
	// would compete; payload owns that rule.
	if err := payload.ValidateSeverityMapping(m); err != nil {
		return invalid("severity mapping: %s", strings.TrimPrefix(err.Error(), "severity_mapping: "))
	}
	return nil
}

// ParseSeverityMapping parses "vendor=normalized,…" as typed on the command line.
func ParseSeverityMapping(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, invalid("invalid severity mapping %q: want vendor=severity[,vendor=severity…]", pair)
		}
		k = strings.TrimSpace(k)
		if _, dup := m[k]; dup {
			// The last would win silently, and the user meant one of them.
			return nil, invalid("invalid severity mapping: %q is mapped twice", k)
		}
		m[k] = strings.ToLower(strings.TrimSpace(v))
	}
	return m, ValidateSeverityMapping(m)
}

// NormalizeSpec fills in the defaults (format auto, verification hmac) and
// checks every field, so each way of registering a source (flags, the
// admin API, webhook_config.yaml) accepts exactly the same specs. An empty
// secret passes: Add generates one.
func NormalizeSpec(spec Spec) (Spec, error) {
	if err := ValidateName(spec.Source); err != nil {
		return spec, err
	}
	if spec.Format == "" {
		spec.Format = payload.FormatAuto
	}
	if spec.Verify == "" {
		spec.Verify = VerifyHMAC
	}
	for _, err := range []error{ValidateFormat(spec.Format), ValidateVerify(spec.Verify), ValidatePlaybook(spec.Playbook), ValidateSeverityMapping(spec.SeverityMapping), ValidateDescription(spec.Description), ValidateSecretFor(spec.Verify, spec.Secret)} {
		if err != nil {
			return spec, err
		}
	}
	allow, err := ParseAllowFrom(spec.AllowFrom)
	if err != nil {
		return spec, err
	}
	spec.AllowFrom = allow
	return spec, nil
}

// ReplaceSecret makes secret the current secret of src at now and keeps
// the old one verifying until now+grace (grace 0 drops it at once). Every
// path that changes a secret goes through here so rotation means the same
// thing for rotate-secret and for a changed webhook_config.yaml.
func ReplaceSecret(src *store.Source, secret string, now time.Time, grace time.Duration) {
	src.PreviousSecret, src.PreviousExpiresAt = src.Secret, now.Add(grace)
	src.Secret, src.UpdatedAt = secret, now
	if grace <= 0 {
		src.PreviousSecret, src.PreviousExpiresAt = "", time.Time{}
	}
}

// GenerateSecret returns a new random secret in the form the verification
// mode expects: 32 random bytes as hex, whsec_<base64> for Standard
// Webhooks, user:password for basic auth.
func GenerateSecret(mode string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	switch mode {
	case verify.ModeStandardWebhooks:
		return verify.StandardWebhooksSecretPrefix + base64.StdEncoding.EncodeToString(b), nil
	case verify.ModeBasic:
		return "tw-cli:" + hex.EncodeToString(b), nil
	}
	return hex.EncodeToString(b), nil
}

// Local manages sources in a store.
type Local struct {
	Store store.Store
	// Origin is recorded on sources created here: "cli" or "api".
	Origin string
	Now    func() time.Time
}

func (l *Local) now() time.Time {
	if l.Now != nil {
		return l.Now().UTC()
	}
	return time.Now().UTC()
}

// Add implements Service.
func (l *Local) Add(ctx context.Context, spec Spec) (View, string, error) {
	spec, err := NormalizeSpec(spec)
	if err != nil {
		return View{}, "", err
	}
	generated := ""
	if spec.Secret == "" && spec.Verify != verify.ModeNone {
		s, err := GenerateSecret(spec.Verify)
		if err != nil {
			return View{}, "", err
		}
		spec.Secret, generated = s, s
	}
	now := l.now()
	src := &store.Source{
		Name: spec.Source, Secret: spec.Secret, Format: spec.Format, Verify: spec.Verify, AutoTriage: spec.AutoTriage,
		Playbook: spec.Playbook, SeverityMapping: spec.SeverityMapping, Description: spec.Description,
		AllowFrom: spec.AllowFrom, Origin: l.Origin, CreatedAt: now, UpdatedAt: now,
	}
	if err := l.Store.CreateSource(ctx, src); err != nil {
		if errors.Is(err, store.ErrExists) {
			return View{}, "", fmt.Errorf("%w: %q is already registered; use 'tw-cli webhook update %s' to change it", ErrExists, spec.Source, spec.Source)
		}
		return View{}, "", err
	}
	return ViewOf(src, now), generated, nil
}

// List implements Service.
func (l *Local) List(ctx context.Context) ([]View, error) {
	srcs, err := l.Store.ListSources(ctx)
	if err != nil {
		return nil, err
	}
	now := l.now()
	out := make([]View, len(srcs))
	for i := range srcs {
		out[i] = ViewOf(&srcs[i], now)
	}
	return out, nil
}

func (l *Local) get(ctx context.Context, name string) (*store.Source, error) {
	src, err := l.Store.GetSource(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NotFoundError(name)
	}
	return src, err
}

// NotFoundError is the error for an unknown source, with what to do.
func NotFoundError(name string) error {
	return fmt.Errorf("%w: %q is not registered; run 'tw-cli webhook list'", ErrNotFound, name)
}

// Get implements Service.
func (l *Local) Get(ctx context.Context, name string) (View, error) {
	src, err := l.get(ctx, name)
	if err != nil {
		return View{}, err
	}
	return ViewOf(src, l.now()), nil
}

// Update implements Service.
func (l *Local) Update(ctx context.Context, name string, p Patch) (View, error) {
	if p.Empty() {
		return View{}, invalid("nothing to update: give at least one field to change")
	}
	src, err := l.modify(ctx, name, func(src *store.Source) error { return l.patch(src, p) })
	if err != nil {
		return View{}, err
	}
	return ViewOf(src, src.UpdatedAt), nil
}

// patch applies p to src, validating each field.
func (l *Local) patch(src *store.Source, p Patch) error {
	name := src.Name
	if p.Format != nil {
		if err := ValidateFormat(*p.Format); err != nil {
			return err
		}
		src.Format = *p.Format
	}
	if p.Secret != nil {
		mode := src.Verify
		if p.Verify != nil {
			mode = *p.Verify
		}
		if *p.Secret == "" {
			return invalid("the new secret is empty")
		}
		if err := ValidateSecretFor(mode, *p.Secret); err != nil {
			return err
		}
	}
	if p.Verify != nil && *p.Verify != src.Verify {
		if err := ValidateVerify(*p.Verify); err != nil {
			return err
		}
		secret := src.Secret
		if p.Secret != nil {
			secret = *p.Secret
		}
		// A secret that does not fit the new mode would fail every
		// delivery; say so now instead.
		if secret == "" && *p.Verify != verify.ModeNone {
			return invalid("source %q has no secret for verification mode %s: give one with --secret in the same update", name, *p.Verify)
		}
		if err := ValidateSecretFor(*p.Verify, secret); err != nil {
			return invalid("%v: give the source a fitting secret with --secret in the same update", err)
		}
		src.Verify = *p.Verify
		// The rotated-out secret belonged to the old mode.
		src.PreviousSecret, src.PreviousExpiresAt = "", time.Time{}
	}
	if p.Secret != nil {
		ReplaceSecret(src, *p.Secret, l.now(), 0)
	}
	if p.Playbook != nil {
		if err := ValidatePlaybook(*p.Playbook); err != nil {
			return err
		}
		src.Playbook = *p.Playbook
	}
	if p.SeverityMapping != nil {
		if err := ValidateSeverityMapping(*p.SeverityMapping); err != nil {
			return err
		}
		src.SeverityMapping = *p.SeverityMapping
	}
	if p.AutoTriage != nil {
		src.AutoTriage = *p.AutoTriage
	}
	if p.Description != nil {
		if err := ValidateDescription(*p.Description); err != nil {
			return err
		}
		src.Description = *p.Description
	}
	if p.AllowFrom != nil {
		allow, err := ParseAllowFrom(*p.AllowFrom)
		if err != nil {
			return err
		}
		src.AllowFrom = allow
	}
	src.UpdatedAt = l.now()
	return nil
}

// modify reads a source, changes it with fn and writes it back, again from
// the read when another process changed the source in between
// (store.ErrChanged): two CLI runs at once, or the CLI and the admin API,
// each keep their change.
func (l *Local) modify(ctx context.Context, name string, fn func(*store.Source) error) (*store.Source, error) {
	for attempt := 1; ; attempt++ {
		src, err := l.get(ctx, name)
		if err != nil {
			return nil, err
		}
		readAt := src.UpdatedAt
		if err := fn(src); err != nil {
			return nil, err
		}
		// The version check compares timestamps: a clock that has not
		// moved (or moved back) must still make a new version.
		// Microseconds, as PostgreSQL keeps them.
		if !src.UpdatedAt.After(readAt.Add(time.Microsecond)) {
			src.UpdatedAt = readAt.Add(time.Microsecond)
		}
		err = l.Store.UpdateSource(ctx, src, readAt)
		switch {
		case errors.Is(err, store.ErrChanged) && attempt < maxModifyAttempts:
			continue
		case errors.Is(err, store.ErrChanged):
			return nil, fmt.Errorf("source %q keeps changing under this update; try again", name)
		case errors.Is(err, store.ErrNotFound):
			return nil, NotFoundError(name)
		case err != nil:
			return nil, err
		}
		return src, nil
	}
}

// maxModifyAttempts bounds modify's retries; each lost race means another
// writer succeeded, so the loop always makes progress overall.
const maxModifyAttempts = 10

// Remove implements Service.
func (l *Local) Remove(ctx context.Context, name string) error {
	err := l.Store.DeleteSource(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return NotFoundError(name)
	}
	return err
}

// RotateSecret implements Service.
func (l *Local) RotateSecret(ctx context.Context, name, secret string, grace time.Duration) (View, string, error) {
	if grace < 0 || grace > MaxGrace {
		return View{}, "", invalid("grace period must be between 0 and a year (8760h)")
	}
	generated := ""
	var now time.Time
	src, err := l.modify(ctx, name, func(src *store.Source) error {
		if src.Verify == verify.ModeNone {
			return invalid("source %s is verified as none, which checks no secret: a new one would protect nothing; choose a mode with 'tw-cli webhook update %s --verify hmac' first", src.Name, src.Name)
		}
		next := secret
		if next == "" {
			// Generated once: a retry after a lost race keeps it.
			if generated == "" {
				g, err := GenerateSecret(src.Verify)
				if err != nil {
					return err
				}
				generated = g
			}
			next = generated
		}
		if next == src.Secret {
			return invalid("the new secret is the same as the current one")
		}
		// A secret of the wrong form for the mode made every delivery fail,
		// those signed with the old secret during the grace included.
		if err := ValidateSecretFor(src.Verify, next); err != nil {
			return err
		}
		now = l.now()
		ReplaceSecret(src, next, now, grace)
		return nil
	})
	if err != nil {
		return View{}, "", err
	}
	return ViewOf(src, now), generated, nil
}

// isToken reports whether s is 1-63 ASCII letters, digits and bytes of
// punct, starting with a letter or digit.
// IsToken reports whether s is a name of the shape tw-cli gives sources,
// playbooks and destinations: 1-63 ASCII letters, digits and the bytes
// of punct, starting with a letter or digit. (A regexp with {0,62} took
// a third of a millisecond to compile at every start.)
func IsToken(s, punct string) bool {
	if len(s) == 0 || len(s) > 63 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isAlnum(s[i]) && strings.IndexByte(punct, s[i]) < 0 {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
