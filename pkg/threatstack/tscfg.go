package threatstack

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Sections and keys of threatstack.cfg, the INI file of Threat Stack's
// public API scripts (GetAllAgents and friends).
const (
	ScriptUserSection    = "USER_INFO"
	ScriptDefaultSection = "DEFAULT"
	scriptKeyUserID      = "ts_user_id"
	scriptKeyAPIKey      = "ts_api_key"
	scriptKeyOrgID       = "ts_organization_id"
	// The scripts' README tells users to fill in TS_ORG_ID (seed 000) while
	// their sample and code read TS_ORGANIZATION_ID; either is accepted.
	scriptKeyOrgIDShort = "ts_org_id"
	scriptKeyOrgName    = "ts_organization_name"
)

// INIFile is an INI document read with the rules of Python's configparser
// (the default ConfigParser, which the scripts use):
//
//   - "[DEFAULT]" holds defaults every other section inherits;
//   - section names are case-sensitive, keys are not;
//   - "key = value" or "key: value"; full-line comments start with # or ;;
//   - indented lines continue the previous value;
//   - a section or key given twice is an error (configparser's strict mode);
//   - "%(key)s" interpolates another key of the section, "%%" is a "%".
//
// Get also strips one pair of matching quotes around a value: configparser
// keeps them, and the scripts' sample writes TS_ORGANIZATION_NAME = "Production".
type INIFile struct {
	defaults map[string]string
	order    []string
	sections map[string]map[string]string
}

