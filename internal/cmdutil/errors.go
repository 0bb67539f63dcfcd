package cmdutil

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes, documented in `tw-cli --help`.
const (
	ExitOK       = 0
	ExitFailure  = 1
	ExitUsage    = 2
	ExitAuth     = 3 // authentication or signature failure
	ExitNotFound = 4
	ExitRemote   = 5 // a remote endpoint answered with a failure
)

// ExitCodeHelp is appended to the root command's help.
const ExitCodeHelp = `Exit codes:
  0  success
  1  error
  2  usage error (bad flag or argument)
  3  authentication or signature failure
  4  not found
  5  remote endpoint failed (e.g. 'webhook test' got a non-2xx)`

// FlagError is a usage error: the user typed something the command cannot take.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf returns a usage error (exit 2).
func FlagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// ExitError carries an explicit exit code with its message.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// NotFound returns an error that exits 4.
func NotFound(format string, args ...any) error {
	return &ExitError{Code: ExitNotFound, Err: fmt.Errorf(format, args...)}
}

// AuthError returns an error that exits 3.
func AuthError(err error) error { return &ExitError{Code: ExitAuth, Err: err} }

// RemoteError returns an error that exits 5.
func RemoteError(err error) error { return &ExitError{Code: ExitRemote, Err: err} }

// ErrSilent exits 1 without printing: the command already said why.
var ErrSilent = errors.New("silent error")

// ErrCancel is returned when the user declines a prompt.
var ErrCancel = errors.New("cancelled")

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var fe *FlagError
	if errors.As(err, &fe) || isFlagParseError(err) {
		return ExitUsage
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailure
}

// isFlagParseError reports pflag's own parse errors, which are usage errors
// even where no FlagErrorFunc wrapped them.
func isFlagParseError(err error) bool {
	var (
		invalid  *pflag.InvalidValueError
		syntax   *pflag.InvalidSyntaxError
		missing  *pflag.ValueRequiredError
		notExist *pflag.NotExistError
	)
	return errors.As(err, &invalid) || errors.As(err, &syntax) || errors.As(err, &missing) || errors.As(err, &notExist)
}

// WrapFlagError is the root's flag error func: whatever cobra or pflag
// refuses while parsing flags is a usage error (exit 2).
func WrapFlagError(_ *cobra.Command, err error) error { return &FlagError{Err: err} }

// MaxTimeout bounds --timeout: past it a request that hangs looks like a
// hung command.
const MaxTimeout = 10 * time.Minute

// CheckTimeout refuses a --timeout too short for any answer (under a
// millisecond, which then failed as if nothing were listening) or absurd.
func CheckTimeout(d time.Duration) error {
	if d < time.Millisecond || d > MaxTimeout {
		return FlagErrorf("--timeout %s: give a duration between 1ms and %s, such as 10s", d, MaxTimeout)
	}
	return nil
}
