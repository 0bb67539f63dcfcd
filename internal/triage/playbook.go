// Package triage runs auto-triage playbooks on incidents: parsing and
// validating playbooks (YAML steps with CEL conditions), the built-in
// ones, the engine that applies a playbook's steps to an incident, and
// the worker pool that takes jobs from the store's durable queue.
package triage

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/pkg/payload"
)

// Step types.
const (
	StepMatch       = "match"
	StepSetSeverity = "set_severity"
	StepAddTags     = "add_tags"
	StepAssign      = "assign"
	StepGroup       = "group"
	StepSuppress    = "suppress"
	StepExtract     = "extract_indicators"
	StepNotify      = "notify"
)

// StepTypes lists the step types in the order the docs present them.
var StepTypes = []string{StepMatch, StepSetSeverity, StepAddTags, StepAssign, StepGroup, StepSuppress, StepExtract, StepNotify}

// AllDestinations in a notify step means every configured destination.
const AllDestinations = "*"

// DefaultGroupWindow is a group step's window when it names none.
const DefaultGroupWindow = time.Hour

// Playbook is a named, ordered list of steps.
//
// Semantics: steps run in order against the incident as the previous
// steps left it. A `match` step whose condition is false stops the
// playbook there (the incident is not for this playbook); any step may
// carry an `if` condition, and a false `if` skips only that step. A
// `suppress` step, and a `group` step that folds the incident into an
// existing one, also end the playbook.
type Playbook struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Steps       []Step `json:"steps"`
	// Origin is "builtin" or the file the playbook was read from.
	Origin string `json:"origin"`
	// Text is the YAML as written.
	Text string `json:"-"`
}

// ResumeAt finds where a job that stopped before step (named name, if
// the file named it) goes on in this version of the playbook: by the
// name, since the file may have been edited while the job waited, and a
// step's number then names another step (one that already ran, or one
// never run). A name the playbook no longer has is an error: which steps
// ran is unknowable then, and guessing could skip a step or repeat a
// notification. Unnamed steps resume by number: their names (notify-2)
// follow their position, so they would mislead just the same.
func (p *Playbook) ResumeAt(step int, name string) (int, error) {
	if name == "" || step < len(p.Steps) && p.Steps[step].Name == name {
		return step, nil
	}
	for i, st := range p.Steps {
		if st.Name == name {
			if !st.Named {
				// A generated name (notify-2) follows position, as the
				// number does: no better a guess, and no worse.
				return step, nil
			}
			return i, nil
		}
	}
	return step, fmt.Errorf("playbook %s was edited while the job waited and has no step %q left to resume at: restore the step, or run the playbook by hand (tw-cli playbook run)", p.Name, name)
}

// Step is one step of a playbook; Type says which of the fields is set.
type Step struct {
	Name string `json:"name"`
	// Named says the file gave Name; otherwise it comes from the step's
	// type and position (notify-2) and moves when steps are added.
	Named bool   `json:"-"`
	Type  string `json:"type"`
	If    *Expr  `json:"-"`
	// IfSource is the `if` condition as written.
	IfSource     string        `json:"if,omitempty"`
	Match        *Expr         `json:"-"`
	Severity     string        `json:"severity,omitempty"`
	Tags         []string      `json:"tags,omitempty"`
	Owner        string        `json:"owner,omitempty"`
	GroupKey     *Expr         `json:"-"`
	GroupWindow  time.Duration `json:"-"`
	Reason       string        `json:"reason,omitempty"`
	ScanRaw      bool          `json:"scan_raw,omitempty"`
	Destinations []string      `json:"destinations,omitempty"`
	// Line is where the step starts in its file.
	Line int `json:"line"`
}

// Expression returns the step's main expression as written, for display.
func (s Step) Expression() string {
	switch {
	case s.Match != nil:
		return s.Match.Source
	case s.GroupKey != nil:
		return s.GroupKey.Source
	}
	return ""
}

