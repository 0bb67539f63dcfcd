package incidents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/store"
)

// Every verb takes -o json and prints the incident it changed, the same
// document `incidents show -o json` prints right after; the human line
// goes away so stdout is only JSON.
func TestVerbsPrintTheIncidentAsShow(t *testing.T) {
	for _, verb := range [][]string{
		{"ack"},
		{"resolve"},
		{"assign", "", "alice"},
		{"comment", "", "Sender blocked"},
	} {
		t.Run(verb[0], func(t *testing.T) {
			f, _, num, out, errb := setup(t)
			args := slices.Clone(verb)
			if len(args) > 1 {
				args[1] = num
			} else {
				args = append(args, num)
			}
			if err := exec(f, errb, append(args, "-o", "json")...); err != nil {
				t.Fatal(err)
			}
			if errb.Len() != 0 {
				t.Errorf("stderr = %q, want nothing besides the JSON", errb)
			}
			got := out.String()
			out.Reset()
			if err := exec(f, errb, "show", num, "-o", "json"); err != nil {
				t.Fatal(err)
			}
			if got != out.String() {
				t.Fatalf("%s -o json:\n%s\nshow -o json:\n%s", verb[0], got, out)
			}
			var d Detail
			if err := json.Unmarshal([]byte(got), &d); err != nil {
				t.Fatal(err)
			}
			last := d.Timeline[len(d.Timeline)-1]
			switch verb[0] {
			case "ack":
				if d.Status != store.StatusAcknowledged || last.Kind != store.TimelineStatus {
					t.Errorf("ack: %+v", d)
				}
			case "resolve":
				if d.Status != store.StatusResolved || last.Kind != store.TimelineStatus {
					t.Errorf("resolve: %+v", d)
				}
			case "assign":
				if d.Owner != "alice" || last.Kind != store.TimelineAssign {
					t.Errorf("assign: %+v", d)
				}
			case "comment":
				if last.Kind != store.TimelineComment || last.Message != "Sender blocked" {
					t.Errorf("comment: %+v", d)
				}
			}
		})
	}
}

func TestVerbsYAMLAndTable(t *testing.T) {
	f, _, num, out, errb := setup(t)
	if err := exec(f, errb, "assign", num, "bob", "-o", "yaml"); err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := yaml.Unmarshal(out.Bytes(), &d); err != nil || d["owner"] != "bob" || d["number"] != num {
		t.Fatalf("yaml = %s, %v", out, err)
	}
	// -o table is the default: the line on stderr, nothing on stdout.
	out.Reset()
	errb.Reset()
	if err := exec(f, errb, "ack", num, "-o", "table"); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || errb.String() != "✓ "+num+" is now acknowledged\n" {
		t.Fatalf("stdout %q, stderr %q", out, errb)
	}
	// Said again, the verb changes nothing; -o json still prints the
	// incident, and the note stays off stdout.
	errb.Reset()
	if err := exec(f, errb, "ack", num, "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var again Detail
	if err := json.Unmarshal(out.Bytes(), &again); err != nil || again.Status != store.StatusAcknowledged || errb.Len() != 0 {
		t.Fatalf("ack again: stdout %s (%v), stderr %q", out, err, errb)
	}
	errb.Reset()
	if err := exec(f, errb, "ack", num); err != nil || errb.String() != num+" is already acknowledged\n" {
		t.Fatalf("ack again, table: %v, stderr %q", err, errb)
	}
}

// A usage error names what is missing, not every argument.
func TestMissingArgumentsAreNamed(t *testing.T) {
	f, _, num, _, _ := setup(t)
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"comment", num}, "missing comment text (- reads stdin)\n\nUsage: comment <number|id> <text> [flags]"},
		{[]string{"comment"}, "missing incident number or id, and comment text (- reads stdin)\n\nUsage: comment <number|id> <text> [flags]"},
		{[]string{"assign", num}, "missing owner\n\nUsage: assign <number|id> <owner> [flags]"},
		{[]string{"assign"}, "missing incident number or id, and owner\n\nUsage: assign <number|id> <owner> [flags]"},
		{[]string{"comment", num, "a", "b"}, "too many arguments: b\n\nUsage: comment <number|id> <text> [flags]"},
		{[]string{"ack"}, "missing incident number or id\n\nUsage: ack <number|id> [flags]"},
	} {
		var errb bytes.Buffer
		err := exec(f, &errb, tt.args...)
		var fe *cmdutil.FlagError
		if !errors.As(err, &fe) || err.Error() != strings.Replace(tt.msg, "Usage: ", "Usage: incidents ", 1) {
			t.Errorf("%v: err = %q, want usage error %q", tt.args, err, tt.msg)
		}
	}
}

