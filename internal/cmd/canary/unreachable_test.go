package canary

import (
	"net"
	"strings"
	"testing"
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