// Problem is one thing wrong with a playbook file.
type Problem struct {
	File string
	Line int
	// Step is "step 3 (name)" or empty for the playbook as a whole.
	Step string
	Msg  string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Step != "" {
		b.WriteString(p.Step + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// ValidationError lists every problem found in one playbook file.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// ValidName reports whether name can name a playbook (the rule source
// registration applies to --playbook).
func ValidName(name string) bool { return sources.IsToken(name, "_-") }

// Parse reads and validates a playbook. file names it in errors; the
// playbook's name defaults to the file's base name and, when the file
// gives one, must match it, so `--playbook X` always finds X.yaml.
func (e *Env) Parse(file string, data []byte) (*Playbook, error) {
	p := &parser{env: e, file: file}
	pb := p.parse(data)
	if len(p.problems) > 0 {
		return nil, &ValidationError{Problems: p.problems}
	}
	pb.Origin, pb.Text = file, string(data)
	return pb, nil
}

// yamlErrorLine splits yaml.v3's "yaml: line N: msg" into the 1-based
// line and the message. Its parser errors ("did not find expected …")
// count lines from 0 (the line where the unclosed construct starts, or
// where the parser gave up); its scanner errors count from 1.
func yamlErrorLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return 0, msg
	}
	num, text, ok := strings.Cut(rest, ": ")
	n, convErr := strconv.Atoi(num)
	if !ok || convErr != nil {
		return 0, msg
	}
	if strings.HasPrefix(text, "did not find expected") {
		return n + 1, text
	}
	return n, text
}

type parser struct {
	env      *Env
	file     string
	problems []Problem
}

func (p *parser) fail(line int, step, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Step: step, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) parse(data []byte) *Playbook {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := yamlErrorLine(err)
		p.fail(line, "", "invalid YAML: %s", msg)
		return nil
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		p.fail(0, "", "a playbook is a YAML mapping with name, description and steps")
		return nil
	}
	root := doc.Content[0]
	pb := &Playbook{}
	base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(p.file), ".yaml"), ".yml")
	var steps *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "name":
			pb.Name = p.scalar(v, "", "name")
		case "description":
			pb.Description = strings.TrimSpace(p.scalar(v, "", "description"))
		case "steps":
			steps = v
		default:
			p.fail(k.Line, "", "unknown key %q (want name, description, steps)", k.Value)
		}
	}
	switch {
	case pb.Name == "":
		pb.Name = base
	case pb.Name != base && base != "":
		p.fail(root.Line, "", "name %q differs from the file name %q: rename one so --playbook finds it", pb.Name, base)
	}
	if !ValidName(pb.Name) {
		p.fail(root.Line, "", "invalid playbook name %q: use letters, digits, '_' or '-'", pb.Name)
	}
	if steps == nil || steps.Kind != yaml.SequenceNode || len(steps.Content) == 0 {
		p.fail(root.Line, "", "steps: want a non-empty list of steps")
		return pb
	}
	names := map[string]int{} // explicit step name → line
	for _, n := range steps.Content {
		if name := explicitName(n); name != "" {
			names[name] = n.Line
		}
	}
	taken := map[string]bool{}
	seen := map[string]int{} // explicit step name → line, in file order
	for i, n := range steps.Content {
		if st, ok := p.step(i, n); ok {
			// The timeline names steps, and a resumed notify step finds
			// its earlier deliveries by name: two steps with one name
			// could not be told apart.
			if name := explicitName(n); name != "" {
				st.Named = true
				if line, dup := seen[name]; dup {
					p.fail(n.Line, name, "step name %q is already used on line %d: rename one", name, line)
				}
				seen[name] = n.Line
			} else {
				// Unnamed steps go by their type; a second of a type
				// by its type and position: notify-2.
				base := st.Name
				for k := 2; taken[st.Name] || names[st.Name] != 0; k++ {
					st.Name = fmt.Sprintf("%s-%d", base, k)
				}
			}
			taken[st.Name] = true
			pb.Steps = append(pb.Steps, st)
		}
	}
	return pb
}

