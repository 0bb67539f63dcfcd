package triage

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/pkg/payload"
)

func newEnv(t *testing.T) *Env {
	t.Helper()
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	return env
}

const fullPlaybook = `name: sample
description: every step type
steps:
  - name: only-phish
    match: event.category == "Phish"
  - set_severity: critical
    if: size(event.entities.urls) > 0
  - add_tags: [phishing, email]
  - add_tags: vip
  - assign: alice
  - name: dedupe
    group:
      key: '"s:" + event.entities.sender'
      window: 30m
  - suppress: known noise
    if: event.entities.sender.endsWith("@company.com")
  - extract_indicators: {raw: false}
  - extract_indicators: true
  - notify: ["*", soc-slack]
`

func TestParseEveryStepType(t *testing.T) {
	pb, err := newEnv(t).Parse("playbooks/sample.yaml", []byte(fullPlaybook))
	if err != nil {
		t.Fatal(err)
	}
	if pb.Name != "sample" || pb.Description != "every step type" || len(pb.Steps) != 10 {
		t.Fatalf("playbook = %+v", pb)
	}
	s := pb.Steps
	checks := []struct {
		ok   bool
		what string
	}{
		{s[0].Type == StepMatch && s[0].Name == "only-phish" && s[0].Match != nil && s[0].Line == 4, "match"},
		{s[1].Type == StepSetSeverity && s[1].Severity == "critical" && s[1].If != nil && s[1].Name == "set_severity", "set_severity"},
		{strings.Join(s[2].Tags, ",") == "phishing,email" && strings.Join(s[3].Tags, ",") == "vip", "add_tags"},
		{s[4].Owner == "alice", "assign"},
		{s[5].GroupKey != nil && s[5].GroupWindow == 30*time.Minute, "group"},
		{s[6].Reason == "known noise", "suppress"},
		{!s[7].ScanRaw && s[8].ScanRaw, "extract_indicators"},
		{strings.Join(s[9].Destinations, ",") == "*,soc-slack", "notify"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s step parsed wrong: %+v", c.what, s)
		}
	}
}

