package token

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/receiver"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
)

var t0 = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

type testEnv struct {
	t      *testing.T
	store  store.Store
	ios    *iostreams.IOStreams
	f      *cmdutil.Factory
	now    time.Time
	stdin  *bytes.Buffer
	stdout *bytes.Buffer
	stderr *bytes.Buffer
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ios, stdin, stdout, stderr := iostreams.Test()
	e := &testEnv{t: t, store: st, ios: ios, now: t0, stdin: stdin, stdout: stdout, stderr: stderr}
	e.f = &cmdutil.Factory{
		IOStreams: ios,
		Now:       func() time.Time { return e.now },
		Store:     func() (store.Store, error) { return st, nil },
	}
	return e
}

func (e *testEnv) run(args ...string) error {
	e.t.Helper()
	e.stdout.Reset()
	e.stderr.Reset()
	cmd := NewCmdToken(e.f)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetArgs(append([]string{}, args...))
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return cmd.ExecuteContext(context.Background())
}

var tokenRE = regexp.MustCompile(`^tw_[A-Za-z0-9_-]{43}$`)

// create makes a token and returns it as printed.
func (e *testEnv) create(args ...string) string {
	e.t.Helper()
	if err := e.run(append([]string{"create"}, args...)...); err != nil {
		e.t.Fatal(err)
	}
	tok := strings.TrimSuffix(e.stdout.String(), "\n")
	if !tokenRE.MatchString(tok) || tok+"\n" != e.stdout.String() {
		e.t.Fatalf("stdout = %q, want one tw_ token on one line", e.stdout.String())
	}
	return tok
}

func TestCreatePrintsTheTokenOnce(t *testing.T) {
	e := newEnv(t)
	tok := e.create("--name", "ci")
	if want := "✓ Created token ci (shown once; store it now)\n"; e.stderr.String() != want {
		t.Errorf("stderr = %q, want %q", e.stderr, want)
	}
	if strings.Contains(e.stderr.String(), tok) {
		t.Error("the token is on stderr too")
	}

	// Only its hash is stored, and that hash authenticates it.
	toks, _ := e.store.ListTokens(context.Background())
	if len(toks) != 1 || toks[0].Name != "ci" || toks[0].Prefix != tok[:9] || !toks[0].CreatedAt.Equal(t0) {
		t.Fatalf("stored = %+v", toks)
	}
	if toks[0].Hash == tok || toks[0].Hash != receiver.HashToken(tok) {
		t.Errorf("stored hash %q is not the token's hash", toks[0].Hash)
	}
	got, err := e.store.TouchToken(context.Background(), receiver.HashToken(tok), t0.Add(time.Minute))
	if err != nil || got.Name != "ci" {
		t.Errorf("TouchToken = %+v, %v", got, err)
	}

	if other := e.create("--name", "other"); other == tok {
		t.Error("two tokens are equal")
	}
}

func TestCreateDefaultName(t *testing.T) {
	e := newEnv(t)
	e.create()
	if want := "✓ Created token token-20240115-100000 (shown once; store it now)\n"; e.stderr.String() != want {
		t.Errorf("stderr = %q, want %q", e.stderr, want)
	}
}

func TestCreateDuplicateName(t *testing.T) {
	e := newEnv(t)
	e.create("--name", "ci")
	err := e.run("create", "--name", "ci")
	// Exit 1 like 'webhook add' of an existing source: the command was
	// typed right, so no usage error (exit 2) and no "Run --help" hint.
	want := `a token named "ci" already exists: pick another --name, or revoke it first with 'tw-cli token revoke ci --yes'`
	var fe *cmdutil.FlagError
	if cmdutil.ExitCode(err) != cmdutil.ExitFailure || errors.As(err, &fe) || err.Error() != want {
		t.Errorf("err = %v (exit %d), want %q (exit 1)", err, cmdutil.ExitCode(err), want)
	}
	if e.stdout.Len() != 0 {
		t.Errorf("a refused create printed %q", e.stdout)
	}
}

