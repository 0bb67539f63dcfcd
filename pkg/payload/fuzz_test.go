package payload

import (
	"errors"
	"testing"
)

// fuzzParse seeds the corpus with a format's fixtures (every fixture for
// auto) and a few edge cases, then checks that parsing never panics, that
// failures wrap ErrInvalid, and that successes keep the Parser contract.
func fuzzParse(f *testing.F, format string) {
	for _, fx := range fixtures(f) {
		if format == FormatAuto || fx.format == format {
			f.Add(fx.body)
		}
	}
	for _, s := range []string{``, `null`, `[]`, `{}`, `{"alerts":[]}`, `{"alerts":[1,{}]}`, `{"a":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := Parse(format, body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		checkEvents(t, res.Format, res.Events)
	})
}

func FuzzParseAuto(f *testing.F)    { fuzzParse(f, FormatAuto) }
func FuzzParseGeneric(f *testing.F) { fuzzParse(f, FormatGeneric) }

func FuzzParseDefender(f *testing.F)    { fuzzParse(f, FormatDefender) }
func FuzzParseCrowdStrike(f *testing.F) { fuzzParse(f, FormatCrowdStrike) }
func FuzzParseSplunk(f *testing.F)      { fuzzParse(f, FormatSplunk) }
func FuzzParseTheHive(f *testing.F)     { fuzzParse(f, FormatTheHive) }
func FuzzParseThreatStack(f *testing.F) { fuzzParse(f, FormatThreatStack) }
func FuzzParseCanary(f *testing.F)      { fuzzParse(f, FormatCanary) }
