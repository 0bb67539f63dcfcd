// Package webhookconfig loads the declarative webhook_config.yaml of seed
// 003 and reconciles the store with it. `tw-cli webhook apply -f` and
// `tw-cli serve --config` both go through Load and Apply, so a file means
// the same thing whichever command reads it.
//
// The file holds one top-level key, sources, mapping source names to
// their settings:
//
//	sources:
//	  email-gateway:
//	    secret: "${EMAIL_GATEWAY_SECRET}"
//	    auto_triage: true
//	    playbook: phishing_triage
//	    severity_mapping: {critical: critical, high: high}
//	  edr:
//	    secret: "file:/run/secrets/edr"
//	    format: crowdstrike
//	    verify: hmac
//	    description: Falcon detections
//	  threatstack:
//	    secret: "${TS_WEBHOOK_TOKEN}"
//	    format: threatstack
//	    verify: url-token
//	    allow_from: [threatstack]
//
// Only secrets are expanded: ${NAME} is replaced by the environment
// variable NAME and "file:PATH" by the file's content (PATH may use
// ${NAME} too; a relative PATH is relative to the config file). Every other
// value is taken literally, so a '$' in a description stays a '$'.
package webhookconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/verify"
)

// Origin is the store origin of the sources a config file defines.
const Origin = "config"

// maxSecretFileBytes bounds a file: secret; anything larger is a wrong path,
// not a key.
const maxSecretFileBytes = 64 << 10

// Config is a loaded, validated webhook_config.yaml.
type Config struct {
	// Path is the file the config came from, as given.
	Path string
	// Sources are the file's sources in file order, secrets resolved.
	Sources []Source
	// Warnings are problems that do not stop the file from applying, such
	// as a secret file other users can read, each prefixed with file:line.
	Warnings []string
}

// Source is one source of the file.
type Source struct {
	// Spec is normalized: defaults filled in, every field validated by the
	// same rules as `webhook add`.
	Spec sources.Spec
	// Line is where the source's name is in the file.
	Line int
}

// Options tune Load and Parse.
type Options struct {
	// LookupEnv resolves ${NAME} in secrets; os.LookupEnv when nil.
	LookupEnv func(string) (string, bool)
}

// Error is a problem at a place in the config file. Load and Parse return
// one, or several joined with errors.Join, so the user fixes them in one go.
type Error struct {
	Path string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// Load reads and validates the config file at path.
func Load(path string, opts Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read webhook config: %w", err)
	}
	var mode fs.FileMode
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode()
	}
	return parse(path, data, mode, opts)
}

// Parse validates a config held in memory; path names it in errors and is
// the base of relative file: references.
func Parse(path string, data []byte, opts Options) (*Config, error) {
	return parse(path, data, 0, opts)
}

// sourceKeys are the keys a source accepts, in the order help lists them.
var sourceKeys = []string{"secret", "format", "verify", "auto_triage", "playbook", "severity_mapping", "description", "allow_from"}

// loader carries one parse: where errors go and how secrets resolve.
type loader struct {
	path     string
	mode     fs.FileMode
	lookup   func(string) (string, bool)
	errs     []error
	warnings []string
}

func (l *loader) errorf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	l.errs = append(l.errs, &Error{Path: l.path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) warnf(n *yaml.Node, format string, args ...any) {
	l.warnings = append(l.warnings, (&Error{Path: l.path, Line: n.Line, Msg: fmt.Sprintf(format, args...)}).Error())
}

func parse(path string, data []byte, mode fs.FileMode, opts Options) (*Config, error) {
	l := &loader{path: path, mode: mode, lookup: opts.LookupEnv}
	if l.lookup == nil {
		l.lookup = os.LookupEnv
	}
	root, err := l.document(data)
	if err != nil {
		return nil, err
	}
	cfg := &Config{Path: path}
	l.top(root, cfg)
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	cfg.Warnings = l.warnings
	return cfg, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document parses data into its single YAML document's root node.
func (l *loader) document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			// An empty file is refused rather than read as "no sources":
			// applying it would remove every config source, which a file
			// truncated mid-edit must not do.
			return nil, &Error{Path: l.path, Msg: emptyFileMsg}
		}
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &Error{Path: l.path, Line: line, Msg: "invalid YAML: " + m[2]}
		}
		return nil, &Error{Path: l.path, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var extra yaml.Node
	err := dec.Decode(&extra)
	// A trailing "---" with nothing after it is harmless; a second
	// document with content would be silently ignored, so it is refused.
	if !errors.Is(err, io.EOF) && (err != nil || len(extra.Content) > 0 && !isNull(extra.Content[0])) {
		return nil, &Error{Path: l.path, Line: extra.Line, Msg: "only one YAML document is allowed (found a '---' starting another)"}
	}
	root := resolve(doc.Content[0])
	if isNull(root) {
		return nil, &Error{Path: l.path, Line: root.Line, Msg: emptyFileMsg}
	}
	return root, nil
}