// ParseINI reads an INI document. Its errors give line numbers, never line
// contents: the file holds an API key.
func ParseINI(r io.Reader) (*INIFile, error) {
	f := &INIFile{defaults: map[string]string{}, sections: map[string]map[string]string{}}
	var (
		cur        map[string]string // nil before the first section header
		curName    string
		lastKey    string
		lastIndent int
		blankRun   int
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		stripped := strings.TrimSpace(line)
		if stripped == "" {
			// configparser keeps empty lines inside a multi-line value
			// if more continuation follows; count them until we know.
			blankRun++
			continue
		}
		if strings.HasPrefix(stripped, "#") || strings.HasPrefix(stripped, ";") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		if cur != nil && lastKey != "" && indent > lastIndent {
			cur[lastKey] += strings.Repeat("\n", blankRun) + "\n" + stripped
			blankRun = 0
			continue
		}
		blankRun = 0
		if strings.HasPrefix(stripped, "[") {
			end := strings.LastIndex(stripped, "]")
			if end < 2 {
				return nil, fmt.Errorf("line %d: malformed section header", lineNo)
			}
			name := stripped[1:end]
			if name == ScriptDefaultSection {
				cur = f.defaults
			} else {
				if _, dup := f.sections[name]; dup {
					return nil, fmt.Errorf("line %d: section %q already exists", lineNo, name)
				}
				cur = map[string]string{}
				f.sections[name] = cur
				f.order = append(f.order, name)
			}
			curName, lastKey = name, ""
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("line %d: text before the first [section]", lineNo)
		}
		i := strings.IndexAny(stripped, "=:")
		if i <= 0 {
			return nil, fmt.Errorf("line %d: want key = value", lineNo)
		}
		key := strings.ToLower(strings.TrimSpace(stripped[:i]))
		if _, dup := cur[key]; dup {
			return nil, fmt.Errorf("line %d: key %q already set in section %q", lineNo, key, curName)
		}
		cur[key] = strings.TrimSpace(stripped[i+1:])
		lastKey, lastIndent = key, indent
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// Sections lists the sections other than DEFAULT, in file order.
func (f *INIFile) Sections() []string { return slices.Clone(f.order) }

// HasSection reports whether name is a section; DEFAULT always is.
func (f *INIFile) HasSection(name string) bool {
	_, ok := f.sections[name]
	return ok || name == ScriptDefaultSection
}

// Get returns a key of a section, falling back to DEFAULT, interpolated
// and with one pair of matching quotes removed.
func (f *INIFile) Get(section, key string) (string, bool, error) {
	raw, ok := f.lookup(section, strings.ToLower(key))
	if !ok {
		return "", false, nil
	}
	v, err := f.interpolate(section, raw, 1)
	if err != nil {
		return "", true, fmt.Errorf("[%s] %s: %w", section, key, err)
	}
	return unquote(v), true, nil
}

// getOwnFirst reads a value that has several accepted names: the first
// name the section itself sets with a value, else the first DEFAULT sets.
// A name the section sets empty still hides DEFAULT: the section says it
// has none, and DEFAULT's would make a profile that quietly queries
// another organization.
func (f *INIFile) getOwnFirst(section string, keys ...string) (string, error) {
	for _, scope := range []map[string]string{f.sections[section], f.defaults} {
		set := false
		for _, key := range keys {
			raw, ok := scope[strings.ToLower(key)]
			if !ok {
				continue
			}
			set = true
			v, err := f.interpolate(section, raw, 1)
			if err != nil {
				return "", fmt.Errorf("[%s] %s: %w", section, key, err)
			}
			if v = unquote(v); v != "" {
				return v, nil
			}
		}
		if set {
			return "", nil
		}
	}
	return "", nil
}

func (f *INIFile) lookup(section, key string) (string, bool) {
	if s, ok := f.sections[section]; ok {
		if v, ok := s[key]; ok {
			return v, true
		}
	} else if section != ScriptDefaultSection {
		return "", false
	}
	v, ok := f.defaults[key]
	return v, ok
}

// maxInterpolationDepth is configparser's MAX_INTERPOLATION_DEPTH.
const maxInterpolationDepth = 10

func (f *INIFile) interpolate(section, v string, depth int) (string, error) {
	if !strings.Contains(v, "%") {
		return v, nil
	}
	if depth > maxInterpolationDepth {
		return "", fmt.Errorf("interpolation deeper than %d levels", maxInterpolationDepth)
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(v, '%')
		if i < 0 {
			b.WriteString(v)
			return b.String(), nil
		}
		b.WriteString(v[:i])
		v = v[i:]
		switch {
		case strings.HasPrefix(v, "%%"):
			b.WriteByte('%')
			v = v[2:]
		case strings.HasPrefix(v, "%("):
			end := strings.Index(v, ")s")
			if end < 0 {
				return "", errors.New("bad interpolation syntax: '%(' without ')s'")
			}
			name := strings.ToLower(v[2:end])
			ref, ok := f.lookup(section, name)
			if !ok {
				return "", fmt.Errorf("interpolation refers to missing key %q", name)
			}
			sub, err := f.interpolate(section, ref, depth+1)
			if err != nil {
				return "", err
			}
			b.WriteString(sub)
			v = v[end+2:]
		default:
			return "", errors.New("'%' must be followed by '%' or '(' (write %% for a literal %)")
		}
	}
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// ScriptConfig is what threatstack.cfg holds: one user's key and the
// organizations it can reach, each a section the scripts select with --org.
type ScriptConfig struct {
	UserID string
	APIKey string
	// Orgs lists DEFAULT first (when it names an organization), then the
	// other sections in file order.
	Orgs []ScriptOrg
}

// ScriptOrg is one organization section of threatstack.cfg.
type ScriptOrg struct {
	Section        string
	OrganizationID string
	Name           string
}

// String keeps the key out of prints.
func (c ScriptConfig) String() string {
	return fmt.Sprintf("ScriptConfig{UserID: %q, APIKey: %s, Orgs: %v}", c.UserID, maskedKey(c.APIKey), c.Orgs)
}

// GoString keeps %#v from printing the key.
func (c ScriptConfig) GoString() string { return "threatstack." + c.String() }

// ParseScriptConfig reads threatstack.cfg.
func ParseScriptConfig(r io.Reader) (*ScriptConfig, error) {
	ini, err := ParseINI(r)
	if err != nil {
		return nil, fmt.Errorf("threatstack.cfg: %w", err)
	}
	if !ini.HasSection(ScriptUserSection) {
		return nil, fmt.Errorf("threatstack.cfg: no [%s] section", ScriptUserSection)
	}
	cfg := &ScriptConfig{}
	for key, dst := range map[string]*string{scriptKeyUserID: &cfg.UserID, scriptKeyAPIKey: &cfg.APIKey} {
		v, ok, err := ini.Get(ScriptUserSection, key)
		if err != nil {
			return nil, fmt.Errorf("threatstack.cfg: %w", err)
		}
		if !ok || v == "" {
			return nil, fmt.Errorf("threatstack.cfg: [%s] has no %s", ScriptUserSection, strings.ToUpper(key))
		}
		*dst = v
	}
	for _, section := range append([]string{ScriptDefaultSection}, ini.Sections()...) {
		if section == ScriptUserSection {
			continue
		}
		// Either spelling set in the section itself beats both inherited
		// from DEFAULT: trying TS_ORGANIZATION_ID first everywhere would
		// give "[staging] TS_ORG_ID = …" the DEFAULT organization.
		id, err := ini.getOwnFirst(section, scriptKeyOrgID, scriptKeyOrgIDShort)
		if err != nil {
			return nil, fmt.Errorf("threatstack.cfg: %w", err)
		}
		if id == "" {
			continue
		}
		name, _, err := ini.Get(section, scriptKeyOrgName)
		if err != nil {
			return nil, fmt.Errorf("threatstack.cfg: %w", err)
		}
		cfg.Orgs = append(cfg.Orgs, ScriptOrg{Section: section, OrganizationID: id, Name: name})
	}
	return cfg, nil
}

// Credentials returns the credentials for an organization section; ""
// means DEFAULT, as in the scripts' --org.
func (c *ScriptConfig) Credentials(section string) (Credentials, error) {
	if section == "" {
		section = ScriptDefaultSection
	}
	for _, o := range c.Orgs {
		if o.Section == section {
			return Credentials{UserID: c.UserID, APIKey: c.APIKey, OrganizationID: o.OrganizationID}, nil
		}
	}
	return Credentials{}, fmt.Errorf("threatstack.cfg: no organization section %q", section)
}
