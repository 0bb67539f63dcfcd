package payload

import (
	"reflect"
	"testing"
	"time"
)

func TestSplunkSeed(t *testing.T) {
	ev := parseOne(t, FormatSplunk, `{"result":{"host":"server-01","source":"WinEventLog:Security","sourcetype":"WinEventLog","_raw":"...","EventCode":"4625"},
		"search_name":"Failed Login Alert","trigger_time":1705320000}`)
	if ev.Title != "Failed Login Alert" || ev.Source != "WinEventLog:Security" || ev.Category != "WinEventLog" {
		t.Errorf("title %q, source %q, category %q", ev.Title, ev.Source, ev.Category)
	}
	if !ev.OccurredAt.Equal(time.Unix(1705320000, 0)) {
		t.Errorf("occurred at %v", ev.OccurredAt)
	}
	if ev.Severity != SeverityMedium || ev.VendorSeverity != "" {
		t.Errorf("severity %s (vendor %q)", ev.Severity, ev.VendorSeverity)
	}
	if !reflect.DeepEqual(ev.Entities.Hosts, []string{"server-01"}) {
		t.Errorf("hosts %q", ev.Entities.Hosts)
	}
}

func TestSplunkSearchIdentity(t *testing.T) {
	ev := parseOne(t, FormatSplunk, `{"result":{"_time":"1715005320.250","severity":["critical","high"]},"search_name":null,
		"sid":"rt_1715005320.77","results_link":"https://splunk.example/app/search/@go?sid=rt_1715005320.77","app":"search","owner":"admin"}`)
	if ev.Title != "Splunk alert rt_1715005320.77" || ev.ExternalID != "rt_1715005320.77" || ev.CorrelationKey != ev.ExternalID {
		t.Errorf("title %q, id %q, key %q", ev.Title, ev.ExternalID, ev.CorrelationKey)
	}
	if ev.Link != "https://splunk.example/app/search/@go?sid=rt_1715005320.77" || ev.Description != "app search, owner admin" {
		t.Errorf("link %q, description %q", ev.Link, ev.Description)
	}
	if !ev.OccurredAt.Equal(time.UnixMilli(1715005320250)) {
		t.Errorf("occurred at %v from _time", ev.OccurredAt)
	}
	if ev.Severity != SeverityCritical || ev.VendorSeverity != "critical" {
		t.Errorf("severity %s (vendor %q)", ev.Severity, ev.VendorSeverity)
	}
}

func TestSplunkCIMEntities(t *testing.T) {
	ev := parseOne(t, FormatSplunk, `{"search_name":"x","result":{"host":"10.0.0.9","dest":["web01","10.0.0.10"],"src_ip":"not-an-ip",
		"src":"203.0.113.9","user":"alice","url":"http://bad.example/x","file_hash":"EF3179D498793BF4234F708D3BE28633",
		"sender":"a@x.example","recipient":"b@y.example,c@y.example"}}`)
	want := Entities{
		Hosts:      []string{"web01"},
		Users:      []string{"alice"},
		Sender:     "a@x.example",
		Recipients: []string{"b@y.example", "c@y.example"},
		FileHashes: []string{"ef3179d498793bf4234f708d3be28633"},
		IPs:        []string{"10.0.0.9", "10.0.0.10", "203.0.113.9"},
		URLs:       []string{"http://bad.example/x"},
	}
	if !reflect.DeepEqual(ev.Entities, want) {
		t.Errorf("entities\n got %+v\nwant %+v", ev.Entities, want)
	}
}

// The CIM's src is a host name as often as an address.
func TestSplunkSrcHostOrIP(t *testing.T) {
	tests := []struct {
		src          string
		hosts, addrs []string
	}{
		{`"host-a"`, []string{"host-a"}, nil},
		{`"203.0.113.9"`, nil, []string{"203.0.113.9"}},
		{`["host-a","2001:db8::1"]`, []string{"host-a"}, []string{"2001:db8::1"}},
		{`"N/A"`, nil, nil},
		{`"unknown"`, nil, nil},
	}
	for _, tt := range tests {
		ev := parseOne(t, FormatSplunk, `{"result":{"src":`+tt.src+`},"sid":"s","search_name":"x"}`)
		if !reflect.DeepEqual(ev.Entities.Hosts, tt.hosts) || !reflect.DeepEqual(ev.Entities.IPs, tt.addrs) {
			t.Errorf("src %s: hosts %q ips %q; want %q %q", tt.src, ev.Entities.Hosts, ev.Entities.IPs, tt.hosts, tt.addrs)
		}
	}
}