const emptyFileMsg = "file is empty; it needs a 'sources:' mapping (write 'sources: {}' to remove every config source)"

// resolve follows an alias to the node it names, so anchors can share,
// say, one severity_mapping between sources.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// pairs walks a mapping's key/value pairs, reporting duplicate and merge
// keys (yaml.v3 checks duplicates only when decoding into Go values).
func (l *loader) pairs(m *yaml.Node, what string, fn func(key, val *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), resolve(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			l.errorf(k, "%s: keys must be plain names", what)
			continue
		}
		if k.ShortTag() == "!!merge" {
			l.errorf(k, "%s: merge keys (<<) are not supported; repeat the settings or use an alias for one value", what)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			l.errorf(k, "%s: %q is defined twice (first at line %d)", what, k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		fn(k, v)
	}
}

func (l *loader) top(root *yaml.Node, cfg *Config) {
	if root.Kind != yaml.MappingNode {
		l.errorf(root, "the file must be a mapping with a 'sources:' key")
		return
	}
	var srcs *yaml.Node
	l.pairs(root, "top level", func(k, v *yaml.Node) {
		if k.Value != "sources" {
			l.errorf(k, "unknown top-level key %q (the only key is 'sources')", k.Value)
			return
		}
		srcs = v
		if isNull(v) {
			l.errorf(k, "sources is empty; write 'sources: {}' to remove every config source")
			srcs = nil
		} else if v.Kind != yaml.MappingNode {
			l.errorf(v, "sources must map source names to their settings")
			srcs = nil
		}
	})
	if srcs == nil {
		if len(l.errs) == 0 {
			l.errorf(root, "missing 'sources:' key")
		}
		return
	}
	l.pairs(srcs, "sources", func(k, v *yaml.Node) {
		if src, ok := l.source(k, v); ok {
			cfg.Sources = append(cfg.Sources, src)
		}
	})
}

// source reads one source; ok is false when it had errors (already recorded).
func (l *loader) source(key, val *yaml.Node) (Source, bool) {
	before := len(l.errs)
	name := key.Value
	spec := sources.Spec{Source: name}
	if err := sources.ValidateName(name); err != nil {
		l.errorf(key, "%v", err)
	}
	if val.Kind != yaml.MappingNode {
		l.errorf(val, "source %q: settings must be a mapping with at least a secret", name)
		return Source{}, false
	}
	field := func(k string) string { return "sources." + name + "." + k }
	var secretNode, verifyNode *yaml.Node
	l.pairs(val, "source "+strconv.Quote(name), func(k, v *yaml.Node) {
		if isNull(v) {
			// "playbook:" with nothing after it means "not set".
			if k.Value == "secret" {
				secretNode = v
			}
			if !knownKey(k.Value) {
				l.unknownKey(k, name)
			}
			return
		}
		switch k.Value {
		case "secret":
			secretNode = v
		case "format":
			if s, ok := l.str(v, field("format")); ok {
				spec.Format = s
				if err := sources.ValidateFormat(s); err != nil {
					l.errorf(v, "%s: %v", field("format"), err)
				}
			}
		case "verify":
			if s, ok := l.str(v, field("verify")); ok {
				spec.Verify, verifyNode = s, v
				if err := sources.ValidateVerify(s); err != nil {
					l.errorf(v, "%s: %v", field("verify"), err)
				}
			}
		case "auto_triage":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
				l.errorf(v, "%s: want true or false, got %q", field("auto_triage"), v.Value)
				return
			}
			if err := v.Decode(&spec.AutoTriage); err != nil {
				l.errorf(v, "%s: %v", field("auto_triage"), err)
			}
		case "playbook":
			if s, ok := l.str(v, field("playbook")); ok {
				spec.Playbook = s
				if err := sources.ValidatePlaybook(s); err != nil {
					l.errorf(v, "%s: %v", field("playbook"), err)
				}
			}
		case "severity_mapping":
			spec.SeverityMapping = l.severityMapping(v, field("severity_mapping"))
		case "description":
			if s, ok := l.str(v, field("description")); ok {
				spec.Description = s
			}
		case "allow_from":
			spec.AllowFrom = l.allowFrom(v, field("allow_from"))
		default:
			l.unknownKey(k, name)
		}
	})
	if spec.Verify == "" {
		spec.Verify = sources.VerifyHMAC
	}
	l.secret(&spec, key, secretNode, verifyNode)
	if len(l.errs) > before {
		return Source{}, false
	}
	// Every field passed on its own above, with its line; this backstop
	// keeps the file on exactly the rules of `webhook add` should they grow.
	norm, err := sources.NormalizeSpec(spec)
	if err != nil {
		l.errorf(key, "source %q: %v", name, err)
		return Source{}, false
	}
	return Source{Spec: norm, Line: key.Line}, true
}

