package sources_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/noredirect"
	"github.com/tw-cli/tw-cli/internal/noredirect/noredirecttest"
	"github.com/tw-cli/tw-cli/internal/receiver"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
)

const adminToken = "tw_remote-test-token"

// newRemote serves the real receiver on a temp store and returns a Remote
// pointed at it, and a Local on the same store to compare with.
func newRemote(t *testing.T) (*sources.Remote, *sources.Local, store.Store) {
	t.Helper()
	st := openStore(t)
	now := func() time.Time { return t0 }
	if err := st.CreateToken(context.Background(), &store.Token{ID: "1", Name: "test", Hash: receiver.HashToken(adminToken), Prefix: adminToken[:9], CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(receiver.New(receiver.Options{Store: st, Now: now}))
	t.Cleanup(srv.Close)
	return &sources.Remote{BaseURL: srv.URL + "/", Token: adminToken, Client: srv.Client()},
		&sources.Local{Store: st, Origin: "api", Now: now}, st
}

func TestRemoteRoundTrip(t *testing.T) {
	ctx := context.Background()
	r, local, st := newRemote(t)

	v, generated, err := r.Add(ctx, sources.Spec{Source: "email-gateway", Secret: "your-secret-key", AutoTriage: true,
		Playbook: "phishing_triage", SeverityMapping: map[string]string{"P1": "critical"}})
	if err != nil {
		t.Fatal(err)
	}
	if generated != "" {
		t.Errorf("generated = %q for a given secret", generated)
	}
	want := sources.View{Source: "email-gateway", Secret: sources.MaskedSecret, Format: "auto", Verify: "hmac", AutoTriage: true,
		Playbook: "phishing_triage", SeverityMapping: map[string]string{"P1": "critical"}, Origin: "api", CreatedAt: t0, UpdatedAt: t0}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("Add view =\n%+v\nwant\n%+v", v, want)
	}
	if got := stored(t, st, "email-gateway").Secret; got != "your-secret-key" {
		t.Errorf("stored secret = %q", got)
	}

	_, generated, err = r.Add(ctx, sources.Spec{Source: "edr"})
	if err != nil {
		t.Fatal(err)
	}
	if !hex64.MatchString(generated) || stored(t, st, "edr").Secret != generated {
		t.Errorf("generated secret %q not returned or not stored", generated)
	}

	// The remote sees exactly what the local store holds.
	remoteList, err := r.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	localList, _ := local.List(ctx)
	if !reflect.DeepEqual(remoteList, localList) {
		t.Errorf("remote List =\n%+v\nlocal List =\n%+v", remoteList, localList)
	}

	got, err := r.Get(ctx, "email-gateway")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Get = %+v, %v", got, err)
	}

	off := false
	v, err = r.Update(ctx, "email-gateway", sources.Patch{AutoTriage: &off})
	if err != nil {
		t.Fatal(err)
	}
	if v.AutoTriage || v.Playbook != "phishing_triage" {
		t.Errorf("Update = %+v: want auto-triage off, playbook kept", v)
	}

	v, generated, err = r.RotateSecret(ctx, "email-gateway", "rotated", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if generated != "" || v.PreviousSecretExpiresAt == nil || !v.PreviousSecretExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("rotate = %+v, generated %q", v, generated)
	}
	src := stored(t, st, "email-gateway")
	if src.Secret != "rotated" || src.PreviousSecret != "your-secret-key" {
		t.Errorf("after rotate stored %q / previous %q", src.Secret, src.PreviousSecret)
	}
	// Grace 0 travels as 0 seconds, not as "use the default".
	v, _, err = r.RotateSecret(ctx, "email-gateway", "again", 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.PreviousSecretExpiresAt != nil || stored(t, st, "email-gateway").PreviousSecret != "" {
		t.Errorf("grace 0 over the API kept the old secret: %+v", v)
	}

	if err := r.Remove(ctx, "edr"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetSource(ctx, "edr"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after Remove, stored edr: %v", err)
	}
}

func TestRemoteErrorMapping(t *testing.T) {
	ctx := context.Background()
	r, local, _ := newRemote(t)
	if _, _, err := r.Add(ctx, sources.Spec{Source: "edr", Secret: "s"}); err != nil {
		t.Fatal(err)
	}
	badToken := *r
	badToken.Token = "tw_wrong"
	noToken := *r
	noToken.Token = ""

	t.Run("404 is ErrNotFound", func(t *testing.T) {
		for name, call := range map[string]func() error{
			"get":    func() error { _, err := r.Get(ctx, "nope"); return err },
			"update": func() error { _, err := r.Update(ctx, "nope", sources.Patch{Description: ptr("x")}); return err },
			"remove": func() error { return r.Remove(ctx, "nope") },
			"rotate": func() error { _, _, err := r.RotateSecret(ctx, "nope", "x", 0); return err },
		} {
			err := call()
			if !errors.Is(err, sources.ErrNotFound) || sources.IsUnauthorized(err) {
				t.Errorf("%s: err = %v, want ErrNotFound", name, err)
			}
		}
		// The same words as a local store, so the CLI reads the same.
		_, remoteErr := r.Get(ctx, "nope")
		_, localErr := local.Get(ctx, "nope")
		if remoteErr.Error() != localErr.Error() {
			t.Errorf("remote says %q, local says %q", remoteErr, localErr)
		}
	})

	t.Run("409 is ErrExists", func(t *testing.T) {
		_, _, err := r.Add(ctx, sources.Spec{Source: "edr", Secret: "t"})
		if !errors.Is(err, sources.ErrExists) {
			t.Fatalf("err = %v, want ErrExists", err)
		}
		_, _, localErr := local.Add(ctx, sources.Spec{Source: "edr", Secret: "t"})
		if err.Error() != localErr.Error() {
			t.Errorf("remote says %q, local says %q", err, localErr)
		}
	})

	t.Run("400 is ValidationError", func(t *testing.T) {
		for name, call := range map[string]func() error{
			"bad name":    func() error { _, _, err := r.Add(ctx, sources.Spec{Source: "bad name"}); return err },
			"bad format":  func() error { _, _, err := r.Add(ctx, sources.Spec{Source: "x", Format: "xml"}); return err },
			"empty patch": func() error { _, err := r.Update(ctx, "edr", sources.Patch{}); return err },
			"same secret": func() error { _, _, err := r.RotateSecret(ctx, "edr", "s", 0); return err },
			"bad severity": func() error {
				_, err := r.Update(ctx, "edr", sources.Patch{SeverityMapping: ptr(map[string]string{"a": "b"})})
				return err
			},
		} {
			err := call()
			if !isValidation(err) {
				t.Errorf("%s: err = %v (%T), want *ValidationError", name, err, err)
			}
		}
		_, _, err := r.Add(ctx, sources.Spec{Source: "bad name"})
		_, _, localErr := local.Add(ctx, sources.Spec{Source: "bad name"})
		if err.Error() != localErr.Error() {
			t.Errorf("remote says %q, local says %q", err, localErr)
		}
	})

	t.Run("401 is unauthorized", func(t *testing.T) {
		for name, rem := range map[string]*sources.Remote{"wrong token": &badToken, "no token": &noToken} {
			_, err := rem.List(ctx)
			if !sources.IsUnauthorized(err) {
				t.Errorf("%s: err = %v, want unauthorized", name, err)
			}
			if errors.Is(err, sources.ErrNotFound) || isValidation(err) {
				t.Errorf("%s: err = %v also maps to another error", name, err)
			}
			var apiErr *sources.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || apiErr.Code != "unauthorized" {
				t.Errorf("%s: APIError = %+v", name, apiErr)
			}
		}
		// A refused token must not have touched anything.
		if _, _, err := badToken.Add(ctx, sources.Spec{Source: "sneaky", Secret: "s"}); !sources.IsUnauthorized(err) {
			t.Errorf("Add with a bad token = %v", err)
		}
		if _, err := local.Get(ctx, "sneaky"); !errors.Is(err, sources.ErrNotFound) {
			t.Errorf("a refused Add stored a source: %v", err)
		}
	})
}

// The mapping of statuses the receiver does not send today, from a fake.
func TestRemoteOtherStatuses(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantMsg    string
		wantUnauth bool
		wantRemote bool // IsRemoteFailure: the receiver failed (exit 5)
	}{
		{"403 counts as unauthorized", http.StatusForbidden, `{"error":{"code":"forbidden","message":"token lacks scope"}}`, "token lacks scope", true, false},
		{"500 with an error body", http.StatusInternalServerError, `{"error":{"code":"internal_error","message":"internal error"}}`, "internal error", false, true},
		{"502 from a proxy, not JSON", http.StatusBadGateway, "<html>bad gateway</html>", "server answered 502 Bad Gateway", false, true},
		{"503 overloaded", http.StatusServiceUnavailable, `{"error":{"code":"overloaded","message":"too many requests in flight"}}`, "too many requests in flight", false, true},
		{"404 from a proxy, not JSON", http.StatusNotFound, "404 page not found", "source not found: server answered 404 Not Found", false, false},
		{"422 is the request's fault", http.StatusUnprocessableEntity, `{"error":{"code":"invalid","message":"bad field"}}`, "bad field", false, false},
		// The README's exit 5: rate limited, or an answer tw-cli cannot read.
		{"429 rate limited", http.StatusTooManyRequests, `{"error":{"code":"rate_limited","message":"slow down"}}`, "slow down", false, true},
		{"200 with a proxy's page", http.StatusOK, "<html>login</html>",
			"GET /api/webhooks/edr: unexpected response: invalid character '<' looking for beginning of value (is --server a tw-cli receiver?)", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			r := &sources.Remote{BaseURL: srv.URL, Token: adminToken, Client: srv.Client()}
			_, err := r.Get(context.Background(), "edr")
			if err == nil || err.Error() != tt.wantMsg {
				t.Fatalf("err = %v, want %q", err, tt.wantMsg)
			}
			if sources.IsUnauthorized(err) != tt.wantUnauth {
				t.Errorf("IsUnauthorized = %v", !tt.wantUnauth)
			}
			if sources.IsRemoteFailure(err) != tt.wantRemote {
				t.Errorf("IsRemoteFailure = %v", !tt.wantRemote)
			}
		})
	}
}

