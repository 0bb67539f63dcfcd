package threatstack

import (
	"fmt"
	"log/slog"
	"strings"
)

// Environment variables the Threat Stack API scripts and tw-cli read. The
// first three are the names Threat Stack documents for HAWK credentials.
const (
	EnvUserID         = "TS_USER_ID"
	EnvAPIKey         = "TS_API_KEY"
	EnvOrganizationID = "TS_ORGANIZATION_ID"
	EnvAPIURL         = "TS_API_URL"
)

// Credentials are the three values HAWK needs: the user id is the HAWK id,
// the API key is the HAWK key and the organization id travels as HAWK ext.
//
// String, GoString and LogValue never reveal APIKey, so a Credentials value
// can be printed or logged by mistake without leaking it.
type Credentials struct {
	UserID         string
	APIKey         string
	OrganizationID string
}

// CredentialsFromEnv reads TS_USER_ID, TS_API_KEY and TS_ORGANIZATION_ID
// through getenv (os.Getenv in production, a map lookup in tests).
func CredentialsFromEnv(getenv func(string) string) Credentials {
	return Credentials{
		UserID:         strings.TrimSpace(getenv(EnvUserID)),
		APIKey:         strings.TrimSpace(getenv(EnvAPIKey)),
		OrganizationID: strings.TrimSpace(getenv(EnvOrganizationID)),
	}
}

// Missing returns the environment variable names of the values that are
// empty, in the order Threat Stack documents them.
func (c Credentials) Missing() []string {
	var missing []string
	if c.UserID == "" {
		missing = append(missing, EnvUserID)
	}
	if c.APIKey == "" {
		missing = append(missing, EnvAPIKey)
	}
	if c.OrganizationID == "" {
		missing = append(missing, EnvOrganizationID)
	}
	return missing
}

// Validate returns a *MissingCredentialsError when any value is empty, and
// an *InvalidCredentialsError when the user id or organization id could not
// be written into a HAWK header (the API key only keys the MAC, so any
// bytes do).
func (c Credentials) Validate() error {
	if m := c.Missing(); len(m) > 0 {
		return &MissingCredentialsError{Missing: m}
	}
	for _, f := range []struct{ env, value string }{{EnvUserID, c.UserID}, {EnvOrganizationID, c.OrganizationID}} {
		if reason := headerUnsafe(f.value); reason != "" {
			return &InvalidCredentialsError{Variable: f.env, Reason: reason}
		}
	}
	return nil
}

// headerUnsafe says why s cannot be a HAWK header attribute value, or ""
// when it can. HAWK quotes values without escaping and Hawk servers accept
// only printable ASCII other than '"' and '\' there, so anything else would
// end the value early or be refused. The value itself is never quoted back:
// a pasted API key could be what is in the wrong variable.
func headerUnsafe(s string) string {
	pos := 0
	for _, r := range s {
		pos++
		var what string
		switch {
		case r == '"':
			what = "a double quote"
		case r == '\\':
			what = "a backslash"
		case r < 0x20 || r == 0x7f:
			what = "a control character"
		case r > 0x7e:
			what = "a non-ASCII character"
		default:
			continue
		}
		return fmt.Sprintf("contains %s (character %d)", what, pos)
	}
	return ""
}

// String shows whether a key is set, never the key.
func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{UserID: %q, APIKey: %s, OrganizationID: %q}",
		c.UserID, maskedKey(c.APIKey), c.OrganizationID)
}

// GoString keeps %#v from printing the key.
func (c Credentials) GoString() string { return "threatstack." + c.String() }

// LogValue keeps slog from printing the key.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("user_id", c.UserID),
		slog.String("api_key", maskedKey(c.APIKey)),
		slog.String("organization_id", c.OrganizationID),
	)
}

func maskedKey(key string) string {
	if key == "" {
		return "(unset)"
	}
	return redacted
}