// `incidents list` carries each incident's owner and tags as `show` does,
// so a jq select on the owner finds what `incidents assign` set.
func TestListHasOwnerAndTags(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	if err := e.run(NewCmdIncidents(e.f), "assign", "INC-2024-0001", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.ApplyIncidentChange(ctx, "INC-2024-0001", store.IncidentChange{AddTags: []string{"phishing", "vip"}}, nil, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.ApplyIncidentChange(ctx, "INC-2024-0002", store.IncidentChange{AddTags: []string{"malware"}}, nil, t0); err != nil {
		t.Fatal(err)
	}
	e.stderr.Reset()

	if err := e.run(NewCmdList(e.f, nil), "-o", "json"); err != nil {
		t.Fatal(err)
	}
	listed := bytes.Clone(e.stdout.Bytes())
	var rows []map[string]any
	if err := json.Unmarshal(listed, &rows); err != nil || len(rows) != 3 {
		t.Fatalf("list -o json = %s, %v", listed, err)
	}
	// Each row's owner and tags are show's, key for key: owner left out
	// when unset, tags always a list.
	for _, row := range rows {
		e.stdout.Reset()
		if err := e.run(NewCmdShow(e.f, nil), row["number"].(string), "-o", "json"); err != nil {
			t.Fatal(err)
		}
		var shown map[string]any
		if err := json.Unmarshal(e.stdout.Bytes(), &shown); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"owner", "tags"} {
			gv, gok := row[k]
			sv, sok := shown[k]
			if gok != sok || !jsonEqual(gv, sv) {
				t.Errorf("%s: list has %s=%v (%v), show has %v (%v)", row["number"], k, gv, gok, sv, sok)
			}
		}
	}
	if tags, ok := rows[2]["tags"].([]any); !ok || len(tags) != 2 || rows[2]["owner"] != "alice" {
		t.Errorf("INC-2024-0001 listed as %v", rows[2])
	}
	if tags, ok := rows[0]["tags"].([]any); !ok || len(tags) != 0 {
		t.Errorf("untagged INC-2024-0003 has tags %#v, want []", rows[0]["tags"])
	}

	// --jq '.[]|select(.owner=="alice")' finds the assigned incident.
	jq, err := output.CompileJQ(`.[]|select(.owner=="alice")|.number`)
	if err != nil {
		t.Fatal(err)
	}
	var found bytes.Buffer
	if err := jq.Apply(&found, listed); err != nil || found.String() != "INC-2024-0001\n" {
		t.Fatalf("jq select on owner = %q, %v", found.String(), err)
	}

	// The table shows the owner last, "-" for none.
	e.stdout.Reset()
	if err := e.run(NewCmdList(e.f, nil), "--source", "email-gateway"); err != nil {
		t.Fatal(err)
	}
	e.expect("INC-2024-0003\tlow\topen\temail-gateway\tSpam wave\t1\t2024-01-15T14:00:00Z\t-\n"+
		"INC-2024-0001\thigh\topen\temail-gateway\tPhishing reported: Invoice\t1\t2024-01-15T10:00:00Z\talice\n", "")

	// --owner filters before --limit: alice's incident is the oldest.
	e.stdout.Reset()
	if err := e.run(NewCmdList(e.f, nil), "--owner", "alice", "--limit", "1"); err != nil {
		t.Fatal(err)
	}
	e.expect("INC-2024-0001\thigh\topen\temail-gateway\tPhishing reported: Invoice\t1\t2024-01-15T10:00:00Z\talice\n", "")
	e.stdout.Reset()
	if err := e.run(NewCmdList(e.f, nil), "--owner", "bob"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "")
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