func knownKey(k string) bool {
	for _, s := range sourceKeys {
		if s == k {
			return true
		}
	}
	return false
}

func (l *loader) unknownKey(k *yaml.Node, source string) {
	l.errorf(k, "unknown key %q in source %q (known keys: %s)", k.Value, source, strings.Join(sourceKeys, ", "))
}

// str reads a scalar as a string, whatever YAML type it resolved to, so
// that `playbook: 2024` is the string "2024".
func (l *loader) str(n *yaml.Node, field string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		l.errorf(n, "%s: want a string", field)
		return "", false
	}
	return n.Value, true
}

// allowFrom reads a list of networks, or one string of them
// comma-separated, as --allow-from takes them.
func (l *loader) allowFrom(n *yaml.Node, field string) []string {
	var entries []string
	switch n.Kind {
	case yaml.ScalarNode:
		entries = []string{n.Value}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if s, ok := l.str(item, field); ok {
				entries = append(entries, s)
			}
		}
	default:
		l.errorf(n, "%s: want a list of IP addresses or CIDR prefixes", field)
		return nil
	}
	out, err := sources.ParseAllowFrom(entries)
	if err != nil {
		l.errorf(n, "%s: %v", field, err)
	}
	return out
}

func (l *loader) severityMapping(n *yaml.Node, field string) map[string]string {
	if n.Kind != yaml.MappingNode {
		l.errorf(n, "%s: want a mapping of vendor severity to critical, high, medium, low or info", field)
		return nil
	}
	m := map[string]string{}
	l.pairs(n, field, func(k, v *yaml.Node) {
		to, ok := l.str(v, field+"."+k.Value)
		if !ok {
			return
		}
		// Lower-cased as `--severity-map` does, so "High" in a file and on
		// the command line store the same mapping.
		to = strings.ToLower(strings.TrimSpace(to))
		// m was valid before this entry, so an error (a bad target, or
		// "High" competing with "high") is this entry's, at its line.
		m[k.Value] = to
		if err := sources.ValidateSeverityMapping(m); err != nil {
			l.errorf(k, "%s: %v", field, err)
			delete(m, k.Value)
		}
	})
	if len(m) == 0 {
		return nil
	}
	return m
}

// secret resolves a source's secret into spec.Secret, reporting errors at
// the secret's line (or the source's when it has none).
func (l *loader) secret(spec *sources.Spec, key, n, verifyNode *yaml.Node) {
	field := "sources." + spec.Source + ".secret"
	if n == nil || isNull(n) {
		if spec.Verify != verify.ModeNone {
			at := key
			if n != nil {
				at = n
			}
			l.errorf(at, "source %q: secret is required (write it as \"${ENV_VAR}\" or \"file:/path/to/secret\")", spec.Source)
		}
		return
	}
	raw, ok := l.str(n, field)
	if !ok {
		return
	}
	if spec.Verify == verify.ModeNone {
		at := n
		if verifyNode != nil {
			at = verifyNode
		}
		l.errorf(at, "source %q: verify none checks no secret; remove the secret or pick another verification mode", spec.Source)
		return
	}
	var secret string
	switch {
	case strings.HasPrefix(raw, "file:"):
		secret, ok = l.secretFile(n, field, strings.TrimPrefix(raw, "file:"))
	default:
		if bareEnvRef.MatchString(raw) {
			// A shell's $NAME is no reference here: stored as written, the
			// secret would be the variable's name, readable in the file.
			l.errorf(n, "%s: %s would be taken literally; write \"${%s}\" to read the environment variable (a secret that really is %s goes in a file: file:/path)", field, raw, raw[1:], raw)
			return
		}
		secret, ok = l.expand(n, field, raw)
		if ok && !interpolates(raw) && l.mode&0o077 != 0 && runtime.GOOS != "windows" {
			l.warnf(n, "%s is written in the file, which other users can read (mode %04o); use \"${ENV_VAR}\" or \"file:/path\", or chmod 600 %s",
				field, l.mode.Perm(), l.path)
		}
	}
	if !ok {
		return
	}
	if secret == "" {
		l.errorf(n, "%s: the secret is empty", field)
		return
	}
	// With an unknown mode (already reported) every secret would "not suit".
	if sources.ValidateVerify(spec.Verify) == nil {
		if err := sources.ValidateSecretFor(spec.Verify, secret); err != nil {
			l.errorf(n, "%s: %v", field, err)
			return
		}
	}
	spec.Secret = secret
}

