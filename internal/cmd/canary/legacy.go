package canary

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// legacyConfigFile is the official Python client's settings file; reading
// it lets analysts reuse what they already set up.
const legacyConfigFile = ".canarytools.config"

// legacyConfig is what tw-cli takes from ~/.canarytools.config.
type legacyConfig struct {
	domain string
	apiKey string
}

// readLegacyConfig reads the [CanaryTools] section's domain and api_key.
// The file is optional: any problem reading it means it has nothing to say.
func readLegacyConfig(homeDir func() (string, error)) legacyConfig {
	if homeDir == nil {
		return legacyConfig{}
	}
	home, err := homeDir()
	if err != nil || home == "" {
		return legacyConfig{}
	}
	f, err := os.Open(filepath.Join(home, legacyConfigFile))
	if err != nil {
		return legacyConfig{}
	}
	defer f.Close()
	return parseLegacyConfig(bufio.NewScanner(f))
}

// parseLegacyConfig reads INI as Python's configparser writes it: key = value
// or key: value, # and ; comments, section names case-sensitive, keys not.
func parseLegacyConfig(sc *bufio.Scanner) legacyConfig {
	var out legacyConfig
	inSection := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			inSection = strings.TrimSpace(line[1:len(line)-1]) == "CanaryTools"
			continue
		}
		if !inSection {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			continue
		}
		key := strings.ToLower(strings.TrimSpace(line[:i]))
		value := strings.Trim(strings.TrimSpace(line[i+1:]), `"'`)
		switch key {
		case "domain":
			out.domain = value
		case "api_key":
			out.apiKey = value
		}
	}
	return out
}