func TestValidationNamesFileAndStep(t *testing.T) {
	cases := map[string]struct {
		yaml string
		want []string
	}{
		"unknown step": {`steps:
  - name: tag
    add_tag: [x]
`, []string{"bad.yaml:3: step 1 (tag): unknown step type \"add_tag\""}},
		"bad CEL": {`steps:
  - add_tags: [x]
  - name: broken
    match: event.category ==
`, []string{"bad.yaml:4: step 2 (broken): match: invalid CEL"}},
		"non-bool match": {`steps:
  - match: '"yes"'
`, []string{`step 1 (match): match: "yes" yields string, want bool: compare it`}},
		"non-string key": {`steps:
  - group: {key: "1 + 2"}
`, []string{"group.key: 1 + 2 yields int, want string: convert it with string(...)"}},
		// event and incident are maps of dyn to CEL's checker: these
		// passed validation, then failed every attempt of every job.
		"string as match":       {"steps:\n  - match: incident.owner\n", []string{"bad.yaml:2: step 1 (match): match: incident.owner yields string, want bool: compare it"}},
		"title as match":        {"steps:\n  - match: event.title\n", []string{"match: event.title yields string, want bool"}},
		"list element as match": {"steps:\n  - match: event.entities.urls[0]\n", []string{"match: event.entities.urls[0] yields string, want bool"}},
		"int against string": {"steps:\n  - name: busy\n    if: incident.event_count > \"2\"\n    add_tags: [busy]\n",
			[]string{`bad.yaml:3: step 1 (busy): if: incident.event_count > "2": no > for int and string: convert a value with int(), double() or string()`}},
		"in a comprehension": {"steps:\n  - match: event.entities.hosts.exists(h, h > 1)\n", []string{"no > for string and int"}},
		// Constant arguments that can never work: refused when written,
		// not on every delivery.
		"bad regex":     {"steps:\n  - match: event.title.matches('[unclosed')\n", []string{"match: invalid CEL"}},
		"bad duration":  {"steps:\n  - match: duration('soon') > duration('1h')\n", []string{"match: invalid CEL"}},
		"bad timestamp": {"steps:\n  - match: timestamp('yesterday') < timestamp('2024-01-01T00:00:00Z')\n", []string{"match: invalid CEL"}},
		// event's and incident's fields have fixed types: a field of a
		// string or an index into an int fails on every delivery.
		"field of a string": {"steps:\n  - match: event.title.text == 'x'\n", []string{"match: event.title.text == 'x': event.title is a string, which has no fields"}},
		"index into an int": {"steps:\n  - match: incident.event_count[0] == 1\n", []string{"match: incident.event_count[0] == 1: incident.event_count is an int, which has no elements"}},
		"list as key": {"steps:\n  - group: {key: event.entities.hosts}\n",
			[]string{`bad.yaml:2: step 1 (group): group.key: event.entities.hosts yields list, want string: pick one element ([0]) or join them (.join(","))`}},
		"map as key": {"steps:\n  - group: {key: incident.indicators}\n", []string{"group.key: incident.indicators yields map, want string"}},
		"int as key": {"steps:\n  - group: {key: incident.event_count}\n", []string{"group.key: incident.event_count yields int, want string"}},
		"bad severity": {`steps:
  - set_severity: urgent
`, []string{"set_severity: \"urgent\" is not one of"}},
		"two actions": {`steps:
  - assign: bob
    add_tags: [x]
`, []string{"has both assign and add_tags"}},
		"one action twice": {"steps:\n  - add_tags: [x]\n    add_tags: [y]\n", []string{"bad.yaml:3: step 1 (add_tags): has add_tags twice"}},
		"no action": {`steps:
  - name: lonely
`, []string{"step 1 (lonely): no action"}},
		"bad window": {`steps:
  - group: {key: event.title, window: soon}
`, []string{"group.window: \"soon\" is not a positive duration"}},
		"missing key": {`steps:
  - group: {window: 1h}
`, []string{"group: key is required"}},
		"no steps":        {"name: bad\n", []string{"steps: want a non-empty list"}},
		"name mismatch":   {"name: other\nsteps:\n  - assign: x\n", []string{"name \"other\" differs from the file name \"bad\""}},
		"unknown key":     {"title: x\nsteps:\n  - assign: x\n", []string{"unknown key \"title\""}},
		"bad yaml":        {"steps: [\n", []string{"bad.yaml:2: invalid YAML: did not find expected node content"}},
		"unclosed list":   {"name: bad\nsteps:\n  - name: a\n    add_tags: [x\n", []string{"bad.yaml:4: invalid YAML: did not find expected ',' or ']'"}},
		"stray colons":    {"name: bad\nsteps:\n  - name: a\n    bad: : :\n", []string{"bad.yaml:4: invalid YAML: mapping values are not allowed"}},
		"bad dest":        {"steps:\n  - notify: [\"bad name\"]\n", []string{"notify: invalid destination name"}},
		"no tags":         {"steps:\n  - add_tags: []\n", []string{"add_tags: empty list"}},
		"no destinations": {"steps:\n  - notify: []\n", []string{"notify: empty list"}},
		"match with if":   {"steps:\n  - match: 'true'\n    if: 'true'\n", []string{"drop its if"}},
		"suppress false":  {"steps:\n  - suppress: false\n", []string{"suppress: \"false\" would still suppress"}},
		"duplicate names": {"steps:\n  - name: tag\n    add_tags: [a]\n  - name: tag\n    add_tags: [b]\n", []string{"step name \"tag\" is already used on line 2"}},
		"several problems": {`steps:
  - set_severity: loud
  - nope: 1
`, []string{"step 1 (set_severity)", "step 2: unknown step type \"nope\""}},
	}
	env := newEnv(t)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := env.Parse("dir/bad.yaml", []byte(c.yaml))
			if err == nil || !IsValidation(err) {
				t.Fatalf("err = %v, want a validation error", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "dir/bad.yaml") {
				t.Errorf("error does not start with the file: %q", err)
			}
		})
	}
}

