package triage

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
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

// compile checks src and its result type: conditions must be bool, keys
// string. Fields of the dynamic maps are checked when evaluated.
func (e *Env) compile(src, kind string) (*Expr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("empty expression")
	}
	ast, iss := e.env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("invalid CEL: %s", oneLine(iss.Err().Error()))
	}
	want := cel.BoolType
	if kind == "string" {
		want = cel.StringType
	}
	if out := ast.OutputType(); !out.IsExactType(cel.DynType) && !out.IsExactType(want) {
		return nil, fmt.Errorf("expression yields %s, want %s", out, kind)
	}
	prg, err := e.env.Program(ast, cel.CostLimit(costLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, fmt.Errorf("invalid CEL: %s", oneLine(err.Error()))
	}
	return &Expr{Source: src, prg: prg, kind: kind}, nil
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
