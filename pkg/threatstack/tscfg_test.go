package threatstack

import (
	"strings"
	"testing"
)

// sampleCfg follows the public scripts' threatstack.cfg.sample, with the
// liberties configparser allows.
const sampleCfg = "\uFEFF" + `# Threat Stack API scripts configuration
[USER_INFO]
; TS_USER_ID - User ID of the API key holder
TS_USER_ID = 5f9a1c2e4b0d7e6f8a9b0c1d
ts_api_key: 'k3y/with%%percent'

[DEFAULT]
TS_ORGANIZATION_ID = 5c6d7e8f9a0b1c2d3e4f5a6b
TS_ORGANIZATION_NAME = "Production"
REGION = us-east-1

[STAGING]            ; chosen with --org STAGING
Ts_Organization_Id = 60aa00bb11cc22dd33ee44ff
TS_ORGANIZATION_NAME = "Staging %(region)s"

[sandbox]
TS_ORGANIZATION_NAME = Sandbox
NOTES = first line
    second line

    after a blank line
`

func TestParseINIConfigparserSemantics(t *testing.T) {
	ini, err := ParseINI(strings.NewReader(sampleCfg))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ini.Sections(), ","); got != "USER_INFO,STAGING,sandbox" {
		t.Errorf("sections %s", got)
	}
	tests := []struct {
		section, key, want string
		found              bool
	}{
		{"USER_INFO", "TS_USER_ID", "5f9a1c2e4b0d7e6f8a9b0c1d", true},
		{"USER_INFO", "ts_user_id", "5f9a1c2e4b0d7e6f8a9b0c1d", true},
		{"USER_INFO", "TS_API_KEY", "k3y/with%percent", true},
		{"USER_INFO", "TS_ORGANIZATION_ID", "5c6d7e8f9a0b1c2d3e4f5a6b", true},
		{"DEFAULT", "ts_organization_name", "Production", true},
		{"STAGING", "TS_ORGANIZATION_ID", "60aa00bb11cc22dd33ee44ff", true},
		{"STAGING", "TS_ORGANIZATION_NAME", "Staging us-east-1", true},
		{"sandbox", "TS_ORGANIZATION_ID", "5c6d7e8f9a0b1c2d3e4f5a6b", true},
		{"sandbox", "notes", "first line\nsecond line\n\nafter a blank line", true},
		{"Sandbox", "TS_ORGANIZATION_NAME", "", false},
		{"STAGING", "missing", "", false},
	}
	for _, tt := range tests {
		got, found, err := ini.Get(tt.section, tt.key)
		if err != nil || found != tt.found || got != tt.want {
			t.Errorf("Get(%s, %s) = %q, %v, %v; want %q, %v", tt.section, tt.key, got, found, err, tt.want, tt.found)
		}
	}
}

func TestParseINIErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"duplicate section", "[a]\nx=1\n[a]\n", "line 3: section \"a\" already exists"},
		{"duplicate key, any case", "[a]\nKey=1\nkey=2\n", "line 3: key \"key\" already set"},
		{"before any section", "x = 1\n", "line 1: text before the first [section]"},
		{"no delimiter", "[a]\nTS_API_KEY secret\n", "line 2: want key = value"},
		{"empty header", "[]\n", "line 1: malformed section header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseINI(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error quotes the line: %v", err)
			}
		})
	}
}

func TestINIInterpolationErrors(t *testing.T) {
	ini, err := ParseINI(strings.NewReader("[a]\nbad = 50%\nloop = %(loop)s\nmissing = %(nope)s\n"))
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"bad": "must be followed", "loop": "deeper", "missing": "missing key"} {
		if _, _, err := ini.Get("a", key); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", key, err, want)
		}
	}
}