// secretFile reads a file: secret. The trailing newline that `echo` and
// editors add is trimmed. A file other users can read is a warning, not an
// error: Docker and Kubernetes mount secrets 0444/0644 by default, and
// refusing those would push people to literal secrets instead.
func (l *loader) secretFile(n *yaml.Node, field, ref string) (string, bool) {
	path, ok := l.expand(n, field, ref)
	if !ok {
		return "", false
	}
	if path == "" {
		l.errorf(n, "%s: file: needs a path, e.g. file:/run/secrets/edr", field)
		return "", false
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(l.path), path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		l.errorf(n, "%s: secret file: %v", field, unwrapPathError(err, path))
		return "", false
	}
	if !fi.Mode().IsRegular() {
		l.errorf(n, "%s: secret file %s is not a regular file", field, path)
		return "", false
	}
	if fi.Size() > maxSecretFileBytes {
		l.errorf(n, "%s: secret file %s is %d bytes; a secret is at most %d", field, path, fi.Size(), maxSecretFileBytes)
		return "", false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		l.errorf(n, "%s: secret file: %v", field, unwrapPathError(err, path))
		return "", false
	}
	if fi.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows" {
		l.warnf(n, "secret file %s can be read by other users (mode %04o); chmod 600 it", path, fi.Mode().Perm())
	}
	secret := strings.TrimRight(string(data), "\r\n")
	if secret == "" {
		l.errorf(n, "%s: secret file %s is empty", field, path)
		return "", false
	}
	return secret, true
}

// unwrapPathError keeps "open /x: permission denied" readable: the path
// once, then the reason.
func unwrapPathError(err error, path string) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return path + ": " + pe.Err.Error()
	}
	return err.Error()
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// bareEnvRef is a whole secret written as a shell variable, $NAME.
var bareEnvRef = regexp.MustCompile(`^\$[A-Za-z_][A-Za-z0-9_]*$`)

// interpolates reports whether s reads an environment variable: a ${
// that is not the $${ escape of a literal one.
func interpolates(s string) bool {
	for i := strings.Index(s, "${"); i >= 0; {
		if i == 0 || s[i-1] != '$' {
			return true
		}
		s = s[i+2:]
		i = strings.Index(s, "${")
	}
	return false
}

// expand replaces ${NAME} with the environment variable NAME; "$${" is a
// literal "${" and any other '$' is kept as is, so literal secrets with a
// '$' in them mostly need no escaping. An unset or empty variable is an
// error: a receiver that silently verified with an empty secret would
// accept nothing, or worse.
func (l *loader) expand(n *yaml.Node, field, s string) (string, bool) {
	var b strings.Builder
	ok := true
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1] + "${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			l.errorf(n, "%s: unterminated ${ (write $${ for a literal ${)", field)
			return "", false
		}
		name := s[i+2 : i+end]
		s = s[i+end+1:]
		if !envNameRE.MatchString(name) {
			l.errorf(n, "%s: ${%s} is not an environment variable name (letters, digits and _; write $${ for a literal ${)", field, name)
			ok = false
			continue
		}
		v, set := l.lookup(name)
		switch {
		case !set:
			l.errorf(n, "%s: environment variable %s is not set", field, name)
			ok = false
		case v == "":
			l.errorf(n, "%s: environment variable %s is empty", field, name)
			ok = false
		case strings.HasSuffix(v, "\n"):
			// Filled from a file (a Kubernetes secret, "$(cat f; echo x)"):
			// the newline is part of the secret here, though file: trims it.
			l.warnf(n, "%s: environment variable %s ends in a newline, which is part of the secret; senders signing without it will be refused", field, name)
		}
		b.WriteString(v)
	}
	return b.String(), ok
}
