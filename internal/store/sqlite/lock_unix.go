//go:build unix

package sqlite

import (
	"errors"
	"os"
	"syscall"
)

// lockExclusive takes an advisory lock on f without waiting. The kernel
// drops it when the process ends, however it ends, so a receiver killed
// with -9 never leaves a stale lock behind.
func lockExclusive(f *os.File) (held bool, err error) {
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