func TestUnquote(t *testing.T) {
	for in, want := range map[string]string{
		`"x"`: "x", `'x'`: "x", `"x'`: `"x'`, `""x""`: `"x"`, `"`: `"`, `''`: "", `x"`: `x"`,
	} {
		if got := unquote(in); got != want {
			t.Errorf("unquote(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestParseScriptConfig(t *testing.T) {
	cfg, err := ParseScriptConfig(strings.NewReader(sampleCfg))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.UserID != "5f9a1c2e4b0d7e6f8a9b0c1d" || cfg.APIKey != "k3y/with%percent" {
		t.Errorf("user %q key %q", cfg.UserID, cfg.APIKey)
	}
	var got []string
	for _, o := range cfg.Orgs {
		got = append(got, o.Section+"="+o.OrganizationID+"/"+o.Name)
	}
	want := "DEFAULT=5c6d7e8f9a0b1c2d3e4f5a6b/Production STAGING=60aa00bb11cc22dd33ee44ff/Staging us-east-1 sandbox=5c6d7e8f9a0b1c2d3e4f5a6b/Sandbox"
	if strings.Join(got, " ") != want {
		t.Errorf("orgs %v\nwant %s", got, want)
	}
	creds, err := cfg.Credentials("STAGING")
	if err != nil || creds.OrganizationID != "60aa00bb11cc22dd33ee44ff" || creds.APIKey != cfg.APIKey {
		t.Errorf("STAGING: %v %v", creds, err)
	}
	if creds, err := cfg.Credentials(""); err != nil || creds.OrganizationID != "5c6d7e8f9a0b1c2d3e4f5a6b" {
		t.Errorf("default: %v %v", creds, err)
	}
	if _, err := cfg.Credentials("prod"); err == nil {
		t.Error("unknown section must fail")
	}
}

func TestParseScriptConfigRequiresUserInfo(t *testing.T) {
	for in, want := range map[string]string{
		"[DEFAULT]\nTS_ORGANIZATION_ID = o\n":                       "no [USER_INFO]",
		"[USER_INFO]\nTS_USER_ID = u\n":                             "no TS_API_KEY",
		"[USER_INFO]\nTS_USER_ID = u\nTS_API_KEY = \"\"\n[DEFAULT]": "no TS_API_KEY",
	} {
		if _, err := ParseScriptConfig(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
}

func FuzzParseINI(f *testing.F) {
	f.Add(sampleCfg)
	f.Add("[a]\nx = %(y)s\ny = %(x)s\n")
	f.Fuzz(func(t *testing.T, in string) {
		ini, err := ParseINI(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, s := range append(ini.Sections(), ScriptDefaultSection) {
			for _, k := range []string{"ts_api_key", "x", "y"} {
				_, _, _ = ini.Get(s, k)
			}
			_, _ = ini.getOwnFirst(s, "x", "y")
		}
	})
}

// Seed 000's README says to fill in TS_ORG_ID; the scripts' sample says
// TS_ORGANIZATION_ID. The long name wins where a section has both.
func TestParseScriptConfigShortOrgKey(t *testing.T) {
	cfg, err := ParseScriptConfig(strings.NewReader("[USER_INFO]\nTS_USER_ID = u\nTS_API_KEY = k\n[DEFAULT]\nTS_ORG_ID = short\n[BOTH]\nTS_ORGANIZATION_ID = long\nTS_ORG_ID = ignored\n"))
	if err != nil {
		t.Fatal(err)
	}
	for section, want := range map[string]string{"": "short", "BOTH": "long"} {
		if creds, err := cfg.Credentials(section); err != nil || creds.OrganizationID != want {
			t.Errorf("Credentials(%q) = %+v, %v; want organization %q", section, creds, err, want)
		}
	}
}

// A section inherits DEFAULT's keys, so trying TS_ORGANIZATION_ID first
// would give a section that spells its own id TS_ORG_ID the DEFAULT
// organization. Either spelling in the section beats both in DEFAULT.
func TestParseScriptConfigOwnOrgKeyBeatsDefault(t *testing.T) {
	cfg, err := ParseScriptConfig(strings.NewReader(`[USER_INFO]
TS_USER_ID = u
TS_API_KEY = k
[DEFAULT]
TS_ORGANIZATION_ID = orgdef
TS_ORG_ID = orgdef-short
[staging]
TS_ORG_ID = org-staging
[prod]
TS_ORGANIZATION_ID = org-prod
[inherits]
TS_ORGANIZATION_NAME = Inherits
[blanked]
TS_ORG_ID =
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range cfg.Orgs {
		got = append(got, o.Section+"="+o.OrganizationID)
	}
	// An id the section sets empty is the section's word too: no
	// organization, rather than DEFAULT's.
	want := "DEFAULT=orgdef staging=org-staging prod=org-prod inherits=orgdef"
	if strings.Join(got, " ") != want {
		t.Errorf("orgs %v\nwant %s", got, want)
	}
}
