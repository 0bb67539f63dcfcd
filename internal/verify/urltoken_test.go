package verify

import (
	"net/url"
	"testing"
)

func TestURLTokenBad(t *testing.T) {
	const good = "url-token/splunk"
	const token = "3q2-7wQh0rV_kZ8xN4mB9sLc1YdT6uFe"
	setQuery := func(raw string) func(*Request) {
		return func(r *Request) {
			q, err := url.ParseQuery(raw)
			if err != nil {
				panic(err)
			}
			r.Query = q
		}
	}
	runBadCases(t, []badCase{
		{name: "missing", vector: good, mutate: setQuery(""),
			want: ErrInvalidSignature, msg: "missing ?token= query parameter"},
		{name: "empty", vector: good, mutate: setQuery("token="),
			want: ErrInvalidSignature, msg: "missing ?token="},
		{name: "other case of the name", vector: good, mutate: setQuery("Token=" + token),
			want: ErrInvalidSignature, msg: "missing ?token="},
		{name: "in a header instead", vector: good,
			mutate: func(r *Request) { r.Query = nil; r.Header.Set("Authorization", "Bearer "+token) },
			want:   ErrInvalidSignature, msg: "missing ?token="},
		{name: "wrong", vector: good, mutate: setQuery("token=" + token[1:]),
			want: ErrInvalidSignature, msg: "?token= token does not match the source's secrets"},
		// Only the first value counts, so a bad first value is not rescued
		// by a later good one.
		{name: "first of two is wrong", vector: good, mutate: setQuery("token=wrong&token=" + token),
			want: ErrInvalidSignature, msg: "does not match"},
		{name: "default name when another is set", vector: "url-token/custom-param", mutate: setQuery("token=" + token),
			want: ErrInvalidSignature, msg: "missing ?key= query parameter"},
	})
}

func TestURLTokenOptions(t *testing.T) {
	secrets := [][]byte{[]byte("3q2-7wQh0rV_kZ8xN4mB9sLc1YdT6uFe")}
	for _, param := range []string{"api key", "a&b", "t=1"} {
		if _, err := New(ModeURLToken, secrets, Options{TokenParam: param}); err == nil {
			t.Errorf("New accepted token parameter %q", param)
		}
	}
}
