package threatstack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/syncbuf"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
	"github.com/tw-cli/tw-cli/pkg/threatstack/threatstacktest"
)

func TestKeyNeverPrinted(t *testing.T) {
	key := threatstacktest.APIKey
	srv := threatstacktest.New(t)
	c := newClient(t, srv)
	cfg, err := threatstack.ParseScriptConfig(strings.NewReader("[USER_INFO]\nTS_USER_ID = u\nTS_API_KEY = " + key + "\n[DEFAULT]\nTS_ORGANIZATION_ID = o\n"))
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("creds", "creds", fakeCreds)

	for name, s := range map[string]string{
		"%v creds":        fmt.Sprintf("%v", fakeCreds),
		"%+v creds":       fmt.Sprintf("%+v", fakeCreds),
		"%#v creds":       fmt.Sprintf("%#v", fakeCreds),
		"%s creds":        fmt.Sprintf("%s", fakeCreds),
		"%v &creds":       fmt.Sprintf("%v", &fakeCreds),
		"%v client":       fmt.Sprintf("%v", c),
		"%+v client":      fmt.Sprintf("%+v", c),
		"%#v client":      fmt.Sprintf("%#v", c),
		"%v script cfg":   fmt.Sprintf("%v", *cfg),
		"%#v script cfg":  fmt.Sprintf("%#v", cfg),
		"slog LogValuer":  logged.String(),
		"missing creds":   threatstack.Credentials{APIKey: key}.Validate().Error(),
		"creds in a list": fmt.Sprint([]threatstack.Credentials{fakeCreds}),
	} {
		if strings.Contains(s, key) {
			t.Errorf("%s leaks the key: %s", name, s)
		}
	}
	if !strings.Contains(fakeCreds.String(), threatstacktest.UserID) {
		t.Errorf("String() should still show the user id: %s", fakeCreds)
	}
}

func TestKeyNeverInErrorsOrLogs(t *testing.T) {
	key := threatstacktest.APIKey
	srv := threatstacktest.New(t, threatstacktest.WithClockSkew(time.Hour), threatstacktest.WithPageSize(50))
	// A server (or a proxy in front of it) echoing the key back, raw and
	// URL-escaped, in an error body and a header.
	echo := fmt.Sprintf(`{"errors":["bad key %s","escaped %s"]}`, key, url.QueryEscape(key))
	srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/rulesets", Status: 500, Body: echo, Times: 10,
		Header: http.Header{"X-Debug": {key}}})
	srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/alerts/severity-counts", Status: 429, Body: echo,
		Header: http.Header{"X-Rate-Limit-Reset": {"20"}}})

	var logs syncbuf.Buffer
	c := newClient(t, srv, threatstack.WithRetries(1),
		threatstack.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ctx := context.Background()

	if _, err := threatstack.Collect(c.AgentPages(ctx, threatstack.AgentListOptions{})); err != nil {
		t.Fatalf("paging through a skewed clock: %v", err)
	}
	if _, err := c.AlertSeverityCounts(ctx); err != nil {
		t.Fatalf("after a 429: %v", err)
	}
	_, listErr := threatstack.Collect(c.RulesetPages(ctx))
	var apiErr *threatstack.APIError
	if !errors.As(listErr, &apiErr) {
		t.Fatalf("err = %v, want an APIError", listErr)
	}
	resp, doErr := c.Do(ctx, "GET", "/v2/rulesets", nil, nil)
	if doErr == nil || resp == nil {
		t.Fatalf("Do: %v", doErr)
	}
	if _, err := c.GetAgent(ctx, key); !threatstack.IsNotFound(err) {
		t.Fatalf("GetAgent(key): %v", err)
	}
	badKey, err := threatstack.New(threatstack.Credentials{UserID: "u", APIKey: "wrong-" + key, OrganizationID: "o"},
		threatstack.WithBaseURL(srv.URL), threatstack.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	_, authErr := badKey.SelfTest(ctx)

	for name, s := range map[string]string{
		"error":          listErr.Error(),
		"messages":       strings.Join(apiErr.Messages, " "),
		"body":           string(apiErr.Body),
		"Do body":        string(resp.Body),
		"Do error":       doErr.Error(),
		"auth error":     authErr.Error(),
		"debug log":      logs.String(),
		"not found path": fmt.Sprint(c.GetAgent(ctx, key)),
	} {
		if strings.Contains(s, key) || strings.Contains(s, url.QueryEscape(key)) {
			t.Errorf("%s leaks the key: %s", name, s)
		}
	}
	if !strings.Contains(apiErr.Error(), "[REDACTED]") {
		t.Errorf("the echoed key should show as redacted: %s", apiErr)
	}
	for _, want := range []string{"signed request", "clock skew", "retrying", "status=429"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("debug log lacks %q: the test would prove nothing without logging", want)
		}
	}
}
