package threatstack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// specMAC computes a Hawk header MAC from the normalized string of the Hawk
// specification, written out independently of hiyosi/hawk so the tests
// check what goes on the wire rather than the library against itself.
func specMAC(key string, ts int64, nonce, method, requestURI, host, port, hash, ext string) string {
	norm := "hawk.1.header\n" + strconv.FormatInt(ts, 10) + "\n" + nonce + "\n" + method + "\n" +
		requestURI + "\n" + host + "\n" + port + "\n" + hash + "\n" + ext + "\n"
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(norm))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func specPayloadHash(contentType, payload string) string {
	h := sha256.Sum256([]byte("hawk.1.payload\n" + contentType + "\n" + payload + "\n"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// The header example of the Hawk specification validates specMAC itself.
func TestSpecMACMatchesHawkSpecification(t *testing.T) {
	got := specMAC("werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn", 1353832234, "j4h3g2", "GET",
		"/resource/1?b=1&a=2", "example.com", "8000", "", "some-app-ext-data")
	if want := "6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE="; got != want {
		t.Fatalf("specMAC = %s, want the specification's %s", got, want)
	}
	if got, want := specPayloadHash("text/plain", "Thank you for flying Hawk"), "Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY="; got != want {
		t.Fatalf("specPayloadHash = %s, want %s", got, want)
	}
}

// The specification's own examples, sent through the client with the
// specification's credentials, clock, nonce and ext: the header must be
// the published one, character for character.
func TestClientReproducesHawkSpecificationExamples(t *testing.T) {
	c, err := New(Credentials{UserID: "dh37fgj492je", APIKey: "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn", OrganizationID: "some-app-ext-data"},
		WithClock(func() time.Time { return time.Unix(1353832234, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	c.nonce = func() (string, error) { return "j4h3g2", nil }

	get, _ := http.NewRequest(http.MethodGet, "http://example.com:8000/resource/1?b=1&a=2", nil)
	if err := c.signRequest(nil, get); err != nil {
		t.Fatal(err)
	}
	want := `Hawk id="dh37fgj492je", ts="1353832234", nonce="j4h3g2", ext="some-app-ext-data", mac="6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE="`
	if got := get.Header.Get("Authorization"); got != want {
		t.Errorf("GET header\n got %s\nwant %s", got, want)
	}

	post, _ := http.NewRequest(http.MethodPost, "http://example.com:8000/resource/1?b=1&a=2", strings.NewReader("Thank you for flying Hawk"))
	post.Header.Set("Content-Type", "text/plain")
	if err := c.signRequest(nil, post); err != nil {
		t.Fatal(err)
	}
	attrs := parseHawkHeader(post.Header.Get("Authorization"))
	if attrs["hash"] != "Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY=" || attrs["mac"] != "aSe1DERmZuRl3pI36/9BdZmnErTw3sNzOOAUlfeKjVw=" {
		t.Errorf("POST hash %s mac %s, want the specification's payload example", attrs["hash"], attrs["mac"])
	}
	// And the independent implementation agrees on the POST vector.
	if got := specMAC(c.creds.APIKey, 1353832234, "j4h3g2", "POST", "/resource/1?b=1&a=2", "example.com", "8000",
		specPayloadHash("text/plain", "Thank you for flying Hawk"), "some-app-ext-data"); got != attrs["mac"] {
		t.Errorf("specMAC %s disagrees with the client's %s", got, attrs["mac"])
	}
}

func testClient(t *testing.T, now time.Time) *Client {
	t.Helper()
	c, err := New(Credentials{UserID: "dh37fgj492je", APIKey: "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn", OrganizationID: "org-1"},
		WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSignRequestCoversTheWireURI(t *testing.T) {
	now := time.Unix(1353832234, 0)
	tests := []struct {
		name, url, wantURI, host, port string
	}{
		{"query order kept", "http://example.com:8000/resource/1?b=1&a=2", "/resource/1?b=1&a=2", "example.com", "8000"},
		{"escaped space stays escaped", "https://api.example.com/v2/agents/a%20b", "/v2/agents/a%20b", "api.example.com", "443"},
		{"escaped slash", "https://api.example.com/v2/vulnerabilities/package/lib%2Fssl", "/v2/vulnerabilities/package/lib%2Fssl", "api.example.com", "443"},
		{"escaped token", "http://127.0.0.1:9/v2/agents?status=online&token=%2B%2Fabc%3D", "/v2/agents?status=online&token=%2B%2Fabc%3D", "127.0.0.1", "9"},
		{"percent and bang", "http://h:1/a%25b!c?x=%20", "/a%25b!c?x=%20", "h", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testClient(t, now)
			req, err := http.NewRequest(http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := req.URL.RequestURI(); got != tt.wantURI {
				t.Fatalf("test setup: wire URI %q, want %q", got, tt.wantURI)
			}
			if err := c.signRequest(nil, req); err != nil {
				t.Fatal(err)
			}
			attrs := parseHawkHeader(req.Header.Get("Authorization"))
			if attrs["id"] != "dh37fgj492je" || attrs["ext"] != "org-1" || attrs["ts"] != "1353832234" {
				t.Fatalf("attributes %v", attrs)
			}
			if _, ok := attrs["hash"]; ok {
				t.Errorf("a request without a body must not carry a payload hash")
			}
			want := specMAC(c.creds.APIKey, 1353832234, attrs["nonce"], "GET", tt.wantURI, tt.host, tt.port, "", "org-1")
			if attrs["mac"] != want {
				t.Errorf("mac %s does not cover the wire URI %s (want %s)", attrs["mac"], tt.wantURI, want)
			}
		})
	}
}

func TestSignRequestHashesBody(t *testing.T) {
	c := testClient(t, time.Unix(1353832234, 0))
	req, err := http.NewRequest(http.MethodPost, "http://example.com:8000/resource/1?b=1&a=2", strings.NewReader("Thank you for flying Hawk"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain")
	if err := c.signRequest(nil, req); err != nil {
		t.Fatal(err)
	}
	attrs := parseHawkHeader(req.Header.Get("Authorization"))
	if want := "Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY="; attrs["hash"] != want {
		t.Fatalf("hash = %q, want the specification's %q", attrs["hash"], want)
	}
	want := specMAC(c.creds.APIKey, 1353832234, attrs["nonce"], "POST", "/resource/1?b=1&a=2", "example.com", "8000", attrs["hash"], "org-1")
	if attrs["mac"] != want {
		t.Errorf("mac does not cover the payload hash")
	}
	// The body must still be readable after signing.
	b := make([]byte, 64)
	n, _ := req.Body.Read(b)
	if string(b[:n]) != "Thank you for flying Hawk" {
		t.Errorf("signing consumed the body: %q", b[:n])
	}
}

func TestEachSignatureHasAFreshNonce(t *testing.T) {
	c := testClient(t, time.Unix(1353832234, 0))
	seen := map[string]bool{}
	for range 50 {
		req, _ := http.NewRequest(http.MethodGet, "http://example.com/x", nil)
		if err := c.signRequest(nil, req); err != nil {
			t.Fatal(err)
		}
		n := parseHawkHeader(req.Header.Get("Authorization"))["nonce"]
		if seen[n] {
			t.Fatalf("nonce %q reused", n)
		}
		seen[n] = true
	}
}

func TestHawkTimeAppliesOffset(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := testClient(t, now)
	c.offset.Store(-90)
	req, _ := http.NewRequest(http.MethodGet, "http://example.com/x", nil)
	if err := c.signRequest(nil, req); err != nil {
		t.Fatal(err)
	}
	if got := parseHawkHeader(req.Header.Get("Authorization"))["ts"]; got != "1699999910" {
		t.Errorf("ts = %s, want now-90s", got)
	}
}

func TestParseHawkHeader(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
	}{
		{`Hawk ts="1", tsm="abc=", error="Stale timestamp"`, map[string]string{"ts": "1", "tsm": "abc=", "error": "Stale timestamp"}},
		{`hawk mac="m/+=",hash="h"`, map[string]string{"mac": "m/+=", "hash": "h"}},
		{`Bearer abc`, nil},
		{``, nil},
	}
	for _, tt := range tests {
		got := parseHawkHeader(tt.in)
		if len(got) != len(tt.want) || (tt.want == nil) != (got == nil) {
			t.Errorf("parseHawkHeader(%q) = %v, want %v", tt.in, got, tt.want)
			continue
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("parseHawkHeader(%q)[%s] = %q, want %q", tt.in, k, got[k], v)
			}
		}
	}
}

func TestEscapeQuery(t *testing.T) {
	for in, want := range map[string]string{
		"/v2/agents":                        "/v2/agents",
		"/v2/a b":                           "/v2/a b", // net/http escapes the path itself
		"/v2/x?q=a b":                       "/v2/x?q=a%20b",
		"/v2/x?q=\u00fc":                    "/v2/x?q=%C3%BC",
		"/v2/x?q=a\tb\x7f":                  "/v2/x?q=a%09b%7F",
		"/v2/x?q=%20%zz+a&b=c/d?e":          "/v2/x?q=%20%zz+a&b=c/d?e", // as typed; %zz is refused later
		"/v2/x?q=a b#frag ment":             "/v2/x?q=a%20b#frag ment",
		"/v2/x?":                            "/v2/x?",
		"/v2/x?token=%2B%2Fabc%3D&n=\u00e9": "/v2/x?token=%2B%2Fabc%3D&n=%C3%A9",
	} {
		if got := escapeQuery(in); got != want {
			t.Errorf("escapeQuery(%q) = %q, want %q", in, got, want)
		}
	}
}
