package threatstacktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// specHeader signs a request by hand from the normalized string of the Hawk
// specification, independently of hiyosi/hawk and of the fake's verifier.
// The request-target is used exactly as it will go on the wire.
type specHeader struct {
	method, target       string // target: path and query, as sent
	hash, nonce, ext     string
	ts                   int64
	key, id, macOverride string
}

func (h specHeader) String(host, port string) string {
	if h.method == "" {
		h.method = http.MethodGet
	}
	if h.ts == 0 {
		h.ts = time.Now().Unix()
	}
	if h.key == "" {
		h.key = APIKey
	}
	if h.id == "" {
		h.id = UserID
	}
	norm := "hawk.1.header\n" + strconv.FormatInt(h.ts, 10) + "\n" + h.nonce + "\n" + h.method + "\n" +
		h.target + "\n" + host + "\n" + port + "\n" + h.hash + "\n" + h.ext + "\n"
	m := hmac.New(sha256.New, []byte(h.key))
	m.Write([]byte(norm))
	mac := base64.StdEncoding.EncodeToString(m.Sum(nil))
	if h.macOverride != "" {
		mac = h.macOverride
	}
	out := `Hawk id="` + h.id + `", ts="` + strconv.FormatInt(h.ts, 10) + `", nonce="` + h.nonce + `"`
	if h.hash != "" {
		out += `, hash="` + h.hash + `"`
	}
	return out + `, ext="` + h.ext + `", mac="` + mac + `"`
}

func specPayloadHash(contentType, payload string) string {
	sum := sha256.Sum256([]byte("hawk.1.payload\n" + contentType + "\n" + payload + "\n"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// sendRaw sends target to srv with the Authorization header given, leaving
// the request-target untouched (net/http would otherwise drop "?&").
func sendRaw(t *testing.T, srv *Server, method, target, authorization string) (int, string) {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL = &url.URL{Scheme: u.Scheme, Host: u.Host, Opaque: target}
	req.Header.Set("Authorization", authorization)
	resp, body := do(t, req)
	return resp.StatusCode, string(body)
}

func hostPort(t *testing.T, srv *Server) (string, string) {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname(), u.Port()
}

// The fake checks what the specification says, not what hiyosi/hawk does.
func TestFakeFollowsHawkSpecification(t *testing.T) {
	srv := New(t)
	host, port := hostPort(t, srv)
	emptyHash := specPayloadHash("", "")
	tests := []struct {
		name       string
		target     string
		h          specHeader
		header     string // used instead of h when set
		wantStatus int
		wantError  string
	}{
		{"signed by hand", "/v2/agents?status=online", specHeader{nonce: "n1", ext: OrganizationID}, "", 200, ""},
		{"query without parameters is part of the MAC", "/v2/rulesets?&", specHeader{nonce: "n2", ext: OrganizationID}, "", 200, ""},
		{"hash of the empty payload on a GET", "/v2/rulesets", specHeader{nonce: "n3", ext: OrganizationID, hash: emptyHash}, "", 200, ""},
		{"other hash on a GET", "/v2/rulesets", specHeader{nonce: "n4", ext: OrganizationID, hash: specPayloadHash("application/json", "{}")}, "", 401, "Bad payload hash"},
		{"short mac", "/v2/rulesets", specHeader{nonce: "n5", ext: OrganizationID, macOverride: "x"}, "", 401, "Bad MAC"},
		{"long mac", "/v2/rulesets", specHeader{nonce: "n6", ext: OrganizationID, macOverride: strings.Repeat("A", 200)}, "", 401, "Bad MAC"},
		{"short hash", "/v2/rulesets", specHeader{nonce: "n7", ext: OrganizationID, hash: "x"}, "", 401, "Bad payload hash"},
		{"non-ASCII mac", "/v2/rulesets", specHeader{nonce: "n8", ext: OrganizationID, macOverride: strings.Repeat("é", 22)}, "", 401, "Bad attribute value"},
		{"quote in an id", "/v2/rulesets", specHeader{nonce: "n9", ext: OrganizationID, id: `a"b`}, "", 401, "Bad header format"},
		{"duplicate attribute", "/v2/rulesets", specHeader{}, `Hawk id="` + UserID + `", id="` + UserID + `", ts="1", nonce="n", mac="m"`, 401, "Duplicate attribute"},
		{"unknown attribute", "/v2/rulesets", specHeader{}, `Hawk id="` + UserID + `", ts="1", nonce="n", mac="m", foo="bar"`, 401, "Unknown attribute"},
		{"missing mac", "/v2/rulesets", specHeader{}, `Hawk id="` + UserID + `", ts="1", nonce="n"`, 401, "Missing attributes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == "" {
				tt.h.target = tt.target
				h = tt.h.String(host, port)
			}
			status, body := sendRaw(t, srv, http.MethodGet, tt.target, h)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantError) {
				t.Errorf("status %d body %s, want %d %q", status, body, tt.wantStatus, tt.wantError)
			}
		})
	}
}

// hiyosi/hawk leaves a query without parameters out of the MAC; a Hawk
// server covers the request-target as sent, so such a request is refused.
func TestLibrarySignedEmptyQueryIsRefused(t *testing.T) {
	srv := New(t)
	req := signed{url: srv.URL + "/v2/rulesets?&", id: UserID, key: APIKey, ext: OrganizationID}.request(t)
	status, body := sendRaw(t, srv, http.MethodGet, "/v2/rulesets?&", req.Header.Get("Authorization"))
	if status != 401 || !strings.Contains(body, "Bad MAC") {
		t.Errorf("status %d body %s, want 401 Bad MAC", status, body)
	}
}
