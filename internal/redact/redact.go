// Package redact hides the credentials a URL can carry before it is shown:
// in listings, errors and --debug output.
package redact

import "net/url"

// sensitiveParams are query parameters whose values are credentials.
var sensitiveParams = []string{"token", "auth_token", "api_key", "key", "secret", "password"}

// Credentials prints u without its password, and with the values of credential
// query parameters (token, auth_token, api_key, key, secret, password)
// replaced, keeping the rest: for URLs whose path is no secret, such as
// an API base URL or a database URL.
func Credentials(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
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

// CredentialsString is Credentials for a URL in a string; one that does
// not parse is shown as "(invalid URL)", since it cannot be taken apart.
func CredentialsString(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return Credentials(u)
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
