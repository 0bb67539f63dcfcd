package load

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// CPUStat is the machine-wide CPU time from /proc/stat's "cpu" line, in
// clock ticks: all of it, and the part the hypervisor gave to other
// guests while this one had work (steal).
type CPUStat struct {
	Total, Steal uint64
}

// ReadCPUStat reads /proc/stat (Linux).
func ReadCPUStat() (CPUStat, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUStat{}, err
	}
	return parseProcStat(string(b))
}

// StealShare is the fraction of the CPU time between two readings that
// was stolen: on a shared VM it says how much of a run's tail belongs to
// the neighbours rather than to the code measured.
func StealShare(before, after CPUStat) float64 {
	if after.Total <= before.Total {
		return 0
	}
	return float64(after.Steal-before.Steal) / float64(after.Total-before.Total)
}

// parseProcStat reads the aggregate line: "cpu  user nice system idle
// iowait irq softirq steal guest guest_nice". Guest time is already
// counted in user and nice, so only the first eight fields add up.
func parseProcStat(stat string) (CPUStat, error) {
	for _, line := range strings.Split(stat, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "cpu" {
			continue
		}
		if len(f) < 9 {
			return CPUStat{}, fmt.Errorf("unexpected /proc/stat cpu line %q", line)
		}
		var s CPUStat
		for i, v := range f[1:9] {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return CPUStat{}, fmt.Errorf("unexpected /proc/stat cpu field %q: %w", v, err)
			}
			s.Total += n
			if i == 7 {
				s.Steal = n
			}
		}
		return s, nil
	}
	return CPUStat{}, fmt.Errorf("no aggregate cpu line in /proc/stat")
}
