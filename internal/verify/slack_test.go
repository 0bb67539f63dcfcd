package verify

import (
	"net/http"
	"testing"
	"time"
)

// The worked example of Slack's "Verifying requests from Slack" page
// (api.slack.com/authentication/verifying-requests-from-slack).
func TestSlackDocsExample(t *testing.T) {
	const body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	ver, err := New(ModeSlack, [][]byte{[]byte("8f742231b10e8888abcd99yyyzzz85a5")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
	h.Set("X-Slack-Request-Timestamp", "1531420618")
	res, err := ver.Verify(Request{Header: h, Body: []byte(body), Now: time.Unix(1531420618, 0).Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Mode: ModeSlack, Timestamp: time.Unix(1531420618, 0)}
	if res != want {
		t.Errorf("Verify = %+v, want %+v", res, want)
	}
}

func TestSlackBad(t *testing.T) {
	const good = "slack/event-callback"
	const goodSig = "v0=b8a652ee45738b6b87f6b8d6d09b5804a9498125c02320907440d1ca827e0028"
	runBadCases(t, []badCase{
		{name: "missing signature", vector: good, mutate: delHeader("X-Slack-Signature"),
			want: ErrInvalidSignature, msg: "missing X-Slack-Signature header"},
		{name: "missing timestamp", vector: good, mutate: delHeader("X-Slack-Request-Timestamp"),
			want: ErrInvalidSignature, msg: "missing X-Slack-Request-Timestamp header"},
		{name: "timestamp with a fraction", vector: good, mutate: setHeader("X-Slack-Request-Timestamp", "1705320000.5"),
			want: ErrInvalidSignature, msg: "malformed X-Slack-Request-Timestamp header: want unix seconds"},
		{name: "negative timestamp", vector: good, mutate: setHeader("X-Slack-Request-Timestamp", "-1705320000"),
			want: ErrInvalidSignature, msg: "malformed X-Slack-Request-Timestamp"},
		{name: "other timestamp", vector: good, mutate: setHeader("X-Slack-Request-Timestamp", "1705320001"),
			want: ErrInvalidSignature, msg: "X-Slack-Signature does not match the source's secrets"},
		{name: "v1 prefix", vector: good, mutate: setHeader("X-Slack-Signature", "v1="+goodSig[3:]),
			want: ErrInvalidSignature, msg: "malformed X-Slack-Signature header: want v0=<hex>"},
		{name: "no prefix", vector: good, mutate: setHeader("X-Slack-Signature", goodSig[3:]),
			want: ErrInvalidSignature, msg: "malformed X-Slack-Signature"},
		{name: "truncated", vector: good, mutate: setHeader("X-Slack-Signature", goodSig[:40]),
			want: ErrInvalidSignature, msg: "malformed X-Slack-Signature"},
		{name: "one flipped digit", vector: good, mutate: setHeader("X-Slack-Signature", goodSig[:len(goodSig)-1]+"9"),
			want: ErrInvalidSignature, msg: "does not match"},
		{name: "only the previous secret known", vector: "slack/previous-secret", secrets: []string{"slack-signing-secret-0123456789ab"},
			want: ErrInvalidSignature, msg: "does not match"},
		{name: "stale", vector: good, shift: DefaultTolerance,
			want: ErrExpired, msg: "X-Slack-Request-Timestamp is 6m0s old, more than the allowed 5m0s"},
		{name: "from the future", vector: good, shift: -DefaultTolerance - 2*time.Minute,
			want: ErrExpired, msg: "X-Slack-Request-Timestamp is 6m0s in the future"},
	})
}
