package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/config"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
	"github.com/tw-cli/tw-cli/internal/triage"
	"github.com/tw-cli/tw-cli/internal/webhookconfig"
)

func TestNewCmdApplyFlags(t *testing.T) {
	cases := []struct {
		args    []string
		want    ApplyOptions
		wantErr string
	}{
		{args: []string{"-f", "w.yaml"}, want: ApplyOptions{File: "w.yaml", Output: "table"}},
		{args: []string{"--file=w.yaml", "--dry-run", "--force", "-o", "json"}, want: ApplyOptions{File: "w.yaml", DryRun: true, Force: true, Output: "json"}},
		{args: []string{}, wantErr: "-f/--file is required"},
		{args: []string{"w.yaml"}, wantErr: `unexpected argument "w.yaml"`},
		{args: []string{"-f", "w.yaml", "-o", "xml"}, wantErr: `invalid argument "xml" for "-o, --output" flag`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *ApplyOptions
			cmd := NewCmdApply(&cmdutil.Factory{IOStreams: ios}, func(o *ApplyOptions) error { got = o; return nil })
			cmd.SetArgs(tc.args)
			cmd.SetOut(ios.ErrOut)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tc.wantErr != "" {
				if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want a usage error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.File != tc.want.File || got.DryRun != tc.want.DryRun || got.Force != tc.want.Force || got.Output != tc.want.Output {
				t.Fatalf("options %+v, want %+v", got, tc.want)
			}
		})
	}
}

// applyFixture is a temp store and config file with a fake environment.
type applyFixture struct {
	t     *testing.T
	store store.Store
	path  string
	env   map[string]string
}

func newApplyFixture(t *testing.T) *applyFixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &applyFixture{t: t, store: st, path: filepath.Join(t.TempDir(), "webhook_config.yaml"), env: map[string]string{}}
}

func (fx *applyFixture) write(content string) {
	fx.t.Helper()
	if err := os.WriteFile(fx.path, []byte(content), 0o600); err != nil {
		fx.t.Fatal(err)
	}
}

// run runs `webhook apply` on the fixture; stdout and stderr are returned.
func (fx *applyFixture) run(tty bool, mutate func(*ApplyOptions)) (string, string, error) {
	fx.t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	opts := &ApplyOptions{
		IO:        ios,
		Store:     func() (store.Store, error) { return fx.store, nil },
		Remote:    func() (bool, error) { return false, nil },
		LookupEnv: func(k string) (string, bool) { v, ok := fx.env[k]; return v, ok },
		Now:       func() time.Time { return t0 },
		File:      fx.path,
		Output:    "table",
	}
	if mutate != nil {
		mutate(opts)
	}
	err := applyRun(context.Background(), opts)
	return out.String(), errOut.String(), err
}

const seedFile = `sources:
  email-gateway:
    secret: "${EMAIL_GATEWAY_SECRET}"
    auto_triage: true
    playbook: phishing_triage
    severity_mapping:
      critical: critical
      high: high
  edr:
    secret: "${EDR_SECRET}"
    auto_triage: true
    playbook: malware_triage
`

