package payload

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
)

// slowDecode is what decodeObject did before the fast path: the reference.
func slowDecode(body []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return doc, true
}

var fastJSONSeeds = []string{
	`{}`, ` {"a":1} `, `{"a":[1,2,{"b":null}],"c":true,"d":false}`,
	`{"n":-0.5e+10,"m":0,"o":12.25E-3}`, `{"s":"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"}`,
	`{"lone":"\ud800x","pair":"\ud800\u0041","bad":"\xff\xfe"}`, `{"a":1,"a":2}`,
	`{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a":1}x`, `{"a":1}}`,
	`{"a":"x`, `{"a" 1}`, `{a:1}`, `{"a":1,}`, `[1]`, `null`, `"s"`, `{"a":"\x01"}`,
	`{"a":"\u12G4"}`, `{"a":[1,]}`, `{"a":{"b":{"c":{}}}}`, "{\"a\":\"tab\there\"}",
}

func TestFastDecodeAgreesWithEncodingJSON(t *testing.T) {
	for _, fx := range fixtures(t) {
		fastJSONSeeds = append(fastJSONSeeds, string(fx.body))
	}
	for _, in := range fastJSONSeeds {
		checkFastDecode(t, []byte(in))
	}
}

func FuzzFastDecode(f *testing.F) {
	for _, s := range fastJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkFastDecode(t, body) })
}

// checkFastDecode: whenever the fast decoder accepts a body, encoding/json
// accepts it too and decodes the same document.
func checkFastDecode(t *testing.T, body []byte) {
	t.Helper()
	fast, ok := fastDecodeObject(body)
	if !ok {
		return // encoding/json decides
	}
	slow, sok := slowDecode(body)
	if !sok {
		t.Fatalf("fast decoder accepted %q, encoding/json rejects it", body)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("decoded %q differently:\nfast %#v\nslow %#v", body, fast, slow)
	}
}

// The fast path must take the bodies the receiver actually sees, or it
// is no faster.
func TestFastDecodeTakesValidBodies(t *testing.T) {
	for _, fx := range fixtures(t) {
		if _, ok := fastDecodeObject(fx.body); !ok {
			if _, valid := slowDecode(fx.body); valid {
				t.Errorf("%s: a valid body left to encoding/json", fx.name)
			}
		}
	}
}
