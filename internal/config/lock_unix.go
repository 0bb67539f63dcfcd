//go:build unix

package config

import (
	"os"
	"syscall"
)

// lockDir takes an exclusive advisory lock on the config dir, waiting for
// another tw-cli that holds it. The kernel drops it when the process ends,
// however it ends, so no stale lock is left behind.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
