// Package redact hides the credentials a URL can carry before it is shown:
// in listings, errors and --debug output; InClear tells when a URL would
// expose them on the network.
package redact

import (
	"net"
	"net/url"
	"slices"
	"strings"
)

// sensitiveParams are query parameters whose values are credentials.
var sensitiveParams = []string{"token", "auth_token", "api_key", "key", "secret", "password"}

// CredentialParam reports whether a query parameter's value is a
// credential that Credentials hides.
func CredentialParam(name string) bool { return slices.Contains(sensitiveParams, name) }

// Credentials prints u without its password, and with the values of credential
// query parameters (token, auth_token, api_key, key, secret, password)
// replaced, keeping the rest: for URLs whose path is no secret, such as
// an API base URL or a database URL.
func Credentials(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	// "user:pw@host:port" without a scheme parses as scheme "user" and
	// opaque "pw@host:port".
	if at := strings.LastIndexByte(c.Opaque, '@'); at >= 0 {
		c.Scheme, c.Opaque = "", "REDACTED@"+c.Opaque[at+1:]
	}
	q := c.Query()
	changed := false
	for _, p := range sensitiveParams {
		if q.Has(p) {
			q.Set(p, "REDACTED")
			changed = true
		}
	}
	if changed {
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// CredentialsString is Credentials for a URL in a string. One that does
// not parse (127.0.0.1:8080, a scheme left out) is what its owner must
// see to fix it: shown as written less its query, unless it holds an '@'.
// Then where credentials end cannot be told (a password may hold '/',
// '?' or '@', a query an address), and only its scheme is shown.
func CredentialsString(raw string) string {
	u, err := url.Parse(raw)
	// An '@' the parser did not take as the end of the user part may be
	// a password spilled into the host, path, query or fragment
	// (https://admin:1234/pw@host parses, host "admin:1234").
	switch {
	case err == nil && (!strings.Contains(raw, "@") || (u.User != nil && strings.Count(raw, "@") == 1)):
		return Credentials(u)
	case err == nil && u.User == nil && looksLikeHost(u.Hostname()):
		// A name with a dot or an address is a host, not a token cut at
		// a '/' in it; a port may start a password.
		return u.Scheme + "://" + u.Hostname() + "/REDACTED"
	}
	if strings.Contains(raw, "@") {
		if i := strings.Index(raw, "://"); i >= 0 {
			return raw[:i+3] + "REDACTED"
		}
		return "REDACTED"
	}
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		return raw[:i] + "?REDACTED"
	}
	return raw
}

// looksLikeHost reports whether h reads as a host: an IP address,
// localhost, or a dotted DNS name. A user name or token cut short by a
// '/' in it (https://dXNlcjpwYXNz/Zm9v@host) is none of these.
func looksLikeHost(h string) bool {
	if net.ParseIP(h) != nil || h == "localhost" {
		return true
	}
	if !strings.Contains(h, ".") {
		return false
	}
	for _, r := range h {
		if !(r == '.' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// URL keeps a URL's scheme and host only: Slack and Teams webhook URLs
// carry their token in the path, and generic ones may in the query.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	out := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		out += "/…"
	}
	return out
}

// InClear reports whether a credential sent to rawURL would cross the
// network unencrypted: plain http to a host other than localhost or a
// loopback address. On-premises servers and test ones may use http, so
// this is for a warning, not a refusal.
func InClear(rawURL string) bool {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || !strings.EqualFold(u.Scheme, "http") {
		return false
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
