package version

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
)

func stamp(settings ...string) *debug.BuildInfo {
	bi := &debug.BuildInfo{}
	for i := 0; i < len(settings); i += 2 {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
	}
	return bi
}

const rev = "0123456789abcdef0123456789abcdef01234567"

// Without the release ldflags, the commit and its time come from the VCS
// stamp of `go build`; ldflags win when set.
func TestResolve(t *testing.T) {
	g := runtime.Version()
	vcs := stamp("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-03-01T12:00:00Z", "vcs.modified", "false")
	dirty := stamp("vcs.revision", rev, "vcs.time", "2026-03-01T12:00:00Z", "vcs.modified", "true")
	for _, tt := range []struct {
		name                  string
		version, commit, date string
		bi                    *debug.BuildInfo
		want                  Info
		line                  string
	}{
		{"release ldflags", "1.2.3", "abc1234", "2026-04-01T00:00:00Z", vcs,
			Info{Version: "1.2.3", Commit: "abc1234", Date: "2026-04-01T00:00:00Z", Go: g},
			"tw-cli version 1.2.3 (commit abc1234, built 2026-04-01T00:00:00Z) " + g},
		{"plain go build", "dev", "", "", vcs,
			Info{Version: "dev", Commit: "0123456789ab", Date: "2026-03-01T12:00:00Z", Go: g, committed: true},
			"tw-cli version dev (commit 0123456789ab, committed 2026-03-01T12:00:00Z) " + g},
		{"uncommitted changes", "dev", "", "", dirty,
			Info{Version: "dev", Commit: "0123456789ab-dirty", Date: "2026-03-01T12:00:00Z", Go: g, committed: true},
			"tw-cli version dev (commit 0123456789ab-dirty, committed 2026-03-01T12:00:00Z) " + g},
		{"ldflags date only", "dev", "", "2026-04-01T00:00:00Z", vcs,
			Info{Version: "dev", Commit: "0123456789ab", Date: "2026-04-01T00:00:00Z", Go: g},
			"tw-cli version dev (commit 0123456789ab, built 2026-04-01T00:00:00Z) " + g},
		{"ldflags commit without date", "1.2.3", "abc1234", "", vcs,
			Info{Version: "1.2.3", Commit: "abc1234", Go: g},
			"tw-cli version 1.2.3 (commit abc1234) " + g},
		{"no VCS stamp", "dev", "", "", stamp(), Info{Version: "dev", Go: g}, "tw-cli version dev " + g},
		{"no build info", "dev", "", "", nil, Info{Version: "dev", Go: g}, "tw-cli version dev " + g},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := resolve(tt.version, tt.commit, tt.date, tt.bi)
			if got != tt.want {
				t.Errorf("resolve = %+v, want %+v", got, tt.want)
			}
			if got.String() != tt.line {
				t.Errorf("line = %q, want %q", got.String(), tt.line)
			}
		})
	}
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	ios, _, out, _ := iostreams.Test()
	cmd := NewCmdVersion(&cmdutil.Factory{IOStreams: ios}, "1.2.3", "abc1234", "2026-04-01T00:00:00Z")
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestVersionOutput(t *testing.T) {
	if got, want := run(t), "tw-cli version 1.2.3 (commit abc1234, built 2026-04-01T00:00:00Z) "+runtime.Version()+"\n"; got != want {
		t.Errorf("version = %q, want %q", got, want)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(run(t, "-o", "json")), &m); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"commit", "date", "go", "version"}) ||
		m["version"] != "1.2.3" || m["commit"] != "abc1234" || m["date"] != "2026-04-01T00:00:00Z" || m["go"] != runtime.Version() {
		t.Errorf("version -o json = %v", m)
	}
	var y map[string]string
	if err := yaml.Unmarshal([]byte(run(t, "-o", "yaml")), &y); err != nil || y["version"] != "1.2.3" || y["go"] != runtime.Version() {
		t.Errorf("version -o yaml = %v, %v", y, err)
	}
}