// Trying expressions on sample events must not refuse playbooks that
// work: the shipped ones, the example of 'tw-cli playbook --help', and
// expressions whose faults, if any, depend on the delivery.
func TestValidPlaybooksStayValid(t *testing.T) {
	env := newEnv(t)
	files, err := fs.Glob(builtins, "playbooks/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, f := range files {
		data, _ := fs.ReadFile(builtins, f)
		if _, err := env.Parse(f, data); err != nil {
			t.Errorf("built-in %s: %v", f, err)
		}
	}
	// The example in 'tw-cli playbook --help' is checked where that help
	// is written (internal/cmd/playbook), from the help text itself.
	if _, err := env.Parse("sample.yaml", []byte(fullPlaybook)); err != nil {
		t.Errorf("sample.yaml: %v", err)
	}
	for src, kind := range map[string]string{
		`raw.flag`:                             "bool", // the sender's field: its type is known only on delivery
		`has(raw.flag) && raw.flag`:            "bool",
		`raw.data.score > 5`:                   "bool",
		`incident.event_count > 2`:             "bool",
		`incident.event_count > 2.5`:           "bool",
		`incident["owner"] == ""`:              "bool",
		`event.entities.hosts[0] == "db-1"`:    "bool",
		`event.title.matches("(?i)urgent")`:    "bool",
		`"h:" + event.entities.hosts[0]`:       "string",
		`event.entities.hosts.join(",")`:       "string",
		`raw.id`:                               "string",
		`string(incident.event_count)`:         "string",
		`event.entities.sender.lowerAscii()`:   "string",
		`size(event.entities.urls) > 0`:        "bool",
		`incident.tags.exists(t, t == "vip")`:  "bool",
		`event.entities.hosts.all(h, h != "")`: "bool",
	} {
		if _, err := env.compile(src, kind); err != nil {
			t.Errorf("compile(%s, %s) = %v, want it valid", src, kind, err)
		}
	}
}

func TestBuiltinsAndUserDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "vip.yaml"), []byte("steps:\n  - add_tags: [vip]\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "default.yml"), []byte("name: default\nsteps:\n  - assign: me\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("steps:\n  - bogus: 1\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o600)
	cat, err := LoadCatalog(newEnv(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	if p := cat.Problems(); len(p) != 1 || !strings.Contains(p[0].Error(), "broken.yaml:2: step 1: unknown step type \"bogus\"") {
		t.Fatalf("problems = %v", p)
	}
	var names []string
	for _, pb := range cat.List() {
		names = append(names, pb.Name+"="+filepath.Base(pb.Origin))
	}
	if got := strings.Join(names, " "); got != "default=default.yml malware_triage=builtin phishing_triage=builtin vip=vip.yaml" {
		t.Fatalf("catalog = %s", got)
	}
	// The shipped playbooks are valid on their own.
	plain, err := LoadCatalog(newEnv(t), filepath.Join(dir, "missing"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"phishing_triage", "malware_triage", "default"} {
		pb, ok := plain.Get(n)
		if !ok || pb.Origin != OriginBuiltin || len(pb.Steps) == 0 || pb.Text == "" {
			t.Errorf("built-in %s = %+v", n, pb)
		}
	}
	if Dir("/data", "") != "/data/playbooks" || Dir("/data", "/etc/pb") != "/etc/pb" {
		t.Fatal("Dir")
	}
}

func defenderEvent() payload.Event {
	return payload.Event{
		Format: "defender", Type: "PhishingEmail", Title: "PhishingEmail: Urgent Action Required", Severity: "high",
		Category: "Phish", Action: payload.ActionCreate,
		Entities: payload.Entities{Sender: "phisher@malicious.com", Recipients: []string{"user@company.com"}},
	}
}

func TestExpressionsSeeEventIncidentAndRaw(t *testing.T) {
	env := newEnv(t)
	inc := &store.Incident{Number: "INC-2024-0001", Severity: "medium", Status: "open", EventCount: 2}
	tr := &store.IncidentTriage{Tags: []string{"vip"}}
	vars := Vars{Event: EventVars(defenderEvent()), Incident: IncidentVars(inc, tr), Raw: RawVars([]byte(`{"data":{"score":7}}`))}
	ctx := context.Background()
	for src, want := range map[string]bool{
		`event.category == "Phish"`:                          true,
		`event.entities.sender.endsWith("@malicious.com")`:   true,
		`size(event.entities.urls) == 0`:                     true,
		`"vip" in incident.tags && incident.event_count > 1`: true,
		`raw.data.score > 5`:                                 true,
		`event.title.lowerAscii().contains("urgent")`:        true,
		`incident.owner != ""`:                               false,
	} {
		x, err := env.compile(src, "bool")
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		got, err := x.Bool(ctx, vars)
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", src, got, err, want)
		}
	}
	// A field of event or incident that does not exist is refused when
	// the playbook is loaded, at any depth and in either notation.
	for src, want := range map[string]string{
		`event.sevrity == "high"`:                  `event has no field "sevrity": use one of action, category,`,
		`event.entities.sendr == ""`:               `event.entities has no field "sendr": use one of command_lines,`,
		`incident["ownr"] == ""`:                   `incident has no field "ownr"`,
		`has(incident.indicators.url)`:             `incident.indicators has no field "url"`,
		`[1].exists(x, event.title.contains("a"))`: "",
	} {
		_, err := env.compile(src, "bool")
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("compile(%s) = %v, want %q", src, err, want)
		}
	}
	// raw is the sender's: a field it lacks is an evaluation error, not
	// false.
	x, err := env.compile(`raw.nosuch == "x"`, "bool")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Bool(ctx, vars); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("missing field = %v", err)
	}
	key, _ := env.compile(`"phish:" + event.entities.sender`, "string")
	if k, err := key.String(ctx, vars); err != nil || k != "phish:phisher@malicious.com" {
		t.Fatalf("key = %q, %v", k, err)
	}
}

func TestExtractIndicators(t *testing.T) {
	ev := payload.Event{
		Description: "Click hxxps://evil[.]example/reset now",
		Entities: payload.Entities{
			Sender: "a@Bad.Example", URLs: []string{"https://cdn.test/x.js"}, IPs: []string{"203.0.113.9", "127.0.0.1"},
			FileHashes: []string{"D41D8CD98F00B204E9800998ECF8427E", strings.Repeat("0", 64)},
		},
	}
	raw := []byte(`{"IncidentHash":"0123456789abcdef0123456789abcdef","body":"see http://198.51.100.4:8080/a, and 2001:db8::1",
		"attachments":[{"sha256":"3f1e6c0a9b3d2e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"}],"version":"1.2.3"}`)
	got := Extract(ev, raw, true)
	want := store.Indicators{
		URLs:    []string{"http://198.51.100.4:8080/a", "https://cdn.test/x.js", "https://evil.example/reset"},
		Domains: []string{"bad.example", "cdn.test", "evil.example"},
		IPs:     []string{"198.51.100.4", "2001:db8::1", "203.0.113.9"},
		Hashes:  []string{"3f1e6c0a9b3d2e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f", "d41d8cd98f00b204e9800998ecf8427e"},
	}
	for _, c := range []struct {
		name      string
		got, want []string
	}{{"urls", got.URLs, want.URLs}, {"domains", got.Domains, want.Domains}, {"ips", got.IPs, want.IPs}, {"hashes", got.Hashes, want.Hashes}} {
		if strings.Join(c.got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	noRaw := Extract(ev, raw, false)
	if len(noRaw.IPs) != 1 || len(noRaw.Hashes) != 1 {
		t.Fatalf("raw scanned although disabled: %+v", noRaw)
	}
}

// Defanged links in the common spellings, and a sender with a display
// name, yield clean indicators.
func TestExtractDefangedAndDisplayNames(t *testing.T) {
	ev := payload.Event{
		Description: "hxxps[:]//evil[.]com/login and hxxp[://]other[.]net/a and hXXps://third[.]org/b",
		Entities:    payload.Entities{Sender: "Phisher <phisher@Mail.Evil.com>"},
	}
	got := Extract(ev, nil, false)
	if want := "https://evil.com/login http://other.net/a https://third.org/b"; strings.Join(got.URLs, " ") != strings.Join(sorted(strings.Fields(want)), " ") {
		t.Errorf("urls = %v", got.URLs)
	}
	if want := "evil.com mail.evil.com other.net third.org"; strings.Join(got.Domains, " ") != want {
		t.Errorf("domains = %v, want %s", got.Domains, want)
	}
}

// A megabyte of links yields a bounded list (it held 60,000, each checked
// against all the others: 80 s of CPU for one delivery).
func TestExtractIsBounded(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "http://h%d.io/ ", i)
	}
	got := Extract(payload.Event{Description: b.String()}, nil, false)
	if len(got.URLs) != maxPerKind || len(got.Domains) != maxPerKind {
		t.Fatalf("%d urls, %d domains, want %d each", len(got.URLs), len(got.Domains), maxPerKind)
	}
}

// A playbooks dir mounted from a Kubernetes ConfigMap: each file is a
// link through ..data, a link swapped to a new directory on each update.
// The swap is an edit, though no entry of the directory itself changed.
func TestReloadSeesConfigMapUpdates(t *testing.T) {
	dir := t.TempDir()
	write := func(version, match string) {
		d := filepath.Join(dir, version)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "mounted.yaml"), []byte("steps:\n  - match: "+match+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(version, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	write("..v1", `event.type == "a"`)
	if err := os.Symlink("..data/mounted.yaml", filepath.Join(dir, "mounted.yaml")); err != nil {
		t.Fatal(err)
	}
	cat, err := LoadCatalog(newEnv(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	if reloaded, err := cat.ReloadIfChanged(); err != nil || reloaded {
		t.Fatalf("nothing changed, yet reloaded = %v, %v", reloaded, err)
	}
	write("..v2", `event.type == "a" || event.type == "b"`)
	if reloaded, err := cat.ReloadIfChanged(); err != nil || !reloaded {
		t.Fatalf("after the update: reloaded = %v, %v", reloaded, err)
	}
	pb, ok := cat.Get("mounted")
	if !ok || !strings.Contains(pb.Steps[0].Match.Source, `"b"`) {
		t.Fatalf("the catalog holds %+v", pb)
	}
}

// Unnamed steps go by their type; a second one of a type gets its own
// name, so that the timeline, and a resumed notify step, tell them apart.
func TestUnnamedStepsOfOneTypeGetTheirOwnNames(t *testing.T) {
	pb, err := newEnv(t).Parse("twice.yaml", []byte("steps:\n  - notify: [a]\n  - set_severity: high\n  - notify: [b]\n  - name: notify-3\n    notify: [c]\n  - notify: [d]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range pb.Steps {
		got = append(got, st.Name)
	}
	if want := "notify set_severity notify-2 notify-3 notify-4"; strings.Join(got, " ") != want {
		t.Fatalf("step names = %v, want %s", got, want)
	}
	// Only the name the file gave is one a job resumes by: the others
	// follow their position.
	for i, st := range pb.Steps {
		if st.Named != (i == 3) {
			t.Errorf("step %d (%s): Named = %v", i, st.Name, st.Named)
		}
	}
}

// A relative playbooks dir (playbooks_dir: .) still ties a broken file's
// problem to its playbook.
func TestProblemWithARelativeDir(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("x.yaml", []byte("steps:\n  - set_severity: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := LoadCatalog(newEnv(t), ".")
	if err != nil {
		t.Fatal(err)
	}
	if p := cat.Problem("x"); p == nil || !strings.Contains(p.Error(), "loud") {
		t.Fatalf("Problem(x) = %v", p)
	}
}
