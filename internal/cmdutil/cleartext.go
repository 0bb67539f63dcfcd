package cmdutil

import (
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/tw-cli/tw-cli/internal/redact"
)

// WarnCleartext warns on w, without failing, when a token sent to rawURL
// would cross the network unencrypted (redact.InClear): an
// on-premises server or a test one may legitimately be plain http, but
// the user should know. what names the URL ("--server"), token the secret
// ("admin token"), hint ends the advice. Only the host is named: the URL
// could hold userinfo.
func WarnCleartext(w io.Writer, rawURL, what, token, hint string) {
	if !redact.InClear(rawURL) {
		return
	}
	// InClear parsed the same trimmed URL.
	u, _ := url.Parse(strings.TrimSpace(rawURL))
	fmt.Fprintf(w, "! %s uses plain http to %s: the %s is sent unencrypted, readable by anyone on the network path; use https%s\n", what, u.Host, token, hint)
}
