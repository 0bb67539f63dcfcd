package threatstack

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestTimeUnmarshal(t *testing.T) {
	want := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{`"2024-05-01T12:00:00Z"`, want},
		{`"2024-05-01T14:00:00+02:00"`, want},
		{`"2024-05-01T12:00:00.000Z"`, want},
		{`"2024-05-01T12:00:00"`, want},
		{`"2024-05-01 12:00:00"`, want},
		{`1714564800000`, want},
		{`"1714564800000"`, want},
		{`1714564800`, want},
		{`1.7145648e12`, want},
		{`null`, time.Time{}},
		{`""`, time.Time{}},
	}
	for _, tt := range tests {
		var got Time
		if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("%s = %v, want %v", tt.in, got.Time, tt.want)
		}
	}
	var bad Time
	if err := json.Unmarshal([]byte(`"yesterday"`), &bad); err == nil {
		t.Error("a non-time string must fail")
	}
}

func TestTimeMarshal(t *testing.T) {
	b, _ := json.Marshal(Time{time.Date(2024, 5, 1, 14, 0, 0, 0, time.FixedZone("x", 7200))})
	if string(b) != `"2024-05-01T12:00:00Z"` {
		t.Errorf("got %s", b)
	}
	b, _ = json.Marshal(Time{})
	if string(b) != "null" {
		t.Errorf("zero time: %s", b)
	}
}

func TestLenientDecodingKeepsTheRest(t *testing.T) {
	in := `{"id":"a1","severity":"2","isDismissed":"true","createdAt":1714564800000,
		"agentId":12345,"title":{"unexpected":"object"},"futureField":[1,2,3]}`
	var a Alert
	if err := json.Unmarshal([]byte(in), &a); err != nil {
		t.Fatal(err)
	}
	if a.ID != "a1" || a.Severity != 2 || !a.IsDismissed || a.AgentID != "12345" || a.CreatedAt.IsZero() {
		t.Errorf("typed view %+v", a)
	}
	if a.Title != "" {
		t.Errorf("a title of the wrong type should stay empty, got %q", a.Title)
	}
	out, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"futureField":[1,2,3]`) || !strings.Contains(string(out), `"unexpected"`) {
		t.Errorf("MarshalJSON dropped fields: %s", out)
	}
}

func TestTypedMarshalWhenBuiltInCode(t *testing.T) {
	out, err := json.Marshal(Agent{ID: "x", Status: "online", IPAddresses: IPAddresses{Private: StringList{"10.0.0.1/32"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"id":"x"`) || !strings.Contains(string(out), `"private":["10.0.0.1/32"]`) {
		t.Errorf("got %s", out)
	}
}

func TestAgentIPsAcceptStringOrList(t *testing.T) {
	var a Agent
	in := `{"id":"x","ipAddresses":{"private":"10.0.0.1/32","public":["1.2.3.4/32","5.6.7.8/32"],"link_local":null}}`
	if err := json.Unmarshal([]byte(in), &a); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.AllIPs(), ","); got != "10.0.0.1/32,1.2.3.4/32,5.6.7.8/32" {
		t.Errorf("AllIPs = %s", got)
	}
}

