package cmdutil

import (
	"os/user"

	"github.com/tw-cli/tw-cli/internal/store"
)

// CurrentUser names the person running a command, for timelines and
// audit entries; "cli" when the system cannot tell. The name is made one
// an incident edit can record (store.RecordableName): a receiver's API
// refused a directory login name longer than 64 bytes, so its owner could
// not edit incidents remotely at all.
func CurrentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return store.RecordableName(u.Username)
	}
	return "cli"
}
