package triage

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/pkg/payload"
)

// costLimit bounds one evaluation, so a playbook cannot stall a worker
// with an expression over a huge payload.
const costLimit = 1_000_000

// Env compiles playbook expressions. Expressions see three variables:
//
//	event     the normalized event (payload.Event's JSON field names,
//	          every field present, lists empty rather than missing)
//	incident  the incident as triage sees it: number, title, severity,
//	          status, source, category, event_count, owner, tags,
//	          indicators
//	raw       the delivery's JSON body as received
//
// with CEL's standard library and the strings, lists and sets extensions.
type Env struct {
	env *cel.Env
}

// NewEnv builds the expression environment.
func NewEnv() (*Env, error) {
	env, err := cel.NewEnv(
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("incident", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("raw", cel.DynType),
		cel.CrossTypeNumericComparisons(true),
		// A constant regex, duration or timestamp that does not parse
		// fails every evaluation: refuse it with the playbook instead.
		cel.ASTValidators(cel.ValidateRegexLiterals(), cel.ValidateDurationLiterals(), cel.ValidateTimestampLiterals()),
		ext.Strings(),
		ext.Lists(),
		ext.Sets(),
	)
	if err != nil {
		return nil, err
	}
	return &Env{env: env}, nil
}

// Expr is a compiled expression.
type Expr struct {
	Source string
	prg    cel.Program
	// kind is what the expression must yield: "bool" or "string".
	kind string
}

// compile checks src, the fields it reads of event and incident, and its
// result type: conditions must be bool, keys string. raw's fields are the
// sender's, and are checked only when evaluated.
func (e *Env) compile(src, kind string) (*Expr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("empty expression")
	}
	ast, iss := e.env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("invalid CEL: %s", oneLine(iss.Err().Error()))
	}
	if err := checkFields(ast); err != nil {
		return nil, err
	}
	want := cel.BoolType
	if kind == "string" {
		want = cel.StringType
	}
	if out := ast.OutputType(); !out.IsExactType(cel.DynType) && !out.IsExactType(want) {
		return nil, wrongType(src, out.String(), kind)
	}
	prg, err := e.env.Program(ast, cel.CostLimit(costLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, fmt.Errorf("invalid CEL: %s", oneLine(err.Error()))
	}
	if err := e.trySamples(ast, src, kind); err != nil {
		return nil, err
	}
	return &Expr{Source: src, prg: prg, kind: kind}, nil
}

// samples are what expressions see, as the engine builds them, for an
// event with every field empty (the engine's own event for an incident
// whose events were all merged away) and for one whose lists hold a
// value each; raw is an empty object.
var samples = []map[string]any{
	{"event": knownFields["event"], "incident": knownFields["incident"], "raw": map[string]any{}},
	{"event": oneEach(knownFields["event"]), "incident": oneEach(knownFields["incident"]), "raw": map[string]any{}},
}

// oneEach copies v with every list holding one empty string.
func oneEach(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = oneEach(x)
		}
		return out
	case []string:
		return []string{""}
	}
	return v
}

// trySamples runs the expression on the samples. The checker sees event
// and incident as maps of dyn, so `match: incident.owner` passed it,
// then failed on every delivery and its job retried until it gave up.
// event's and incident's fields have the same types on every delivery,
// so a sample that yields the wrong type, or applies an operator to
// types it does not take, shows the fault. Any other error (a field of
// raw, an index past a list's end) may not happen on a real delivery,
// and is left to run time.
func (e *Env) trySamples(ast *cel.Ast, src, kind string) error {
	prg, err := e.env.Program(ast, cel.CostLimit(costLimit), cel.EvalOptions(cel.OptTrackState))
	if err != nil {
		return nil // compile built the same program without state tracking
	}
	for _, s := range samples {
		out, det, err := prg.Eval(s)
		if err != nil {
			if det != nil {
				if call, ok := badCall(ast, det.State()); ok {
					return fmt.Errorf("%s: no %s: convert a value with int(), double() or string() so the types match", oneLine(src), call)
				}
				if access, ok := badAccess(ast, det.State()); ok {
					return fmt.Errorf("%s: %s", oneLine(src), access)
				}
			}
			continue
		}
		if got := out.Type().TypeName(); got != kind {
			return wrongType(src, got, kind)
		}
	}
	return nil
}