// explicitName is the name: a step's YAML gives it, "" if none.
func explicitName(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" {
			return strings.TrimSpace(n.Content[i+1].Value)
		}
	}
	return ""
}

func (p *parser) scalar(n *yaml.Node, step, key string) string {
	if n.Kind != yaml.ScalarNode {
		p.fail(n.Line, step, "%s: want a single value", key)
		return ""
	}
	return n.Value
}

func (p *parser) strings(n *yaml.Node, step, key string) []string {
	var out []string
	switch n.Kind {
	case yaml.ScalarNode:
		out = []string{n.Value}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				p.fail(c.Line, step, "%s: want a list of strings", key)
				return nil
			}
			out = append(out, c.Value)
		}
	default:
		p.fail(n.Line, step, "%s: want a string or a list of strings", key)
		return nil
	}
	if len(out) == 0 {
		// add_tags: [] or notify: [] would do nothing, silently.
		p.fail(n.Line, step, "%s: empty list", key)
		return nil
	}
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
		if out[i] == "" {
			p.fail(n.Line, step, "%s: empty value", key)
			return nil
		}
	}
	return out
}

func (p *parser) expr(n *yaml.Node, step, key, kind string) *Expr {
	src := p.scalar(n, step, key)
	if src == "" && n.Kind == yaml.ScalarNode {
		p.fail(n.Line, step, "%s: empty expression", key)
		return nil
	}
	if src == "" {
		return nil
	}
	x, err := p.env.compile(src, kind)
	if err != nil {
		p.fail(n.Line, step, "%s: %v", key, err)
		return nil
	}
	return x
}

func (p *parser) step(i int, n *yaml.Node) (Step, bool) {
	label := fmt.Sprintf("step %d", i+1)
	if n.Kind != yaml.MappingNode {
		p.fail(n.Line, label, "want a mapping such as {add_tags: [phishing]}")
		return Step{}, false
	}
	// Label the step first (its name, else its type), so every problem
	// found below says which step it is in.
	for j := 0; j+1 < len(n.Content); j += 2 {
		k := n.Content[j].Value
		if k == "name" {
			if name := strings.TrimSpace(n.Content[j+1].Value); name != "" {
				label = fmt.Sprintf("step %d (%s)", i+1, name)
				break
			}
		}
		if slices.Contains(StepTypes, k) && label == fmt.Sprintf("step %d", i+1) {
			label = fmt.Sprintf("step %d (%s)", i+1, k)
		}
	}
	before := len(p.problems)
	st := Step{Line: n.Line}
	var action *yaml.Node
	for j := 0; j+1 < len(n.Content); j += 2 {
		k, v := n.Content[j], n.Content[j+1]
		switch k.Value {
		case "name":
			st.Name = strings.TrimSpace(p.scalar(v, label, "name"))
		case "if":
			st.IfSource = p.scalar(v, label, "if")
			st.If = p.expr(v, label, "if", "bool")
		case StepMatch, StepSetSeverity, StepAddTags, StepAssign, StepGroup, StepSuppress, StepExtract, StepNotify:
			if st.Type == k.Value {
				p.fail(k.Line, label, "has %s twice", k.Value)
				continue
			}
			if st.Type != "" {
				p.fail(k.Line, label, "has both %s and %s: one action per step", st.Type, k.Value)
				continue
			}
			st.Type, action = k.Value, v
		default:
			p.fail(k.Line, label, "unknown step type %q (want one of %s)", k.Value, strings.Join(StepTypes, ", "))
		}
	}
	if st.Type == "" {
		if len(p.problems) == before {
			p.fail(n.Line, label, "no action: add one of %s", strings.Join(StepTypes, ", "))
		}
		return Step{}, false
	}
	if st.Name == "" {
		st.Name = st.Type
	}
	p.action(&st, action, label)
	return st, len(p.problems) == before
}

