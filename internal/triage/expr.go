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
