//go:build unix

package config

import (
	"os"
	"path/filepath"
	"syscall"
)

// lockName is the file whose lock serializes changes to the config file.
// A file, not the directory: over NFS, flock is emulated with a byte-range
// lock, which needs a file opened for writing.
const lockName = ".config.lock"

// lockDir takes an exclusive advisory lock for the config dir, waiting for
// another tw-cli that holds it. The kernel drops it when the process ends,
// however it ends, so no stale lock is left behind.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
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
