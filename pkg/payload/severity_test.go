package payload

import (
	"slices"
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

// Each source's severity_mapping (seed 003 webhook_config.yaml) applied to
// that source's fixtures, keyed by vendor value or by normalized value.
func TestSeverityMappingPerSource(t *testing.T) {
	tests := []struct {
		source, format, fixture string
		mapping                 map[string]string
		want                    []Severity
	}{
		{"email-gateway", FormatDefender, "seed_phishing_email",
			map[string]string{"critical": "critical", "high": "high", "medium": "medium", "low": "low"}, []Severity{SeverityHigh}},
		{"email-gateway", FormatDefender, "seed_phishing_email",
			map[string]string{"High": "critical"}, []Severity{SeverityCritical}},
		{"email-gateway", FormatDefender, "informational_string_recipients",
			map[string]string{"informational": "low"}, []Severity{SeverityLow}},
		{"edr", FormatCrowdStrike, "seed_detection_summary",
			map[string]string{"4": "critical"}, []Severity{SeverityCritical}},
		{"edr", FormatCrowdStrike, "detection_full",
			map[string]string{"critical": "high"}, []Severity{SeverityHigh}},
		{"siem", FormatSplunk, "seed_failed_login",
			map[string]string{"medium": "low"}, []Severity{SeverityLow}},
		{"siem", FormatSplunk, "es_notable_multivalue",
			map[string]string{"high": "critical"}, []Severity{SeverityCritical}},
		{"soc-cases", FormatTheHive, "seed_case_creation",
			map[string]string{"2": "high"}, []Severity{SeverityHigh}},
		{"soc-cases", FormatTheHive, "alert_creation_with_artifacts",
			map[string]string{"critical": "high"}, []Severity{SeverityHigh}},
		{"cloud", FormatThreatStack, "batch_of_three",
			map[string]string{"1": "critical"}, []Severity{SeverityCritical, SeverityCritical, SeverityCritical}},
		{"cloud", FormatThreatStack, "batch_strings_for_numbers",
			map[string]string{"3": "info"}, []Severity{SeverityMedium, SeverityInfo}},
		{"canaries", FormatCanary, "ssh_login_strings_for_numbers",
			map[string]string{"high": "critical"}, []Severity{SeverityCritical}},
		{"canaries", FormatCanary, "dummy_incident_older_console",
			map[string]string{"high": "critical"}, []Severity{SeverityInfo}},
		{"canaries", FormatCanary, "operational_disconnected",
			map[string]string{"low": "info"}, []Severity{SeverityInfo}},
	}
	for _, tt := range tests {
		t.Run(tt.source+"/"+tt.fixture, func(t *testing.T) {
			var body []byte
			for _, fx := range fixturesOf(t, tt.format) {
				if fx.name == tt.fixture {
					body = fx.body
				}
			}
			if body == nil {
				t.Fatalf("no fixture %s/%s", tt.format, tt.fixture)
			}
			if err := ValidateSeverityMapping(tt.mapping); err != nil {
				t.Fatal(err)
			}
			res, err := Parse(FormatAuto, body)
			if err != nil {
				t.Fatal(err)
			}
			ApplySeverityMapping(res.Events, tt.mapping)
			var got []Severity
			for _, ev := range res.Events {
				got = append(got, ev.Severity)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("severities %v, want %v", got, tt.want)
			}
		})
	}
}
