package payload

import (
	"strings"
	"testing"
)

func TestMapSeverity(t *testing.T) {
	seed := map[string]string{"critical": "critical", "high": "high", "medium": "medium", "low": "low"}
	tests := []struct {
		vendor   string
		mapping  map[string]string
		fallback Severity
		want     Severity
	}{
		{"high", seed, SeverityMedium, SeverityHigh},
		{"High", nil, SeverityMedium, SeverityHigh},
		{"Informational", nil, SeverityMedium, SeverityInfo},
		{"moderate", nil, SeverityLow, SeverityMedium},
		{"4", nil, SeverityHigh, SeverityHigh},
		{"4", map[string]string{"4": "critical"}, SeverityHigh, SeverityCritical},
		{" Phish ", map[string]string{"phish": "HIGH"}, SeverityMedium, SeverityHigh},
		{"high", map[string]string{"high": "urgent"}, SeverityMedium, SeverityHigh},
		{"", map[string]string{"": "critical"}, SeverityLow, SeverityLow},
	}
	for _, tt := range tests {
		if got := MapSeverity(tt.vendor, tt.mapping, tt.fallback); got != tt.want {
			t.Errorf("MapSeverity(%q, %v, %s) = %s, want %s", tt.vendor, tt.mapping, tt.fallback, got, tt.want)
		}
	}
}

func TestApplySeverityMapping(t *testing.T) {
	events := func() []Event {
		return []Event{
			{Severity: SeverityHigh, VendorSeverity: "4"},
			{Severity: SeverityHigh},
			{Severity: SeverityMedium, VendorSeverity: "medium"},
			{Severity: SeverityLow, VendorSeverity: "3"},
		}
	}
	tests := []struct {
		name    string
		mapping map[string]string
		want    []Severity
	}{
		{"none", nil, []Severity{SeverityHigh, SeverityHigh, SeverityMedium, SeverityLow}},
		{"seed identity", map[string]string{"critical": "critical", "high": "high", "medium": "medium", "low": "low"},
			[]Severity{SeverityHigh, SeverityHigh, SeverityMedium, SeverityLow}},
		{"vendor value wins", map[string]string{"4": "critical", "high": "low"},
			[]Severity{SeverityCritical, SeverityLow, SeverityMedium, SeverityLow}},
		{"normalized value", map[string]string{"HIGH": "critical", "low": "info"},
			[]Severity{SeverityCritical, SeverityCritical, SeverityMedium, SeverityInfo}},
		{"bad value ignored", map[string]string{"high": "urgent"},
			[]Severity{SeverityHigh, SeverityHigh, SeverityMedium, SeverityLow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := events()
			ApplySeverityMapping(evs, tt.mapping)
			for i, ev := range evs {
				if ev.Severity != tt.want[i] {
					t.Errorf("event %d (vendor %q): %s, want %s", i, ev.VendorSeverity, ev.Severity, tt.want[i])
				}
			}
		})
	}
}

func TestValidateSeverityMapping(t *testing.T) {
	if err := ValidateSeverityMapping(map[string]string{"critical": "critical", "4": "High", "1": "info"}); err != nil {
		t.Errorf("valid mapping: %v", err)
	}
	if err := ValidateSeverityMapping(nil); err != nil {
		t.Errorf("nil mapping: %v", err)
	}
	err := ValidateSeverityMapping(map[string]string{"high": "urgent", "": "low", "Low": "low", "low": "info"})
	if err == nil {
		t.Fatal("no error for a bad mapping")
	}
	for _, want := range []string{`high: "urgent"`, `empty key`, `Low and low are the same key`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
