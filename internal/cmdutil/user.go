package cmdutil

import "os/user"

// CurrentUser names the person running a command, for timelines and
// audit entries; "cli" when the system cannot tell.
func CurrentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "cli"
}
