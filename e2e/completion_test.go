package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestCompletionsAreFresh fails when completions/ no longer matches what the
// binary generates: run `make completions`.
func TestCompletionsAreFresh(t *testing.T) {
	e := newEnv(t)
	for shell, file := range map[string]string{"bash": "tw-cli.bash", "zsh": "_tw-cli", "fish": "tw-cli.fish", "powershell": "tw-cli.ps1"} {
		want, err := os.ReadFile(filepath.Join("..", "completions", file))
		if err != nil {
			t.Fatalf("completions/%s: %v (run 'make completions')", file, err)
		}
		if got := e.must("completion", shell).stdout; got != string(want) {
			t.Errorf("completions/%s is stale: run 'make completions'", file)
		}
	}
	e.expectCode(2, "completion", "tcsh")
}

// TestFishCompletion drives the shipped fish script as fish's Tab does
// (complete -C). Cobra's script evals the words before the cursor: a
// quoted `(touch …)` in one of them ran, and a quoted path with spaces
// split.
func TestFishCompletion(t *testing.T) {
	if _, err := exec.LookPath("fish"); err != nil {
		t.Skip("fish is not installed (.ci/run installs it)")
	}
	e := newEnv(t)
	e.must("webhook", "add", "edr", "--secret", "s")
	spaced := filepath.Join(t.TempDir(), "dir with space")
	e.must("--data-dir", spaced, "webhook", "add", "spaced", "--secret", "s")
	script, _ := filepath.Abs(filepath.Join("..", "completions", "tw-cli.fish"))
	marker := filepath.Join(t.TempDir(), "ran")
	complete := func(line string) string {
		t.Helper()
		cmd := exec.Command("fish", "--no-config", "-c", "source "+script+"; complete -C $argv[1]", line)
		cmd.Env = append(e.environ(), "PATH="+filepath.Dir(binary)+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("fish: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := complete("tw-cli webhook show "); !strings.Contains(out, "edr") {
		t.Fatalf("webhook show <Tab>:\n%s", out)
	}
	if out := complete("tw-cli webhook add x --description 'see (touch " + marker + ")' --format "); !strings.Contains(out, "generic") {
		t.Fatalf("--format <Tab> after a quoted description:\n%s", out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("Tab ran a command written inside a quoted argument")
	}
	if out := complete("tw-cli --data-dir '" + spaced + "' webhook show "); !strings.Contains(out, "spaced") {
		t.Fatalf("webhook show <Tab> with a quoted --data-dir holding spaces:\n%s", out)
	}
}

// TestBashCompletion drives the shipped bash script through bash-completion
// the way an interactive shell does, and checks the candidates.
func TestBashCompletion(t *testing.T) {
	const framework = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(framework); err != nil {
		t.Skip("bash-completion is not installed (.ci/run installs it)")
	}
	e := newEnv(t)
	e.must("webhook", "add", "email-gateway", "--secret", "s")
	e.must("webhook", "add", "edr", "--secret", "s")
	script, _ := filepath.Abs(filepath.Join("..", "completions", "tw-cli.bash"))

	complete := func(words ...string) []string {
		t.Helper()
		// The last word is the one being completed ("" for a new word).
		line := strings.Join(words, " ")
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		prev := words[len(words)-2]
		sh := `source ` + framework + `; source ` + script + `
COMP_LINE='` + line + `'; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(` + strings.Join(quoted, " ") + `); COMP_CWORD=` + strconv.Itoa(len(words)-1) + `
__start_tw-cli tw-cli '` + words[len(words)-1] + `' '` + prev + `' 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command("bash", "--norc", "--noprofile", "-c", sh)
		cmd.Env = append(e.environ(), "PATH="+filepath.Dir(binary)+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}
	tests := []struct {
		words []string
		want  []string
	}{
		{[]string{"tw-cli", "webhook", "show", ""}, []string{"edr", "email-gateway"}},
		{[]string{"tw-cli", "webhook", "show", "em"}, []string{"email-gateway"}},
		{[]string{"tw-cli", "webhook", "list", "-o", ""}, []string{"json", "table", "yaml"}},
		{[]string{"tw-cli", "webhook", "add", "x", "--verify", "st"}, []string{"standard-webhooks"}},
		// The seed's "--auto-triage true", where the value is an argument.
		{[]string{"tw-cli", "webhook", "add", "x", "--auto-triage", ""}, []string{"false", "true"}},
		{[]string{"tw-cli", "webhook", "update", "edr", "--auto-triage", "f"}, []string{"false"}},
		{[]string{"tw-cli", "completion", ""}, []string{"bash", "fish", "powershell", "zsh"}},
		{[]string{"tw-cli", "webh"}, []string{"webhook"}},
		// --source filters name a source, not a file.
		{[]string{"tw-cli", "events", "list", "--source", ""}, []string{"edr", "email-gateway"}},
		{[]string{"tw-cli", "incidents", "list", "--source", "ed"}, []string{"edr"}},
		{[]string{"tw-cli", "logs", "--source", ""}, []string{"edr", "email-gateway"}},
		{[]string{"tw-cli", "help", "webh"}, []string{"webhook"}},
	}
	for _, tt := range tests {
		got := complete(tt.words...)
		if strings.Join(sorted(got), " ") != strings.Join(tt.want, " ") {
			t.Errorf("%q completes to %v, want %v", strings.Join(tt.words, " "), got, tt.want)
		}
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