// badCall finds the call that failed for want of an overload for its
// operands' types (not one that passed on an operand's error) and
// renders it as "> for int and string".
func badCall(ast *cel.Ast, state interpreter.EvalState) (string, bool) {
	var found string
	celast.PostOrderVisit(celast.NavigateAST(ast.NativeRep()), celast.NewExprVisitor(func(e celast.Expr) {
		if found != "" || e.Kind() != celast.CallKind {
			return
		}
		v, ok := state.Value(e.ID())
		if !ok || !types.IsError(v) || !strings.HasPrefix(fmt.Sprint(v.Value()), "no such overload") {
			return
		}
		call := e.AsCall()
		args := call.Args()
		if call.IsMemberFunction() {
			args = append([]celast.Expr{call.Target()}, args...)
		}
		var kinds []string
		for _, a := range args {
			av, ok := state.Value(a.ID())
			if !ok || types.IsError(av) {
				return
			}
			kinds = append(kinds, av.Type().TypeName())
		}
		name := call.FunctionName()
		if op, ok := operators.FindReverse(name); ok && op != "" {
			name = op
		} else if name == operators.Index {
			name = "[]"
		}
		found = name + " for " + strings.Join(kinds, " and ")
	}))
	return found, found != ""
}

// badAccess finds a field selection or an index applied to a scalar (a
// field of event.title, an element of incident.event_count): the types
// of event's and incident's fields are the same on every delivery, so it
// would fail on each.
func badAccess(ast *cel.Ast, state interpreter.EvalState) (string, bool) {
	var found string
	celast.PostOrderVisit(celast.NavigateAST(ast.NativeRep()), celast.NewExprVisitor(func(e celast.Expr) {
		if found != "" {
			return
		}
		var operand celast.Expr
		var lacks string
		switch {
		case e.Kind() == celast.SelectKind && !e.AsSelect().IsTestOnly():
			operand, lacks = e.AsSelect().Operand(), "fields"
		case e.Kind() == celast.CallKind && e.AsCall().FunctionName() == operators.Index && len(e.AsCall().Args()) == 2:
			operand, lacks = e.AsCall().Args()[0], "elements"
		default:
			return
		}
		v, ok := state.Value(operand.ID())
		if !ok {
			return
		}
		switch v.Type() {
		case types.StringType, types.IntType, types.UintType, types.DoubleType, types.BoolType, types.NullType, types.BytesType:
			found = fmt.Sprintf("%s is %s, which has no %s", exprText(operand), withArticle(v.Type().TypeName()), lacks)
		}
	}))
	return found, found != ""
}

// exprText renders a chain of field selections (event.title); anything
// else is "a value".
func exprText(e celast.Expr) string {
	switch e.Kind() {
	case celast.IdentKind:
		return e.AsIdent()
	case celast.SelectKind:
		if inner := exprText(e.AsSelect().Operand()); inner != "a value" {
			return inner + "." + e.AsSelect().FieldName()
		}
	}
	return "a value"
}

func withArticle(typeName string) string {
	if strings.ContainsAny(typeName[:1], "aeiou") {
		return "an " + typeName
	}
	return "a " + typeName
}

// wrongType says an expression yields got where its step wants want,
// and how such expressions are usually mended.
func wrongType(src, got, want string) error {
	var fix string
	switch {
	case want == "bool" && strings.HasPrefix(got, "list"):
		fix = "test it, e.g. size(...) > 0 or .exists(x, ...)"
	case want == "bool" && strings.HasPrefix(got, "map"):
		fix = "test one of its fields"
	case want == "bool" && got == "string":
		fix = `compare it, e.g. != "" or == "x"`
	case want == "bool":
		fix = "compare it, e.g. > 0"
	case strings.HasPrefix(got, "list"):
		fix = `pick one element ([0]) or join them (.join(","))`
	case strings.HasPrefix(got, "map"):
		fix = "pick one of its fields"
	default:
		fix = "convert it with string(...)"
	}
	return fmt.Errorf("%s yields %s, want %s: %s", oneLine(src), got, want, fix)
}

