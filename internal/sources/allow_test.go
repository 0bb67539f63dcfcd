package sources_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/tw-cli/tw-cli/internal/sources"
)

func TestParseAllowFrom(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want []string
	}{
		{nil, nil},
		{[]string{""}, nil}, // `--allow-from ""`: any address again
		{[]string{"203.0.113.7"}, []string{"203.0.113.7/32"}},
		{[]string{"203.0.113.7/24"}, []string{"203.0.113.0/24"}},
		{[]string{" 10.0.0.0/8 , 2001:db8::1 "}, []string{"10.0.0.0/8", "2001:db8::1/128"}},
		{[]string{"::ffff:192.0.2.1"}, []string{"192.0.2.1/32"}},
		{[]string{"::ffff:10.0.0.0/104"}, []string{"10.0.0.0/8"}},
		{[]string{"threatstack", "52.20.173.142"}, sources.ThreatStackSenders},
		{[]string{"ThreatStack,10.1.0.0/16"}, append(slices.Clone(sources.ThreatStackSenders), "10.1.0.0/16")},
	} {
		got, err := sources.ParseAllowFrom(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseAllowFrom(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	many := make([]string, 257)
	for i := range many {
		many[i] = fmt.Sprintf("10.0.%d.%d", i/256, i%256)
	}
	for _, bad := range [][]string{{"10.0.0.300"}, {"10.0.0.0/33"}, {"example.com"}, {"fe80::1%eth0"}, {"10.0.0.1/8/2"}, {"::ffff:0.0.0.0/90"}, many} {
		if got, err := sources.ParseAllowFrom(bad); err == nil || !isValidation(err) {
			t.Errorf("ParseAllowFrom(%.40q) = %q, %v; want a validation error", bad, got, err)
		}
	}
}

func TestLocalAllowFrom(t *testing.T) {
	ctx := context.Background()
	l, st, _ := newLocal(t)
	v, _, err := l.Add(ctx, sources.Spec{Source: "ts", Secret: "tok-0123456789abcdef", Verify: "url-token", Format: "threatstack", AllowFrom: []string{"threatstack"}})
	if err != nil || !slices.Equal(v.AllowFrom, sources.ThreatStackSenders) || !slices.Equal(stored(t, st, "ts").AllowFrom, sources.ThreatStackSenders) {
		t.Fatalf("add: %+v, %v", v, err)
	}
	if _, _, err := l.Add(ctx, sources.Spec{Source: "bad", Secret: "s", AllowFrom: []string{"nope"}}); !isValidation(err) {
		t.Fatalf("add with a bad network = %v", err)
	}
	other := []string{"198.51.100.0/24"}
	if _, err := l.Update(ctx, "ts", sources.Patch{AllowFrom: &other}); err != nil || !slices.Equal(stored(t, st, "ts").AllowFrom, other) {
		t.Fatalf("update: %v, %q", err, stored(t, st, "ts").AllowFrom)
	}
	none := []string{}
	if _, err := l.Update(ctx, "ts", sources.Patch{AllowFrom: &none}); err != nil || stored(t, st, "ts").AllowFrom != nil {
		t.Fatalf("clearing: %v, %q", err, stored(t, st, "ts").AllowFrom)
	}
}
