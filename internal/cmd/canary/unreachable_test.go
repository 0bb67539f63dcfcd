package canary

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/pkg/canary/canarytest"
)

// A console that does not answer gets an error that says where to look,
// not only Go's dial error.
func TestUnreachableConsoleSaysWhereToLook(t *testing.T) {
	isolate(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	t.Setenv("CANARY_API_URL", "http://"+addr+"/api/v1/")
	t.Setenv("CANARY_AUTH_TOKEN", testToken)
	env := newTestEnv(t, false)
	code, err := env.run(t, "canary", "webhooks", "disable") // a POST: not retried
	if code != 1 || err == nil || !strings.Contains(err.Error(), "the console did not answer: check --domain or --api-url") {
		t.Fatalf("exit %d, %v", code, err)
	}
}

// A test whose console does not answer exits 5, like a failed one, and -o
// json still prints an object for the CI log.
func TestTestWithoutAnswer(t *testing.T) {
	check := func(t *testing.T, env *testEnv, code int, err error, want string) {
		t.Helper()
		if code != 5 {
			t.Fatalf("exit %d (%v), want 5", code, err)
		}
		var got map[string]any
		if jerr := json.Unmarshal(env.stdout.Bytes(), &got); jerr != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", jerr, env.stdout)
		}
		msg, _ := got["message"].(string)
		if got["result"] != "error" || !strings.Contains(msg, want) || got["status"] != nil {
			t.Errorf("stdout = %v, want result error with a message about %q and no status", got, want)
		}
		if strings.Contains(env.stdout.String()+env.stderr.String(), testToken) {
			t.Error("output shows the token")
		}
	}
	t.Run("unreachable", func(t *testing.T) {
		isolate(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		t.Setenv("CANARY_API_URL", "http://"+addr+"/api/v1/")
		t.Setenv("CANARY_AUTH_TOKEN", testToken)
		env := newTestEnv(t, false)
		code, err := env.run(t, "canary", "webhooks", "test", "generic", hookURL, "-o", "json")
		check(t, env, code, err, "generic/test")
		if err == nil || !strings.Contains(err.Error(), "the console did not answer") {
			t.Errorf("error lost its hint: %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		isolate(t)
		console := canarytest.NewServer(t, testToken)
		seedConsole(console)
		console.SetDelay("flock/settings/webhooks/generic/test", 2*time.Second)
		useConsole(t, console)
		env := newTestEnv(t, false)
		code, err := env.run(t, "canary", "--timeout", "100ms", "webhooks", "test", "generic", hookURL, "-o", "json")
		check(t, env, code, err, "Timeout")
	})
}