func TestCreateJSON(t *testing.T) {
	e := newEnv(t)
	if err := e.run("create", "--name", "ci", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var got Created
	if err := json.Unmarshal(e.stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	toks, _ := e.store.ListTokens(context.Background())
	if len(toks) != 1 || got.ID != toks[0].ID || got.Name != "ci" || !tokenRE.MatchString(got.Token) ||
		got.Prefix != got.Token[:9] || receiver.HashToken(got.Token) != toks[0].Hash || !got.CreatedAt.Equal(t0) {
		t.Errorf("created = %+v", got)
	}
	if e.stderr.Len() != 0 {
		t.Errorf("stderr = %q", e.stderr)
	}
}

func TestListNeverShowsTokens(t *testing.T) {
	e := newEnv(t)
	ci := e.create("--name", "ci")
	e.now = t0.Add(time.Hour)
	laptop := e.create("--name", "laptop")
	if _, err := e.store.TouchToken(context.Background(), receiver.HashToken(ci), t0.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.now = t0.Add(3 * time.Hour)
	toks, _ := e.store.ListTokens(context.Background())
	ids := map[string]string{}
	for _, tk := range toks {
		ids[tk.Name] = tk.ID
	}

	t.Run("piped", func(t *testing.T) {
		e.ios.SetStdoutTTY(false)
		if err := e.run("list"); err != nil {
			t.Fatal(err)
		}
		noSecrets(t, e.stdout.String(), ci, laptop)
		want := fmt.Sprintf("%s\tci\t%s…\t2024-01-15T10:00:00Z\t2024-01-15T11:30:00Z\n%s\tlaptop\t%s…\t2024-01-15T11:00:00Z\tnever\n",
			ids["ci"], ci[:9], ids["laptop"], laptop[:9])
		if e.stdout.String() != want {
			t.Errorf("stdout =\n%q\nwant\n%q", e.stdout, want)
		}
	})
	t.Run("tty", func(t *testing.T) {
		e.ios.SetStdoutTTY(true)
		if err := e.run("list"); err != nil {
			t.Fatal(err)
		}
		noSecrets(t, e.stdout.String(), ci, laptop)
		want := fmt.Sprintf(""+
			"%-36s  NAME    PREFIX      CREATED      LAST USED\n"+
			"%s  ci      %s…  3 hours ago  1 hour ago\n"+
			"%s  laptop  %s…  2 hours ago  never\n",
			"ID", ids["ci"], ci[:9], ids["laptop"], laptop[:9])
		if e.stdout.String() != want {
			t.Errorf("stdout =\n%s\nwant\n%s", e.stdout, want)
		}
	})
	t.Run("json", func(t *testing.T) {
		if err := e.run("list", "-o", "json"); err != nil {
			t.Fatal(err)
		}
		noSecrets(t, e.stdout.String(), ci, laptop)
		var got []map[string]any
		if err := json.Unmarshal(e.stdout.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[1]["last_used_at"] != nil || got[0]["last_used_at"] != "2024-01-15T11:30:00Z" {
			t.Errorf("json = %s", e.stdout)
		}
		for _, tk := range got {
			if _, ok := tk["hash"]; ok {
				t.Errorf("json shows the hash: %v", tk)
			}
		}
	})
}

// noSecrets fails when out holds any token, the part of one after its
// displayed prefix, or a token's hash.
func noSecrets(t *testing.T, out string, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		for _, s := range []string{tok, tok[9:], receiver.HashToken(tok)} {
			if strings.Contains(out, s) {
				t.Errorf("output reveals %q", s)
			}
		}
	}
}

func TestListEmpty(t *testing.T) {
	e := newEnv(t)
	if err := e.run("list", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if e.stdout.String() != "[]\n" {
		t.Errorf("stdout = %q", e.stdout)
	}

	// On a terminal the table says there is nothing and how to add one,
	// on stderr like 'destination list'; stdout stays empty.
	e.ios.SetStdoutTTY(true)
	if err := e.run("list"); err != nil {
		t.Fatal(err)
	}
	if e.stdout.Len() != 0 || e.stderr.String() != "No admin tokens. Create one with 'tw-cli token create --name NAME'.\n" {
		t.Errorf("tty: stdout %q stderr %q", e.stdout, e.stderr)
	}
	// -o json on a terminal is still data, not the friendly line.
	if err := e.run("list", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if e.stdout.String() != "[]\n" || e.stderr.Len() != 0 {
		t.Errorf("tty json: stdout %q stderr %q", e.stdout, e.stderr)
	}
	// Piped, the table is empty TSV: nothing on either stream.
	e.ios.SetStdoutTTY(false)
	if err := e.run("list"); err != nil {
		t.Fatal(err)
	}
	if e.stdout.Len() != 0 || e.stderr.Len() != 0 {
		t.Errorf("piped: stdout %q stderr %q", e.stdout, e.stderr)
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t)
	ci := e.create("--name", "ci")
	keep := e.create("--name", "keep")
	if err := e.run("revoke", "ci", "--yes"); err != nil {
		t.Fatal(err)
	}
	if e.stderr.String() != "✓ Revoked token ci\n" || e.stdout.Len() != 0 {
		t.Errorf("stdout %q stderr %q", e.stdout, e.stderr)
	}
	if _, err := e.store.TouchToken(context.Background(), receiver.HashToken(ci), t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked token still authenticates: %v", err)
	}
	if _, err := e.store.TouchToken(context.Background(), receiver.HashToken(keep), t0); err != nil {
		t.Errorf("the other token was revoked too: %v", err)
	}

	// By id as well.
	toks, _ := e.store.ListTokens(context.Background())
	if err := e.run("revoke", toks[0].ID, "-y"); err != nil {
		t.Fatal(err)
	}

	err := e.run("revoke", "ci", "--yes")
	if cmdutil.ExitCode(err) != cmdutil.ExitNotFound || err.Error() != `no token with id or name "ci": run 'tw-cli token list'` {
		t.Errorf("revoke twice: err = %v (exit %d), want exit 4", err, cmdutil.ExitCode(err))
	}
}

// authenticates reports whether tok is still a valid admin token.
func (e *testEnv) authenticates(tok string) bool {
	e.t.Helper()
	_, err := e.store.TouchToken(context.Background(), receiver.HashToken(tok), t0)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.t.Fatal(err)
	}
	return err == nil
}

func TestRevokeNeedsYesWhenPiped(t *testing.T) {
	e := newEnv(t)
	ci := e.create("--name", "ci")
	err := e.run("revoke", "ci")
	want := `--yes is required to revoke token "ci" when not running interactively`
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage || err.Error() != want {
		t.Errorf("err = %v (exit %d), want %q (exit 2)", err, cmdutil.ExitCode(err), want)
	}
	if !e.authenticates(ci) {
		t.Error("a refused revoke revoked the token")
	}
	if e.stderr.Len() != 0 {
		t.Errorf("stderr = %q", e.stderr)
	}
}

func TestRevokeAsksOnATerminal(t *testing.T) {
	e := newEnv(t)
	ci := e.create("--name", "ci")
	e.ios.SetStdinTTY(true)
	e.ios.SetStdoutTTY(true)
	const prompt = `Revoke admin token "ci"? Clients using it will be refused. [y/N] `

	for _, answer := range []string{"n\n", "\n", ""} {
		e.stdin.Reset()
		e.stdin.WriteString(answer)
		err := e.run("revoke", "ci")
		if !errors.Is(err, cmdutil.ErrCancel) || cmdutil.ExitCode(err) != cmdutil.ExitFailure {
			t.Errorf("answer %q: err = %v (exit %d), want cancelled (exit 1)", answer, err, cmdutil.ExitCode(err))
		}
		if e.stderr.String() != prompt {
			t.Errorf("answer %q: stderr = %q, want the prompt", answer, e.stderr)
		}
		if !e.authenticates(ci) {
			t.Fatalf("answer %q revoked the token", answer)
		}
	}

	// An unknown token is not found before anything is asked.
	e.stdin.Reset()
	e.stdin.WriteString("y\n")
	err := e.run("revoke", "nope")
	if cmdutil.ExitCode(err) != cmdutil.ExitNotFound || e.stderr.Len() != 0 {
		t.Errorf("unknown token: err = %v (exit %d), stderr %q", err, cmdutil.ExitCode(err), e.stderr)
	}

	e.stdin.Reset()
	e.stdin.WriteString("y\n")
	if err := e.run("revoke", "ci"); err != nil {
		t.Fatal(err)
	}
	if e.stderr.String() != prompt+"✓ Revoked token ci\n" {
		t.Errorf("stderr = %q", e.stderr)
	}
	if e.authenticates(ci) {
		t.Error("answering y did not revoke the token")
	}
}

// Two creates in the same second without --name both succeed: the
// second failed with "a token named token-… already exists".
func TestCreateDefaultNameIsUnique(t *testing.T) {
	e := newEnv(t)
	var tokens []string
	for range 3 {
		tokens = append(tokens, e.create())
	}
	if want := "✓ Created token token-20240115-100000-3 (shown once; store it now)\n"; e.stderr.String() != want {
		t.Errorf("stderr = %q, want %q", e.stderr, want)
	}
	toks, _ := e.store.ListTokens(context.Background())
	var names []string
	for _, tk := range toks {
		names = append(names, tk.Name)
	}
	if want := []string{"token-20240115-100000", "token-20240115-100000-2", "token-20240115-100000-3"}; strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("names = %v, want %v", names, want)
	}
	for _, tok := range tokens {
		if !e.authenticates(tok) {
			t.Errorf("token %s… does not authenticate", tok[:9])
		}
	}
	// The default name never takes one given with --name.
	e.now = t0.Add(time.Second)
	e.create("--name", "token-20240115-100001")
	e.create()
	if want := "✓ Created token token-20240115-100001-2 (shown once; store it now)\n"; e.stderr.String() != want {
		t.Errorf("stderr = %q, want %q", e.stderr, want)
	}
}

// A name is checked before anything is stored: control characters
// reached the terminal raw, invalid UTF-8 could not be typed back to
// revoke, and blank or huge names were accepted.
func TestCreateRefusesBadNames(t *testing.T) {
	const rule = "use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"
	tests := []struct{ name, want string }{
		{"ci\x1b]0;pwned\x07", `invalid token name "ci\x1b]0;pwned\a": ` + rule},
		{"ci\xff", `invalid token name "ci\xff": ` + rule},
		{"   ", `invalid token name "   ": ` + rule},
		{"my laptop", `invalid token name "my laptop": ` + rule},
		{"-ci", `invalid token name "-ci": ` + rule},
		{"ci\u202e", `invalid token name "ci\u202e": ` + rule},
		{"", "--name is empty: " + rule + ", or leave --name out for a name made from the date"},
		{strings.Repeat("a", 100000), "--name is 100000 bytes long: " + rule},
		{strings.Repeat("a", 64), "--name is 64 bytes long: " + rule},
	}
	for _, tt := range tests {
		e := newEnv(t)
		err := e.run("create", "--name", tt.name)
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage || err.Error() != tt.want {
			t.Errorf("--name %.20q: err = %v (exit %d), want usage error %q", tt.name, err, cmdutil.ExitCode(err), tt.want)
		}
		if e.stdout.Len() != 0 || e.stderr.Len() != 0 {
			t.Errorf("--name %.20q: stdout %q stderr %q", tt.name, e.stdout, e.stderr)
		}
		if toks, _ := e.store.ListTokens(context.Background()); len(toks) != 0 {
			t.Errorf("--name %.20q stored %v", tt.name, toks)
		}
	}
	e := newEnv(t)
	for _, ok := range []string{"ci", "ci-deploy.2024_01", strings.Repeat("a", 63)} {
		e.create("--name", ok)
	}
}

// Revoke prints the name it was given, which may predate the name rule,
// without sending its control characters to the terminal.
func TestRevokePrintsNamesSafely(t *testing.T) {
	e := newEnv(t)
	tok := &store.Token{ID: "old", Name: "old\x1b[2Jname", Hash: "h", Prefix: "tw_xxxxxx", CreatedAt: t0}
	if err := e.store.CreateToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if err := e.run("revoke", tok.Name, "--yes"); err != nil {
		t.Fatal(err)
	}
	if want := "✓ Revoked token old^[[2Jname\n"; e.stderr.String() != want {
		t.Errorf("stderr = %q, want %q", e.stderr, want)
	}
}