// TestRemoteListWithoutItsList: {} is no listing; printed as an empty one
// it said there was nothing.
func TestRemoteListWithoutItsList(t *testing.T) {
	for _, body := range []string{`{}`, `{"webhooks":null}`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) }))
		r := &sources.Remote{BaseURL: srv.URL, Token: adminToken, Client: srv.Client()}
		vs, err := r.List(context.Background())
		srv.Close()
		if err == nil || !sources.IsRemoteFailure(err) || !strings.Contains(err.Error(), `no "webhooks" list`) {
			t.Fatalf("%s: %v, %v; want an unreadable answer", body, vs, err)
		}
	}
}

// A --server that is no http(s) base URL is refused before anything is
// sent, as the user's mistake rather than a network failure.
func TestRemoteRefusesABadServerURL(t *testing.T) {
	for _, base := range []string{"notaurl", "127.0.0.1:8080", "localhost:8080", "ftp://receiver.example.com", "http://", "https:///api", "http://u:SRVPASS@host:99999x"} {
		var sent bool
		client := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			sent = true
			return nil, errors.New("not here")
		})}
		r := &sources.Remote{BaseURL: base, Token: adminToken, Client: client}
		_, err := r.List(context.Background())
		var urlErr *sources.ServerURLError
		if !errors.As(err, &urlErr) || !strings.Contains(err.Error(), "invalid --server") {
			t.Errorf("%s: err = %v, want a ServerURLError", base, err)
		}
		if sent || (err != nil && strings.Contains(err.Error(), "SRVPASS")) {
			t.Errorf("%s: sent %v, err %v", base, sent, err)
		}
	}
	for _, base := range []string{"http://127.0.0.1:8080", "HTTPS://receiver.example.com/prefix/"} {
		r := &sources.Remote{BaseURL: base, Token: adminToken, Client: &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			return nil, errors.New("not here")
		})}}
		_, err := r.List(context.Background())
		var urlErr *sources.ServerURLError
		if errors.As(err, &urlErr) {
			t.Errorf("%s: refused a good URL: %v", base, err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRemoteSendsTokenAndJSON(t *testing.T) {
	var gotAuth, gotType, gotMethod, gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		gotAuth, gotType, gotMethod, gotPath = req.Header.Get("Authorization"), req.Header.Get("Content-Type"), req.Method, req.URL.EscapedPath()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"source":"a b","secret":"********","format":"auto","verify":"hmac","auto_triage":false,"origin":"api","created_at":"2024-01-15T10:00:00Z","updated_at":"2024-01-15T10:00:00Z"}`))
	}))
	defer srv.Close()
	r := &sources.Remote{BaseURL: srv.URL, Token: adminToken, Client: srv.Client()}
	if _, err := r.Update(context.Background(), "a b", sources.Patch{Description: ptr("x")}); err != nil {
		t.Fatal(err)
	}
	if gotAuth != "Bearer "+adminToken || gotType != "application/json" || gotMethod != http.MethodPatch || gotPath != "/api/webhooks/a%20b" {
		t.Errorf("request: auth %q, type %q, %s %s", gotAuth, gotType, gotMethod, gotPath)
	}
}

func TestRemoteUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	r := &sources.Remote{BaseURL: url, Token: adminToken, Client: &http.Client{Timeout: 2 * time.Second}}
	_, err := r.List(context.Background())
	if err == nil || errors.Is(err, sources.ErrNotFound) || sources.IsUnauthorized(err) {
		t.Errorf("err = %v, want a plain connection error", err)
	}
}

// A server URL can hold a password or a token; no error repeats them.
func TestRemoteErrorsHideURLCredentials(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	for _, base := range []string{
		"http://admin:SRVPASS@" + addr + "/?token=QTOK",    // unreachable
		"http://admin:SRVPASS@" + addr + ":99/?token=QTOK", // does not parse
	} {
		r := &sources.Remote{BaseURL: base, Token: adminToken, Client: &http.Client{Timeout: 2 * time.Second}}
		_, err := r.List(context.Background())
		if err == nil || strings.Contains(err.Error(), "SRVPASS") || strings.Contains(err.Error(), "QTOK") {
			t.Errorf("%s: err = %v", base, err)
		}
	}
}

// A receiver that redirects is not "unreachable": the error names the
// base URL to try instead.
func TestRemoteRedirectNamesTheBaseToTry(t *testing.T) {
	api := noredirecttest.New(t)
	r := &sources.Remote{BaseURL: api.URL, Token: adminToken, Client: &http.Client{Timeout: 2 * time.Second, CheckRedirect: noredirect.Check}}
	_, err := r.List(context.Background())
	if err == nil || strings.Contains(err.Error(), "cannot reach") || !strings.Contains(err.Error(), "if "+api.Target+" is the receiver, use it as --server") {
		t.Fatalf("err = %v", err)
	}
	if api.Reached() != 0 {
		t.Fatal("the token went to the redirect's target")
	}
}

// A proxy that serves the receiver under a prefix: the base to try keeps
// the prefix.
func TestRemoteRedirectKeepsAPrefix(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://proxy.example/tw"+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	r := &sources.Remote{BaseURL: srv.URL, Token: adminToken, Client: &http.Client{Timeout: 2 * time.Second, CheckRedirect: noredirect.Check}}
	_, err := r.List(context.Background())
	if err == nil || !strings.Contains(err.Error(), "if https://proxy.example/tw is the receiver, use it as --server") {
		t.Fatalf("err = %v", err)
	}
}

// "", "." and ".." are no source's name; sent, the server's router would
// take them for another endpoint.
func TestRemoteDotNamesAreNotFound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		t.Errorf("request sent: %s %s", req.Method, req.URL)
	}))
	defer srv.Close()
	r := &sources.Remote{BaseURL: srv.URL, Token: adminToken, Client: srv.Client()}
	ctx := context.Background()
	for _, name := range []string{".", "..", "", " "} {
		_, getErr := r.Get(ctx, name)
		_, updErr := r.Update(ctx, name, sources.Patch{Description: ptr("x")})
		_, _, rotErr := r.RotateSecret(ctx, name, "", time.Hour)
		for i, err := range []error{getErr, updErr, r.Remove(ctx, name), rotErr} {
			if !errors.Is(err, sources.ErrNotFound) {
				t.Errorf("%q, call %d: %v, want not found", name, i, err)
			}
		}
	}
}

// An answer too large to read whole is said to be so, not reported as
// JSON ending early.
func TestRemoteAnswerTooLarge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"webhooks":[`))
		item := []byte(`{"source":"` + strings.Repeat("x", 1<<20) + `"},`)
		for range 65 {
			_, _ = w.Write(item)
		}
		_, _ = w.Write([]byte(`{}]}`))
	}))
	defer srv.Close()
	r := &sources.Remote{BaseURL: srv.URL, Token: adminToken, Client: srv.Client()}
	_, err := r.List(context.Background())
	if err == nil || !strings.Contains(err.Error(), "over 64 MiB") || !strings.Contains(err.Error(), "--limit") {
		t.Errorf("err = %v, want the answer named too large", err)
	}
}