func TestDecodePage(t *testing.T) {
	tests := []struct {
		name, body, items, token string
	}{
		{"token", `{"agents":[1],"token":"abc"}`, `[1]`, "abc"},
		{"paginationToken", `{"agents":[1],"paginationToken":"abc"}`, `[1]`, "abc"},
		{"null token", `{"agents":[1],"token":null}`, `[1]`, ""},
		{"empty token", `{"agents":[1],"token":""}`, `[1]`, ""},
		{"absent token", `{"agents":[1]}`, `[1]`, ""},
		{"null token falls back", `{"agents":[],"token":null,"paginationToken":"p"}`, `[]`, "p"},
		{"fallback key", `{"packages":[2]}`, `[2]`, ""},
		{"bare array", ` [3] `, `[3]`, ""},
	}
	for _, tt := range tests {
		items, token, err := decodePage([]byte(tt.body), []string{"agents", "packages"})
		if err != nil || string(items) != tt.items || token != tt.token {
			t.Errorf("%s: items %s token %q err %v", tt.name, items, token, err)
		}
	}
	if _, _, err := decodePage([]byte(`<html>`), []string{"agents"}); err == nil {
		t.Error("HTML must not decode as a page")
	}
	// A body without the list is not an empty page: "{"data":[…]}" from
	// an API that changed would list nothing and exit 0.
	for _, body := range []string{`{"token":"t"}`, `{"data":[1,2]}`} {
		_, _, err := decodePage([]byte(body), []string{"agents", "packages"})
		if err == nil {
			t.Errorf("%s decoded as a page", body)
		} else if want := `response has no "agents" or "packages" list`; !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %q, want %q", body, err, want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"seconds", map[string]string{"Retry-After": "7"}, 7 * time.Second},
		{"http date", map[string]string{"Retry-After": "Wed, 01 May 2024 12:00:30 GMT"}, 30 * time.Second},
		{"date in the past", map[string]string{"Retry-After": "Wed, 01 May 2024 11:00:00 GMT"}, 0},
		{"reset ms", map[string]string{"X-Rate-Limit-Reset": "1500"}, 1500 * time.Millisecond},
		{"Retry-After wins", map[string]string{"Retry-After": "2", "X-Rate-Limit-Reset": "100"}, 2 * time.Second},
		{"garbage", map[string]string{"Retry-After": "soon", "X-Rate-Limit-Reset": "-1"}, 0},
		{"reset too large saturates", map[string]string{"X-Rate-Limit-Reset": "9223372036854775807"}, time.Duration(math.MaxInt64 / int64(time.Millisecond) * int64(time.Millisecond))},
		{"none", nil, 0},
	}
	for _, tt := range tests {
		h := make(map[string][]string)
		for k, v := range tt.header {
			h[k] = []string{v}
		}
		if got := retryDelay(h, now); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRateLimitPause(t *testing.T) {
	tests := []struct {
		name             string
		remaining, reset string
		want             time.Duration
	}{
		{"spent", "0", "1500", 1500 * time.Millisecond},
		{"spent, capped", "0", "9223372036854775807", time.Minute},
		{"requests left", "3", "1500", 0},
		{"no reset", "0", "", 0},
		{"no remaining header", "", "1500", 0},
		{"garbage", "none", "soon", 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.remaining != "" {
			h.Set("X-Rate-Limit-Remaining", tt.remaining)
		}
		if tt.reset != "" {
			h.Set("X-Rate-Limit-Reset", tt.reset)
		}
		if got := rateLimitPause(h, time.Minute); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"errors":["a","b"]}`, "a|b"},
		{`{"errors":[{"code":1}]}`, `{"code":1}`},
		{"<html>\n<body>bad gateway</body>", "<html>"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(errorMessages([]byte(tt.body)), "|"); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.body, got, tt.want)
		}
	}
}

// Epoch values no API means (overflowing int64, before 1970, after 9999,
// not finite) read as unknown instead of a wrapped or 1970 date.
func TestTimeOutOfRangeIsUnknown(t *testing.T) {
	for _, in := range []string{`1e300`, `-1e308`, `-1`, `0`, `1e400`, `"1e400"`, `"NaN"`, `"Infinity"`, `"-Inf"`,
		`253402300800000`, `9223372036854775807`, `-9223372036854775808`} {
		var got Time
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !got.IsZero() {
			t.Errorf("%s = %v, want the zero time", in, got.Time)
		}
	}
	var last Time
	if err := json.Unmarshal([]byte(`253402300799999`), &last); err != nil || last.Year() != 9999 {
		t.Errorf("the last millisecond of 9999: %v, %v", last.Time, err)
	}
}

func TestPageToken(t *testing.T) {
	tests := []struct {
		body, want string
		wantErr    bool
	}{
		{`{"token":"abc"}`, "abc", false},
		{`{"token":12345}`, "12345", false},
		{`{"token":1.5e3}`, "1.5e3", false},
		{`{"token":null,"paginationToken":7}`, "7", false},
		{`{"token":"","paginationToken":"p"}`, "p", false},
		{`{"token":null}`, "", false},
		{`{}`, "", false},
		{`{"token":false}`, "", true},
		{`{"paginationToken":{"a":1}}`, "", true},
	}
	for _, tt := range tests {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(tt.body), &obj); err != nil {
			t.Fatal(err)
		}
		got, err := pageToken(obj)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: %q, %v; want %q (error %v)", tt.body, got, err, tt.want, tt.wantErr)
		}
	}
}

// An agent without a health report is not an unhealthy one: `agents get`
// showed "healthy no" for it.
func TestAgentHealthMayBeUnknown(t *testing.T) {
	for in, want := range map[string]string{
		`{"id":"a"}`: "unknown",
		`{"id":"a","agentModuleHealth":{"isHealthy":false}}`: "false",
		`{"id":"a","agentModuleHealth":{"isHealthy":true}}`:  "true",
	} {
		var a Agent
		if err := json.Unmarshal([]byte(in), &a); err != nil {
			t.Fatal(err)
		}
		got := "unknown"
		if h := a.AgentModuleHealth.IsHealthy; h != nil {
			got = fmt.Sprint(*h)
		}
		if got != want {
			t.Errorf("%s: health %s, want %s", in, got, want)
		}
	}
}