func (p *parser) action(st *Step, v *yaml.Node, label string) {
	switch st.Type {
	case StepMatch:
		if st.If != nil {
			p.fail(v.Line, label, "a match step is already a condition: drop its if")
		}
		st.Match = p.expr(v, label, StepMatch, "bool")
	case StepSetSeverity:
		s := p.scalar(v, label, StepSetSeverity)
		sev, ok := payload.ParseSeverity(s)
		if !ok || string(sev) != strings.ToLower(strings.TrimSpace(s)) {
			p.fail(v.Line, label, "set_severity: %q is not one of critical, high, medium, low, info", s)
		}
		st.Severity = string(sev)
	case StepAddTags:
		st.Tags = p.strings(v, label, StepAddTags)
	case StepAssign:
		st.Owner = strings.TrimSpace(p.scalar(v, label, StepAssign))
		if st.Owner == "" && v.Kind == yaml.ScalarNode {
			p.fail(v.Line, label, "assign: empty owner")
		}
	case StepGroup:
		p.group(st, v, label)
	case StepSuppress:
		st.Reason = strings.TrimSpace(p.scalar(v, label, StepSuppress))
		switch strings.ToLower(st.Reason) {
		case "", "true", "yes":
			st.Reason = "suppressed by playbook"
		case "false", "no":
			// It read as the reason "false", and suppressed.
			p.fail(v.Line, label, "suppress: %q would still suppress: give a reason, or drop the step (use if: to make it conditional)", st.Reason)
		}
	case StepExtract:
		p.extract(st, v, label)
	case StepNotify:
		st.Destinations = p.strings(v, label, StepNotify)
		for _, d := range st.Destinations {
			if d != AllDestinations && !notify.ValidName(d) {
				p.fail(v.Line, label, "notify: invalid destination name %q", d)
			}
		}
	}
}

func (p *parser) group(st *Step, v *yaml.Node, label string) {
	st.GroupWindow = DefaultGroupWindow
	if v.Kind != yaml.MappingNode {
		p.fail(v.Line, label, "group: want {key: <CEL string expression>, window: 1h}")
		return
	}
	for j := 0; j+1 < len(v.Content); j += 2 {
		k, val := v.Content[j], v.Content[j+1]
		switch k.Value {
		case "key":
			st.GroupKey = p.expr(val, label, "group.key", "string")
		case "window":
			d, err := time.ParseDuration(p.scalar(val, label, "group.window"))
			if err != nil || d <= 0 {
				p.fail(val.Line, label, "group.window: %q is not a positive duration such as 30m or 24h", val.Value)
				continue
			}
			st.GroupWindow = d
		default:
			p.fail(k.Line, label, "group: unknown key %q (want key, window)", k.Value)
		}
	}
	if st.GroupKey == nil && !p.failedAt(label) {
		p.fail(v.Line, label, "group: key is required")
	}
}

func (p *parser) failedAt(label string) bool {
	for _, pr := range p.problems {
		if pr.Step == label {
			return true
		}
	}
	return false
}

func (p *parser) extract(st *Step, v *yaml.Node, label string) {
	st.ScanRaw = true
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Value != "true" {
			p.fail(v.Line, label, "extract_indicators: want true or {raw: false}")
		}
	case yaml.MappingNode:
		for j := 0; j+1 < len(v.Content); j += 2 {
			k, val := v.Content[j], v.Content[j+1]
			if k.Value != "raw" || (val.Value != "true" && val.Value != "false") {
				p.fail(k.Line, label, "extract_indicators: unknown option %s=%s (want raw: true|false)", k.Value, val.Value)
				continue
			}
			st.ScanRaw = val.Value == "true"
		}
	default:
		p.fail(v.Line, label, "extract_indicators: want true or {raw: false}")
	}
}

// IsValidation reports whether err is a playbook's validation error.
func IsValidation(err error) bool {
	var v *ValidationError
	return errors.As(err, &v)
}
