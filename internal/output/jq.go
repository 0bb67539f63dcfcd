package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/itchyny/gojq"
)

// JQ is a compiled --jq filter.
type JQ struct {
	code *gojq.Code
	// Terminal shows the control characters of string results, which
	// print raw like `jq -r`: a title's escape sequence must not reach a
	// terminal. Piped, they stay as they are.
	Terminal bool
}

// CompileJQ parses a jq expression, so a typo is a usage error before the
// command does any work.
func CompileJQ(expr string) (*JQ, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid --jq expression: %w", err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, fmt.Errorf("invalid --jq expression: %w", err)
	}
	return &JQ{code: code}, nil
}

// Apply runs the filter over every JSON value in data (one document, or a
// stream such as JSON lines) and writes each result: strings raw, like
// `jq -r`, everything else as compact JSON.
func (j *JQ) Apply(w io.Writer, data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		var v any
		if err := dec.Decode(&v); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("--jq: the command's output is not JSON: %w", err)
		}
		iter := j.code.Run(normalizeNumbers(v))
		for {
			out, ok := iter.Next()
			if !ok {
				break
			}
			if err, ok := out.(error); ok {
				var halt *gojq.HaltError
				if errors.As(err, &halt) && halt.Value() == nil {
					break
				}
				return fmt.Errorf("--jq: %w", err)
			}
			if s, ok := out.(string); ok {
				if j.Terminal {
					s = Printable(s)
				}
				if _, err := fmt.Fprintln(w, s); err != nil {
					return err
				}
				continue
			}
			b, err := gojq.Marshal(out)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintln(w, string(b)); err != nil {
				return err
			}
		}
	}
}

// normalizeNumbers turns json.Number into the int or float64 gojq expects,
// keeping integers exact.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		// Past int64, an integer stays exact as gojq's *big.Int: a
		// float64 printed 18446744073709551615 as ...552000.
		if b, ok := new(big.Int).SetString(x.String(), 10); ok {
			return b
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	}
	return v
}