// oneLine folds CEL's multi-line error (with its caret diagram) so it fits
// in one message naming the file and step.
func oneLine(s string) string {
	s = strings.TrimPrefix(s, "ERROR: <input>:")
	return strings.Join(strings.Fields(s), " ")
}

func (x *Expr) eval(ctx context.Context, vars Vars) (any, error) {
	out, _, err := x.prg.ContextEval(ctx, vars.activation())
	if err != nil {
		return nil, fmt.Errorf("evaluate %q: %w", x.Source, err)
	}
	if types.IsError(out) {
		return nil, fmt.Errorf("evaluate %q: %v", x.Source, out)
	}
	return out.Value(), nil
}

// Bool evaluates a condition.
func (x *Expr) Bool(ctx context.Context, vars Vars) (bool, error) {
	v, err := x.eval(ctx, vars)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("evaluate %q: got %T, want bool", x.Source, v)
	}
	return b, nil
}

// String evaluates a key.
func (x *Expr) String(ctx context.Context, vars Vars) (string, error) {
	v, err := x.eval(ctx, vars)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("evaluate %q: got %T, want string", x.Source, v)
	}
	return s, nil
}

// Vars are the inputs of an evaluation.
type Vars struct {
	Event    map[string]any
	Incident map[string]any
	Raw      any
}

func (v Vars) activation() map[string]any {
	raw := v.Raw
	if raw == nil {
		raw = map[string]any{}
	}
	return map[string]any{"event": v.Event, "incident": v.Incident, "raw": raw}
}

// knownFields are event and incident with every field present, the shape
// expressions see whatever the delivery held.
var knownFields = map[string]any{
	"event":    EventVars(payload.Event{}),
	"incident": IncidentVars(&store.Incident{}, nil),
}

// checkFields refuses a field of event or incident that does not exist
// (event.sevrity): such an expression validated, then failed on every
// delivery, and its job retried until it gave up.
func checkFields(a *cel.Ast) error {
	var err error
	celast.PreOrderVisit(celast.NavigateAST(a.NativeRep()), celast.NewExprVisitor(func(e celast.Expr) {
		if err == nil {
			err = checkPath(e)
		}
	}))
	return err
}

// checkPath checks a chain of field selections (event.entities.sender,
// incident["owner"]) rooted at event or incident against knownFields.
func checkPath(e celast.Expr) error {
	var path []string
	for {
		switch e.Kind() {
		case celast.SelectKind:
			sel := e.AsSelect()
			path = append(path, sel.FieldName())
			e = sel.Operand()
			continue
		case celast.CallKind:
			call := e.AsCall()
			if call.FunctionName() == operators.Index && len(call.Args()) == 2 && call.Args()[1].Kind() == celast.LiteralKind {
				if key, ok := call.Args()[1].AsLiteral().Value().(string); ok {
					path = append(path, key)
					e = call.Args()[0]
					continue
				}
			}
		case celast.IdentKind:
			return lookupPath(e.AsIdent(), path)
		}
		return nil
	}
}

func lookupPath(root string, rev []string) error {
	cur, ok := knownFields[root]
	if !ok || len(rev) == 0 {
		return nil
	}
	name := root
	for i := len(rev) - 1; i >= 0; i-- {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil // a list or a string: CEL's own checks apply
		}
		v, ok := m[rev[i]]
		if !ok {
			return fmt.Errorf("%s has no field %q: use one of %s", name, rev[i], strings.Join(slices.Sorted(maps.Keys(m)), ", "))
		}
		name += "." + rev[i]
		cur = v
	}
	return nil
}
