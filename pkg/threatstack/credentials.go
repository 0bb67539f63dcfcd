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

// Validate returns a *MissingCredentialsError when any value is empty.
func (c Credentials) Validate() error {
	if m := c.Missing(); len(m) > 0 {
		return &MissingCredentialsError{Missing: m}
	}
	return nil
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
