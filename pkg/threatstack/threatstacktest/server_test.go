package threatstacktest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hiyosi/hawk"
)

// signed builds a request signed directly with hiyosi/hawk's client, so the
// fake is tested independently of pkg/threatstack's signer.
type signed struct {
	method, url, id, key, ext, nonce, body string
	ts                                     int64
}

func (s signed) request(t *testing.T) *http.Request {
	t.Helper()
	if s.method == "" {
		s.method = http.MethodGet
	}
	if s.ts == 0 {
		s.ts = time.Now().Unix()
	}
	if s.nonce == "" {
		n, err := hawk.Nonce(6)
		if err != nil {
			t.Fatal(err)
		}
		s.nonce = n
	}
	opt := &hawk.Option{TimeStamp: s.ts, Nonce: s.nonce, Ext: s.ext}
	if s.body != "" {
		opt.Payload, opt.ContentType = s.body, "application/json"
	}
	h, err := hawk.NewClient(&hawk.Credential{ID: s.id, Key: s.key, Alg: hawk.SHA256}, opt).Header(s.method, s.url)
	if err != nil {
		t.Fatal(err)
	}
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(s.body)
	}
	req, err := http.NewRequest(s.method, s.url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", h)
	if s.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestAuthentication(t *testing.T) {
	srv := New(t)
	agents := srv.URL + "/v2/agents?status=online"
	replayed := signed{url: agents, id: UserID, key: APIKey, ext: OrganizationID, nonce: "fixed1"}

	tests := []struct {
		name       string
		req        signed
		wantStatus int
		wantError  string
	}{
		{"good", signed{url: agents, id: UserID, key: APIKey, ext: OrganizationID}, 200, ""},
		{"wrong key", signed{url: agents, id: UserID, key: "wrong", ext: OrganizationID}, 401, "Bad MAC"},
		{"unknown id", signed{url: agents, id: "someone", key: APIKey, ext: OrganizationID}, 401, "Credential"},
		{"wrong ext", signed{url: agents, id: UserID, key: APIKey, ext: "other-org"}, 401, "organization"},
		{"stale timestamp", signed{url: agents, id: UserID, key: APIKey, ext: OrganizationID, ts: time.Now().Add(-10 * time.Minute).Unix()}, 401, "Stale timestamp"},
		{"signed for another path", signed{url: srv.URL + "/v2/agents?status=offline", id: UserID, key: APIKey, ext: OrganizationID}, 401, "Bad MAC"},
		{"first use of a nonce", replayed, 200, ""},
		{"replayed nonce", replayed, 401, "nonce"},
		{"body hash", signed{method: "POST", url: srv.URL + "/v2/alerts/dismiss", id: UserID, key: APIKey, ext: OrganizationID,
			body: `{"ids":["` + AlertID(0) + `"],"dismissReason":"OTHER"}`}, 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req.request(t)
			if tt.name == "signed for another path" {
				// Signed for ?status=offline, sent for ?status=online.
				req.URL.RawQuery = "status=online"
			}
			resp, body := do(t, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantError != "" && !strings.Contains(string(body), tt.wantError) {
				t.Errorf("body %s does not mention %q", body, tt.wantError)
			}
		})
	}
}

func TestTamperedBodyFails(t *testing.T) {
	srv := New(t)
	req := signed{method: "POST", url: srv.URL + "/v2/alerts/dismiss", id: UserID, key: APIKey, ext: OrganizationID,
		body: `{"ids":["` + AlertID(0) + `"],"dismissReason":"OTHER"}`}.request(t)
	req.Body = io.NopCloser(strings.NewReader(`{"ids":["` + AlertID(1) + `"],"dismissReason":"OTHER"}`))
	resp, body := do(t, req)
	if resp.StatusCode != 401 || !strings.Contains(string(body), "payload hash") {
		t.Fatalf("status %d body %s, want 401 Bad payload hash", resp.StatusCode, body)
	}
}

func TestStaleTimestampChallengeCarriesServerTime(t *testing.T) {
	srv := New(t, WithClockSkew(2*time.Hour))
	resp, _ := do(t, signed{url: srv.URL + "/v2/agents?status=online", id: UserID, key: APIKey, ext: OrganizationID}.request(t))
	if resp.StatusCode != 401 {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	attrs := hawkAttrs(resp.Header.Get("WWW-Authenticate"))
	wantTS := srv.Now().Unix()
	ts := attrs["ts"]
	if ts == "" || attrs["tsm"] == "" {
		t.Fatalf("WWW-Authenticate %q lacks ts/tsm", resp.Header.Get("WWW-Authenticate"))
	}
	var got int64
	if err := json.Unmarshal([]byte(ts), &got); err != nil || got < wantTS-5 || got > wantTS {
		t.Fatalf("ts = %s, want about %d", ts, wantTS)
	}
	tsm := (&hawk.TsMac{TimeStamp: got, Credential: &hawk.Credential{Key: APIKey, Alg: hawk.SHA256}}).String()
	if attrs["tsm"] != tsm {
		t.Errorf("tsm does not verify with the key")
	}
}

func TestRequiredParameters(t *testing.T) {
	srv := New(t)
	for _, path := range []string{"/v2/agents", "/v2/agents?status=bogus", "/v2/alerts", "/v2/alerts?status=active&severity=9"} {
		resp, body := do(t, signed{url: srv.URL + path, id: UserID, key: APIKey, ext: OrganizationID}.request(t))
		if resp.StatusCode != 400 || !strings.Contains(string(body), `"errors"`) {
			t.Errorf("%s: status %d body %s, want 400 with errors", path, resp.StatusCode, body)
		}
	}
}

func TestPagingWithTokens(t *testing.T) {
	srv := New(t, WithPageSize(7))
	var total, pages int
	token := ""
	for {
		u := srv.URL + "/v2/agents?status=online"
		if token != "" {
			u += "&token=" + urlQueryEscape(token)
		}
		resp, body := do(t, signed{url: u, id: UserID, key: APIKey, ext: OrganizationID}.request(t))
		if resp.StatusCode != 200 {
			t.Fatalf("page %d: status %d: %s", pages, resp.StatusCode, body)
		}
		var page struct {
			Agents []map[string]any `json:"agents"`
			Token  *string          `json:"token"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		pages++
		total += len(page.Agents)
		if page.Token == nil {
			break
		}
		if !strings.HasPrefix(*page.Token, "+/") {
			t.Errorf("token %q should start with characters that need escaping", *page.Token)
		}
		token = *page.Token
	}
	online := 0
	for _, a := range srv.snapshot().Agents {
		if a["status"] == "online" {
			online++
		}
	}
	if total != online || pages != (online+6)/7 {
		t.Errorf("got %d agents in %d pages, want %d in %d", total, pages, online, (online+6)/7)
	}
}

func TestTokenMustKeepFilters(t *testing.T) {
	srv := New(t, WithPageSize(5))
	tok := encodeToken(5, "status=online")
	resp, body := do(t, signed{url: srv.URL + "/v2/agents?status=offline&token=" + urlQueryEscape(tok), id: UserID, key: APIKey, ext: OrganizationID}.request(t))
	if resp.StatusCode != 400 || !strings.Contains(string(body), "filters") {
		t.Fatalf("status %d body %s, want 400 about filters", resp.StatusCode, body)
	}
}

func urlQueryEscape(s string) string {
	r := strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D")
	return r.Replace(s)
}
