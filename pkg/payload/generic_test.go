package payload

import (
	"reflect"
	"testing"
)

// The generic format's host, user and ip are filtered as the vendor
// formats' are: no placeholders, and only addresses as IPs.
func TestGenericEntities(t *testing.T) {
	tests := []struct {
		data string
		want Entities
	}{
		{`{"ip":"not-an-ip"}`, Entities{}},
		{`{"ip":"N/A","src_ip":"203.0.113.50"}`, Entities{IPs: []string{"203.0.113.50"}}},
		{`{"ip":"2001:db8::1","src_ip":"203.0.113.50"}`, Entities{IPs: []string{"2001:db8::1"}}},
		{`{"host":"N/A","user":"unknown","ip":"-"}`, Entities{}},
		{`{"host":"NONE","user":"Null"}`, Entities{}},
		{`{"host":"Web-01","user":"Alice","ip":"10.0.0.1"}`, Entities{Hosts: []string{"Web-01"}, Users: []string{"Alice"}, IPs: []string{"10.0.0.1"}}},
		{`{"host":7,"ip":17}`, Entities{Hosts: []string{"7"}}},
	}
	for _, tt := range tests {
		ev := parseOne(t, FormatGeneric, `{"event_type":"x","data":`+tt.data+`}`)
		if !reflect.DeepEqual(ev.Entities, tt.want) {
			t.Errorf("data %s: entities %+v, want %+v", tt.data, ev.Entities, tt.want)
		}
		if ev.CorrelationKey != "" {
			t.Errorf("data %s: correlation key %q; the generic format has none", tt.data, ev.CorrelationKey)
		}
	}
}

func TestPlaceholder(t *testing.T) {
	for _, s := range []string{"", "-", "n/a", "N/A", "na", "NA", "none", "None", "null", "NULL", "unknown", "Unknown",
		"00000000000000000000000000000000", "0000000000000000000000000000000000000000"} {
		if !placeholder(s) {
			t.Errorf("placeholder(%q) = false", s)
		}
	}
	for _, s := range []string{"x", "--", "n/a/", "nan", "nones", "unknowns", "0", "0000000", "00000000000000000000000000000001", "db-1"} {
		if placeholder(s) {
			t.Errorf("placeholder(%q) = true", s)
		}
	}
}
