package threatstack

import "github.com/tw-cli/tw-cli/pkg/threatstack"

// dash stands in for an empty cell, so piped columns never collapse.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// yesNoUnknown is yesNo, or "-" for a value the API did not send.
func yesNoUnknown(b *bool) string {
	if b == nil {
		return "-"
	}
	return yesNo(*b)
}

// severityName is "high", "medium" or "low" for the API's 1, 2, 3.
func severityName(s int) string {
	if s == 0 {
		return "-"
	}
	return threatstack.SeverityName(s)
}
