//go:build !unix

package sqlite

import "os"

// lockExclusive cannot lock here; one receiver per database file is then
// the operator's to keep.
func lockExclusive(*os.File) (bool, error) { return true, nil }