func TestApplyRunCreatesThenReportsChanges(t *testing.T) {
	fx := newApplyFixture(t)
	fx.env["EMAIL_GATEWAY_SECRET"], fx.env["EDR_SECRET"] = "eg-1", "edr-1"
	fx.write(seedFile)

	out, errOut, err := fx.run(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out != "edr\tcreate\t-\nemail-gateway\tcreate\t-\n" {
		t.Fatalf("stdout %q", out)
	}
	if errOut != "✓ Applied "+fx.path+": 2 created, 0 updated, 0 removed, 0 unchanged\n" {
		t.Fatalf("stderr %q", errOut)
	}

	// Edit: a new secret for the gateway, edr gone, siem added.
	fx.env["EMAIL_GATEWAY_SECRET"] = "eg-2"
	fx.write(`sources:
  email-gateway:
    secret: "${EMAIL_GATEWAY_SECRET}"
    auto_triage: true
    playbook: phishing_triage
    severity_mapping: {critical: critical, high: high}
  siem:
    secret: siem-secret
    format: splunk
`)
	out, errOut, err = fx.run(true, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantOut := "SOURCE         ACTION  CHANGES\n" +
		"edr            delete  -\n" +
		"email-gateway  update  secret\n" +
		"siem           create  -\n"
	if out != wantOut {
		t.Fatalf("stdout\n%q\nwant\n%q", out, wantOut)
	}
	wantErr := "✓ Applied " + fx.path + ": 1 created, 1 updated, 1 removed, 0 unchanged\n" +
		"The previous secret of email-gateway keeps verifying until 2024-01-16T10:00:00Z\n"
	if errOut != wantErr {
		t.Fatalf("stderr\n%q\nwant\n%q", errOut, wantErr)
	}
	eg, err := fx.store.GetSource(context.Background(), "email-gateway")
	if err != nil || eg.Secret != "eg-2" || eg.PreviousSecret != "eg-1" {
		t.Fatalf("email-gateway: %+v %v", eg, err)
	}
}

func TestApplyRunDryRunAndJSON(t *testing.T) {
	fx := newApplyFixture(t)
	fx.env["EMAIL_GATEWAY_SECRET"], fx.env["EDR_SECRET"] = "eg-1", "edr-1"
	fx.write(seedFile)
	out, errOut, err := fx.run(false, func(o *ApplyOptions) { o.DryRun = true; o.Output = "json" })
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "file": "` + fx.path + `",
  "dry_run": true,
  "changes": [
    {
      "source": "edr",
      "action": "create"
    },
    {
      "source": "email-gateway",
      "action": "create"
    }
  ]
}
`
	if out != want {
		t.Fatalf("stdout\n%s\nwant\n%s", out, want)
	}
	if errOut != "" {
		t.Fatalf("stderr %q", errOut)
	}
	if srcs, _ := fx.store.ListSources(context.Background()); len(srcs) != 0 {
		t.Fatalf("dry run created %d sources", len(srcs))
	}
	_, errOut, err = fx.run(false, func(o *ApplyOptions) { o.DryRun = true })
	if err != nil || errOut != "Dry run of "+fx.path+": 2 to create, 0 to update, 0 to remove, 0 unchanged; nothing was changed\n" {
		t.Fatalf("dry run table: %q %v", errOut, err)
	}
}

func TestApplyRunErrors(t *testing.T) {
	fx := newApplyFixture(t)
	fx.write(seedFile)

	// A missing variable names the file and line; nothing is opened or written.
	fx.env["EMAIL_GATEWAY_SECRET"] = "eg"
	_, _, err := fx.run(false, func(o *ApplyOptions) {
		o.Store = func() (store.Store, error) { t.Fatal("store opened for a bad file"); return nil, nil }
	})
	if err == nil || err.Error() != fx.path+":10: sources.edr.secret: environment variable EDR_SECRET is not set" {
		t.Fatalf("got %v", err)
	}
	if cmdutil.ExitCode(err) != cmdutil.ExitFailure {
		t.Fatalf("exit %d", cmdutil.ExitCode(err))
	}

	// A cli source of the same name is a conflict unless --force.
	fx.env["EDR_SECRET"] = "edr"
	local := &sources.Local{Store: fx.store, Origin: "cli"}
	if _, _, err := local.Add(context.Background(), sources.Spec{Source: "edr", Secret: "cli-secret"}); err != nil {
		t.Fatal(err)
	}
	out, _, err := fx.run(false, nil)
	var cerr *webhookconfig.ConflictError
	if !errors.As(err, &cerr) || out != "" || !strings.Contains(err.Error(), `source "edr" is already registered with origin cli`) {
		t.Fatalf("conflict: %v (stdout %q)", err, out)
	}
	out, _, err = fx.run(false, func(o *ApplyOptions) { o.Force = true })
	if err != nil || out != "edr\tupdate\tsecret, auto_triage, playbook, origin (was cli)\nemail-gateway\tcreate\t-\n" {
		t.Fatalf("forced: %q %v", out, err)
	}

	// Remotely, a usage error before the file is even read.
	_, _, err = fx.run(false, func(o *ApplyOptions) {
		o.Remote = func() (bool, error) { return true, nil }
		o.File = "/nonexistent.yaml"
	})
	var fe *cmdutil.FlagError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "not supported remotely yet: run it on the receiver") {
		t.Fatalf("remote: %v", err)
	}

	// A mistyped -f is a usage error naming the path, as --payload's is.
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, _, err = fx.run(false, func(o *ApplyOptions) {
		o.File = missing
		o.Store = func() (store.Store, error) { t.Fatal("store opened for a missing file"); return nil, nil }
	})
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage || err.Error() != "-f "+missing+": no such file" {
		t.Fatalf("missing file: %v (exit %d)", err, cmdutil.ExitCode(err))
	}
}

func TestApplyRunPrintsWarnings(t *testing.T) {
	fx := newApplyFixture(t)
	fx.write("sources:\n  s:\n    secret: literal\n")
	if err := os.Chmod(fx.path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := fx.run(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(errOut, "warning: "+fx.path+":3: sources.s.secret is written in the file, which other users can read (mode 0644)") {
		t.Fatalf("stderr %q", errOut)
	}
}

// TestApplyRemoteThroughFactory checks the real wiring: --server from the
// environment makes apply a usage error.
func TestApplyRemoteThroughFactory(t *testing.T) {
	t.Setenv("TW_CONFIG_DIR", t.TempDir())
	t.Setenv("TW_SERVER", "https://receiver.example.com")
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Config: configLoader(), Store: func() (store.Store, error) {
		t.Fatal("store opened for a remote apply")
		return nil, nil
	}}
	cmd := NewCmdApply(f, nil)
	cmd.SetArgs([]string{"-f", "webhook_config.yaml"})
	cmd.SetOut(ios.ErrOut)
	cmd.SetErr(ios.ErrOut)
	err := cmd.Execute()
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "webhook apply is not supported remotely yet") {
		t.Fatalf("got %v (exit %d)", err, cmdutil.ExitCode(err))
	}
}

func configLoader() func() (*config.Config, error) {
	return func() (*config.Config, error) { return config.Load() }
}

func TestListShowsConfigOrigin(t *testing.T) {
	fx := newApplyFixture(t)
	fx.write("sources:\n  from-file:\n    secret: f\n")
	if _, _, err := fx.run(false, nil); err != nil {
		t.Fatal(err)
	}
	local := &sources.Local{Store: fx.store, Origin: "cli", Now: func() time.Time { return t0 }}
	if _, _, err := local.Add(context.Background(), sources.Spec{Source: "by-hand", Secret: "h"}); err != nil {
		t.Fatal(err)
	}
	ios, _, out, _ := iostreams.Test()
	opts := &ListOptions{IO: ios, Sources: func() (sources.Service, error) { return local, nil }, Now: func() time.Time { return t0 }, Output: "table"}
	cmd := NewCmdList(&cmdutil.Factory{IOStreams: ios}, nil)
	cmd.SetContext(context.Background())
	if err := listRun(cmd, opts); err != nil {
		t.Fatal(err)
	}
	want := "by-hand\tauto\thmac\toff\t-\t********\tcli\t2024-01-15T10:00:00Z\n" +
		"from-file\tauto\thmac\toff\t-\t********\tconfig\t2024-01-15T10:00:00Z\n"
	if out.String() != want {
		t.Fatalf("list\n%q\nwant\n%q", out.String(), want)
	}
}

// A misspelt playbook in the file is named, as 'webhook add' names one:
// otherwise it shows only as every triage job of the source failing.
func TestApplyRunWarnsOfAnUnknownPlaybook(t *testing.T) {
	fx := newApplyFixture(t)
	fx.write("sources:\n  edr:\n    secret: s\n    auto_triage: true\n    playbook: malwar_triage\n  mail:\n    secret: s\n    auto_triage: true\n    playbook: phishing_triage\n")
	catDir := t.TempDir()
	_, errOut, err := fx.run(false, func(o *ApplyOptions) {
		o.Playbooks = func() (*triage.Catalog, error) { return triage.OpenCatalog(catDir, "") }
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, `WARNING: no playbook "malwar_triage"`) || strings.Contains(errOut, `"phishing_triage"`) {
		t.Fatalf("stderr:\n%s", errOut)
	}
}

// failCreate fails the creation of one source, as a full disk would.
type failCreate struct {
	store.Store
	name string
}

func (f failCreate) CreateSource(ctx context.Context, s *store.Source) error {
	if s.Name == f.name {
		return errors.New("disk full")
	}
	return f.Store.CreateSource(ctx, s)
}

// An apply that fails part way says which sources it wrote, in the
// table or in -o json (which printed nothing), so the state it left is
// known.
func TestApplyRunReportsAPartialApply(t *testing.T) {
	fx := newApplyFixture(t)
	fx.write("sources:\n  a:\n    secret: s\n  b:\n    secret: s\n")
	failing := func(o *ApplyOptions) {
		o.Store = func() (store.Store, error) { return failCreate{fx.store, "b"}, nil }
	}
	out, errOut, err := fx.run(false, failing)
	if err == nil || out != "a\tcreate\t-\n" || !strings.Contains(errOut, "Applied before the error: 1 created") {
		t.Fatalf("table: %q / %q / %v", out, errOut, err)
	}
	fx.write("sources:\n  a:\n    secret: s\n  b:\n    secret: s\n  c:\n    secret: s\n")
	out, _, err = fx.run(false, func(o *ApplyOptions) { failing(o); o.Output = "json" })
	var res struct {
		Changes    []webhookconfig.Change `json:"changes"`
		Error      string                 `json:"error"`
		Incomplete bool                   `json:"incomplete"`
	}
	if err == nil || json.Unmarshal([]byte(out), &res) != nil || !res.Incomplete || !strings.Contains(res.Error, "create source b: disk full") {
		t.Fatalf("json: %q, %v", out, err)
	}
}
