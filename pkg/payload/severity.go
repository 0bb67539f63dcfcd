package payload

import (
	"fmt"
	"sort"
	"strings"
)

// Severity is tw-cli's normalized severity scale.
type Severity string

// The normalized severities, most severe first.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Severities lists the normalized scale, most severe first.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}

// ParseSeverity accepts a normalized severity name, case-insensitively.
func ParseSeverity(s string) (Severity, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, v := range Severities {
		if string(v) == s {
			return v, true
		}
	}
	return "", false
}

// MapSeverity normalizes a vendor severity. A per-source mapping (seed 003's
// severity_mapping: vendor value → normalized value) wins; then the vendor
// value itself if it already names a normalized severity; otherwise fallback.
func MapSeverity(vendor string, mapping map[string]string, fallback Severity) Severity {
	if s, ok := lookupSeverity(mapping, vendor); ok {
		return s
	}
	v := strings.ToLower(strings.TrimSpace(vendor))
	if s, ok := ParseSeverity(v); ok {
		return s
	}
	switch v {
	case "informational", "information":
		return SeverityInfo
	case "moderate":
		return SeverityMedium
	case "severe":
		return SeverityHigh
	}
	return fallback
}

// ApplySeverityMapping re-maps the severity of each event with a source's
// severity_mapping (seed 003), in place. A key is matched, case-insensitively,
// first against the vendor's own value (so "4: critical" works for Falcon's
// numeric scale) and then against the severity the parser chose (so
// "high: critical" works for every format, including those that send no
// severity of their own, such as Canary). Values that name no normalized
// severity are ignored; ValidateSeverityMapping reports them up front.
func ApplySeverityMapping(events []Event, mapping map[string]string) {
	if len(mapping) == 0 {
		return
	}
	for i := range events {
		ev := &events[i]
		if s, ok := lookupSeverity(mapping, ev.VendorSeverity); ok {
			ev.Severity = s
		} else if s, ok := lookupSeverity(mapping, string(ev.Severity)); ok {
			ev.Severity = s
		}
	}
}

// ValidateSeverityMapping reports mapping values that name no normalized
// severity, so a configuration loader can reject them instead of having
// them silently ignored.
func ValidateSeverityMapping(mapping map[string]string) error {
	var bad []string
	seen := make(map[string]string, len(mapping))
	for k, v := range mapping {
		norm := strings.ToLower(strings.TrimSpace(k))
		if norm == "" {
			bad = append(bad, fmt.Sprintf("empty key (mapped to %q)", v))
			continue
		}
		// Keys match case-insensitively, so "High" and "high" would race.
		if other, dup := seen[norm]; dup {
			first, second := other, k
			if second < first {
				first, second = second, first
			}
			bad = append(bad, fmt.Sprintf("%s and %s are the same key", first, second))
		}
		seen[norm] = k
		if _, ok := ParseSeverity(v); !ok {
			bad = append(bad, fmt.Sprintf("%s: %q", k, v))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("severity_mapping: %s (values must be one of critical, high, medium, low, info)", strings.Join(bad, "; "))
}

func lookupSeverity(mapping map[string]string, key string) (Severity, bool) {
	key = strings.TrimSpace(key)
	if key == "" {
		return "", false
	}
	if to, ok := mapping[key]; ok {
		s, ok := ParseSeverity(to)
		return s, ok
	}
	for k, to := range mapping {
		if strings.EqualFold(strings.TrimSpace(k), key) {
			if s, ok := ParseSeverity(to); ok {
				return s, true
			}
		}
	}
	return "", false
}

// scaleSeverity maps a vendor's numeric scale; values off the scale fall
// back, so a vendor adding a level never fails a parse.
func scaleSeverity(v any, scale map[int64]Severity, fallback Severity) Severity {
	if n, ok := intOf(v); ok {
		if s, ok := scale[n]; ok {
			return s
		}
	}
	return fallback
}
