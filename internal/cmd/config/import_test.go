package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
)

const tsCfg = `[USER_INFO]
TS_USER_ID = NEWUSER
TS_API_KEY = NEWKEY

[DEFAULT]
TS_ORGANIZATION_ID = org-default

[Prod]
TS_ORGANIZATION_ID = org-prod
TS_ORGANIZATION_NAME = Production
`

func (e *testEnv) writeTSCfg() string {
	e.t.Helper()
	path := filepath.Join(e.t.TempDir(), "threatstack.cfg")
	if err := os.WriteFile(path, []byte(tsCfg), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// oldCreds holds other credentials at the top level and in profile prod,
// and the user id the import brings, which is not a replacement.
const oldCreds = `threatstack:
    user_id: NEWUSER
    api_key: OLDKEY
    organization_id: org-old
profiles:
    prod:
        threatstack:
            api_key: OLDPRODKEY
`

const replacedList = `These settings in %s hold other values, which the import replaces:
  threatstack.api_key
  threatstack.organization_id
  threatstack.api_key (profile prod)
`

// Into an empty config nothing is replaced and nothing is asked.
func TestImportIntoEmptyConfig(t *testing.T) {
	e := newEnv(t)
	if err := e.run("import", e.writeTSCfg()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.dir, "config.yaml")
	e.expect("", "✓ [DEFAULT] → the top level\n✓ [Prod] (Production) → profile prod\nSaved in "+path+"\n")
	// Importing the same file again replaces nothing either.
	if err := e.run("import", e.writeTSCfg()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.stderr.String(), "replaces") {
		t.Errorf("a second identical import warned: %q", e.stderr)
	}
}

// Credentials the file holds are not silently overwritten: piped, the
// import names them (never their values) and stops unless --yes.
func TestImportNeedsYesToReplaceWhenPiped(t *testing.T) {
	e := newEnv(t)
	e.writeFile(oldCreds)
	path := filepath.Join(e.dir, "config.yaml")
	err := e.run("import", e.writeTSCfg())
	want := "--yes is required to replace existing settings when not running interactively"
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage || err == nil || err.Error() != want {
		t.Errorf("err = %v (exit %d), want usage error %q", err, cmdutil.ExitCode(err), want)
	}
	e.expect("", strings.ReplaceAll(replacedList, "%s", path))
	noValues(t, e.stderr.String())
	if e.file() != oldCreds {
		t.Errorf("a refused import changed the file:\n%s", e.file())
	}

	if err := e.run("import", e.writeTSCfg(), "--yes"); err != nil {
		t.Fatal(err)
	}
	e.expect("", strings.ReplaceAll(replacedList, "%s", path)+
		"✓ [DEFAULT] → the top level\n✓ [Prod] (Production) → profile prod\nSaved in "+path+"\n")
	noValues(t, e.stderr.String())
	if f := e.file(); strings.Contains(f, "OLDKEY") || strings.Contains(f, "OLDPRODKEY") || !strings.Contains(f, "NEWKEY") {
		t.Errorf("file after --yes:\n%s", f)
	}
}

func noValues(t *testing.T, out string) {
	t.Helper()
	for _, v := range []string{"OLDKEY", "OLDPRODKEY", "NEWKEY", "org-old"} {
		if strings.Contains(out, v) {
			t.Errorf("output shows %s: %q", v, out)
		}
	}
}

// On a terminal the import asks; anything but yes leaves the file alone.
func TestImportAsksOnATerminal(t *testing.T) {
	e := newEnv(t)
	e.ios.SetStdinTTY(true)
	e.ios.SetStdoutTTY(true)
	stdin := e.ios.In.(*bytes.Buffer)
	path := filepath.Join(e.dir, "config.yaml")
	prompt := strings.ReplaceAll(replacedList, "%s", path) + "Replace them? [y/N] "

	for _, answer := range []string{"n\n", "\n", ""} {
		e.writeFile(oldCreds)
		stdin.Reset()
		stdin.WriteString(answer)
		err := e.run("import", e.writeTSCfg())
		if !errors.Is(err, cmdutil.ErrCancel) {
			t.Errorf("answer %q: err = %v, want cancelled", answer, err)
		}
		e.expect("", prompt)
		if e.file() != oldCreds {
			t.Errorf("answer %q changed the file:\n%s", answer, e.file())
		}
	}

	stdin.Reset()
	stdin.WriteString("y\n")
	if err := e.run("import", e.writeTSCfg()); err != nil {
		t.Fatal(err)
	}
	e.expect("", prompt+"✓ [DEFAULT] → the top level\n✓ [Prod] (Production) → profile prod\nSaved in "+path+"\n")
	if !strings.Contains(e.file(), "NEWKEY") {
		t.Errorf("answering y did not import:\n%s", e.file())
	}
}
