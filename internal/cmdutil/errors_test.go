package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"plain error", errors.New("boom"), ExitFailure},
		{"context canceled", context.Canceled, ExitFailure},
		{"silent", ErrSilent, ExitFailure},
		{"cancel", ErrCancel, ExitFailure},
		{"flag error", FlagErrorf("bad --flag"), ExitUsage},
		{"wrapped flag error", fmt.Errorf("add: %w", FlagErrorf("bad")), ExitUsage},
		{"not found", NotFound("no incident %q", "INC-1"), ExitNotFound},
		{"auth", AuthError(errors.New("401")), ExitAuth},
		{"remote", RemoteError(errors.New("502")), ExitRemote},
		{"wrapped exit error", fmt.Errorf("ctx: %w", &ExitError{Code: 7, Err: errors.New("x")}), 7},
		{"exit error carrying ErrSilent", &ExitError{Code: ExitAuth, Err: ErrSilent}, ExitAuth},
		// A usage error wins over an exit code further down the chain:
		// the user must fix the command line first.
		{"flag error wrapping exit error", &FlagError{Err: NotFound("x")}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.err); got != tt.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorsKeepTheirCause(t *testing.T) {
	cause := errors.New("cause")
	for name, err := range map[string]error{
		"FlagError":   &FlagError{Err: cause},
		"AuthError":   AuthError(cause),
		"RemoteError": RemoteError(cause),
	} {
		if !errors.Is(err, cause) {
			t.Errorf("%s does not unwrap to its cause", name)
		}
		if err.Error() != "cause" {
			t.Errorf("%s message = %q, want the cause's", name, err.Error())
		}
	}
	if got := NotFound("no incident %q", "INC-2024-0001").Error(); got != `no incident "INC-2024-0001"` {
		t.Errorf("NotFound message = %q", got)
	}
}

// The help promises 1ms to 10m: 1ns was taken, and then failed as if the
// receiver were down.
func TestCheckTimeoutBounds(t *testing.T) {
	for d, ok := range map[time.Duration]bool{
		time.Nanosecond: false, 999 * time.Microsecond: false, 0: false, -time.Second: false,
		time.Millisecond: true, 10 * time.Second: true, MaxTimeout: true, MaxTimeout + 1: false,
	} {
		err := CheckTimeout(d)
		if (err == nil) != ok || (err != nil && ExitCode(err) != ExitUsage) {
			t.Errorf("CheckTimeout(%s) = %v", d, err)
		}
	}
}
