package webhook

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/pkg/signature"
)

func TestNewCmdSign(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    SignOptions
		secret  secretFlags
		wantErr string
	}{
		{
			name: "body file",
			args: []string{"edr", "--body", "event.json"},
			want: SignOptions{Name: "edr", BodyFile: "event.json", Output: "table"},
		},
		{
			name:   "every flag",
			args:   []string{"edr", "--body", "-", "--timestamp", "1705320000", "--secret-env", "S", "-o", "json"},
			want:   SignOptions{Name: "edr", BodyFile: "-", Timestamp: 1705320000, Output: "json"},
			secret: secretFlags{SecretEnv: "S"},
		},
		{name: "no --body", args: []string{"edr"}, wantErr: "--body is required (a file, or - for stdin)"},
		{name: "-o xml", args: []string{"edr", "--body", "-", "-o", "xml"}, wantErr: `invalid argument "xml" for "-o, --output" flag: use table, json or yaml`},
		{name: "no name", args: []string{"--body", "-"}, wantErr: "missing source name\n\nUsage: sign <source> --body <file> [flags]"},
		// Each was signed with the current time, or a value no receiver
		// parses (at most 12 digits), without a word.
		{name: "negative timestamp", args: []string{"edr", "--body", "-", "--timestamp", "-5"}, wantErr: badTimestamp("-5")},
		{name: "zero timestamp", args: []string{"edr", "--body", "-", "--timestamp", "0"}, wantErr: badTimestamp("0")},
		{name: "13-digit timestamp", args: []string{"edr", "--body", "-", "--timestamp", "1000000000000"}, wantErr: badTimestamp("1000000000000")},
		{name: "huge timestamp", args: []string{"edr", "--body", "-", "--timestamp", "99999999999999999"}, wantErr: badTimestamp("99999999999999999")},
		{name: "largest timestamp", args: []string{"edr", "--body", "-", "--timestamp", "999999999999"}, want: SignOptions{Name: "edr", BodyFile: "-", Timestamp: 999999999999, Output: "table"}},
		{name: "smallest timestamp", args: []string{"edr", "--body", "-", "--timestamp", "1"}, want: SignOptions{Name: "edr", BodyFile: "-", Timestamp: 1, Output: "table"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := parse(t, NewCmdSign, false, tt.args...)
			if tt.wantErr != "" {
				wantExit(t, err, cmdutil.ExitUsage, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.Name != tt.want.Name || opts.BodyFile != tt.want.BodyFile || opts.Timestamp != tt.want.Timestamp ||
				opts.Output != tt.want.Output || opts.secret != tt.secret {
				t.Errorf("got %+v, secret %+v", opts, opts.secret)
			}
		})
	}
}

func badTimestamp(v string) string {
	return "--timestamp " + v + " is out of range: give unix seconds from 1 to 999999999999, or leave it out to sign with the current time"
}

// The largest timestamp the flag takes is one the receiver's parser reads
// back, so signing and verifying agree at the bound.
func TestSignLargestTimestampParses(t *testing.T) {
	e := newEnv(t, false)
	e.add(sources.Spec{Source: "email-gateway", Secret: "your-secret-key"})
	if err := e.run(NewCmdSign(e.f, nil), "email-gateway", "--body", writeBody(t), "--timestamp", "999999999999"); err != nil {
		t.Fatal(err)
	}
	ts := strings.TrimSpace(strings.SplitN(e.stdout.String(), "X-Webhook-Timestamp: ", 2)[1])
	at, err := signature.ParseTimestamp(ts)
	if err != nil || at.Unix() != 999999999999 {
		t.Errorf("signed timestamp %q parses as %v, %v", ts, at, err)
	}
}

// body is signed byte for byte: a trailing newline, non-ASCII text and
// spacing all count.
const signBody = "{\"event_type\": \"phishing_reported\",\n \"data\": {\"subject\": \"Facture n°42 — urgent\"}}\n"

func writeBody(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(path, []byte(signBody), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSignRun(t *testing.T) {
	t0Unix := strconv.FormatInt(t0.Unix(), 10) // the fixed clock: 1705312800
	tests := []struct {
		name   string
		args   []string
		stdin  bool
		env    string
		secret string
		ts     string
	}{
		{name: "stored secret, explicit timestamp", args: []string{"--timestamp", "1705320000"}, secret: "your-secret-key", ts: "1705320000"},
		{name: "stored secret, timestamp now", secret: "your-secret-key", ts: t0Unix},
		{name: "--secret", args: []string{"--secret", "other key"}, secret: "other key", ts: t0Unix},
		{name: "--secret-env", args: []string{"--secret-env", "TW_TEST_SIGN_SECRET"}, env: "from env", secret: "from env", ts: t0Unix},
		{name: "body from stdin", stdin: true, secret: "your-secret-key", ts: t0Unix},
	}
	for _, tt := range tests {
		for _, tty := range []bool{true, false} {
			t.Run(tt.name+"/"+ttyName(tty), func(t *testing.T) {
				e := newEnv(t, tty)
				e.add(sources.Spec{Source: "email-gateway", Secret: "your-secret-key"})
				if tt.env != "" {
					t.Setenv("TW_TEST_SIGN_SECRET", tt.env)
				}
				body := writeBody(t)
				if tt.stdin {
					body = "-"
					e.stdin.WriteString(signBody)
				}
				args := append([]string{"email-gateway", "--body", body}, tt.args...)
				if err := e.run(NewCmdSign(e.f, nil), args...); err != nil {
					t.Fatal(err)
				}
				mac := opensslHMAC(t, tt.secret, tt.ts+"."+signBody)
				e.expectOutput("X-Webhook-Signature: sha256="+mac+"\nX-Webhook-Timestamp: "+tt.ts+"\n", "")
			})
		}
	}
}

// A url-token source's line is ready to append to the URL, escaped.
func TestSignURLToken(t *testing.T) {
	e := newEnv(t, false)
	e.add(sources.Spec{Source: "ts", Verify: "url-token", Secret: "user:p&ss word"})
	if err := e.run(NewCmdSign(e.f, nil), "ts", "--body", writeBody(t)); err != nil {
		t.Fatal(err)
	}
	e.expectOutput("?token=user%3Ap%26ss+word\n", "")
}

func TestSignJSON(t *testing.T) {
	e := newEnv(t, false)
	e.add(sources.Spec{Source: "email-gateway", Secret: "your-secret-key"})
	if err := e.run(NewCmdSign(e.f, nil), "email-gateway", "--body", writeBody(t), "--timestamp", "1705320000", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	mac := opensslHMAC(t, "your-secret-key", "1705320000."+signBody)
	want := "{\n  \"X-Webhook-Signature\": \"sha256=" + mac + "\",\n  \"X-Webhook-Timestamp\": \"1705320000\"\n}\n"
	e.expectOutput(want, "")
}

func TestSignErrors(t *testing.T) {
	e := newEnv(t, false)
	e.add(sources.Spec{Source: "email-gateway", Secret: "your-secret-key"})
	body := writeBody(t)

	err := e.run(NewCmdSign(e.f, nil), "nope", "--body", body)
	wantExit(t, err, cmdutil.ExitNotFound, `source not found: "nope" is not registered; run 'tw-cli webhook list'`)

	missing := filepath.Join(t.TempDir(), "missing.json")
	err = e.run(NewCmdSign(e.f, nil), "email-gateway", "--body", missing)
	wantExit(t, err, cmdutil.ExitUsage, "read payload: open "+missing+": no such file or directory")

	err = e.run(NewCmdSign(e.f, nil), "email-gateway", "--body", body, "--secret", "a", "--secret-env", "B")
	wantExit(t, err, cmdutil.ExitUsage, "specify only one of --secret or --secret-env")

	t.Setenv("TW_SERVER", "https://receiver.example.com")
	err = e.run(NewCmdSign(e.f, nil), "email-gateway", "--body", body)
	wantExit(t, err, cmdutil.ExitUsage, `a remote receiver never reveals secrets: pass --secret-env VAR (or --secret) to sign for "email-gateway"`)

	e.expectOutput("", "")
}
