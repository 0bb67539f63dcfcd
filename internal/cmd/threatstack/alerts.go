package threatstack

import (
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// NewCmdAlerts returns the `threatstack alerts` group.
func NewCmdAlerts(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "alerts <command>",
		Aliases: []string{"alert"},
		Short:   "List, inspect and dismiss Threat Stack alerts",
	}
	cmd.AddCommand(
		NewCmdAlertsList(f, nil),
		NewCmdAlertsGet(f, nil),
		NewCmdAlertsEvents(f, nil),
		NewCmdAlertsDismiss(f, nil),
		NewCmdAlertsSeverityCounts(f, nil),
	)
	return cmd
}

// parseSeverity accepts 1, 2, 3 or high, medium, low.
func parseSeverity(s string) (int, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return 0, nil
	case "1", "high":
		return threatstack.SeverityHigh, nil
	case "2", "medium":
		return threatstack.SeverityMedium, nil
	case "3", "low":
		return threatstack.SeverityLow, nil
	}
	return 0, cmdutil.FlagErrorf("invalid --severity %q: use 1 (high), 2 (medium) or 3 (low)", s)
}

// parseWhen reads --from/--until: a duration back from now (24h, 7d), a
// date or an RFC 3339 time.
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	t, err := cmdutil.ParseSince(s, now)
	if err != nil {
		return time.Time{}, cmdutil.FlagErrorf("invalid --%s %q: use a duration back from now (90m, 24h, 7d), a date (2024-01-15) or RFC 3339", flag, s)
	}
	return t, nil
}

func alertStatus(a threatstack.Alert) string {
	if a.IsDismissed {
		return threatstack.AlertDismissed
	}
	return threatstack.AlertActive
}

func severityCell(s int) string {
	if s == 0 {
		return "-"
	}
	return strconv.Itoa(s) + " " + severityName(s)
}
