package triage

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// builtins are the playbooks shipped in the binary. go:embed needs a
// package-level variable; it is read-only.
//
//go:embed playbooks/*.yaml
var builtins embed.FS

// DefaultPlaybook runs when a source enables auto-triage without naming one.
const DefaultPlaybook = "default"

// OriginBuiltin marks playbooks shipped in the binary.
const OriginBuiltin = "builtin"

// Dir returns the playbooks dir: configured when set, else
// <data-dir>/playbooks.
func Dir(dataDir, configured string) string {
	if configured != "" {
		return configured
	}
	return filepath.Join(dataDir, "playbooks")
}

// Catalog holds the built-in playbooks and those of a directory; a file
// with a built-in's name replaces it, so a team can adapt phishing_triage.
type Catalog struct {
	env *Env
	dir string

	mu       sync.RWMutex
	books    map[string]*Playbook
	problems []error
	// problemOf is why each playbook's file was not loaded, by name.
	problemOf map[string]error
	// seen is the directory's playbook files (name, size, modification
	// time) when it was last read.
	seen string
}

// LoadCatalog reads the built-ins and dir (which may not exist). Invalid
// user files are left out and reported by Problems, so one bad file does
// not stop the receiver from triaging with the others.
func LoadCatalog(env *Env, dir string) (*Catalog, error) {
	c := &Catalog{env: env, dir: dir}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the playbooks again, e.g. when a job names one that was
// added after the catalog was loaded. Its error is for the built-ins only;
// user files' problems go to Problems.
func (c *Catalog) Reload() error {
	seen := c.fingerprint()
	books := map[string]*Playbook{}
	entries, err := fs.ReadDir(builtins, "playbooks")
	if err != nil {
		return err
	}
	for _, e := range entries {
		data, err := fs.ReadFile(builtins, path.Join("playbooks", e.Name()))
		if err != nil {
			return err
		}
		pb, err := c.env.Parse(e.Name(), data)
		if err != nil {
			// A broken built-in is a bug caught by the package's tests.
			return fmt.Errorf("built-in playbook: %w", err)
		}
		pb.Origin = OriginBuiltin
		books[pb.Name] = pb
	}
	var problems []error
	problemOf := map[string]error{}
	if c.dir != "" {
		files, err := os.ReadDir(c.dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			problems = append(problems, fmt.Errorf("read playbooks dir: %w", err))
		}
		for _, f := range files {
			name := f.Name()
			pbName, ok := playbookFile(name)
			if f.IsDir() || !ok {
				continue
			}
			file := filepath.Join(c.dir, name)
			pb, err := c.env.ParseFile(file)
			if err != nil {
				// A file saved with a mistake keeps its last valid
				// version running: its jobs would otherwise fail as if
				// the playbook did not exist.
				if last := c.lastFrom(file); last != nil {
					books[last.Name] = last
					err = fmt.Errorf("%w (the last valid version of %s stays in use until the file is fixed or the receiver restarts)", err, last.Name)
				} else if pb := books[pbName]; pb != nil && pb.Origin == OriginBuiltin {
					// The file was written to replace the built-in, and
					// may do the opposite (suppress where it notifies):
					// running the built-in in its place would be silent.
					delete(books, pbName)
				}
				problems = append(problems, err)
				problemOf[pbName] = err
				continue
			}
			books[pb.Name] = pb
		}
	}
	c.mu.Lock()
	c.books, c.problems, c.problemOf, c.seen = books, problems, problemOf, seen
	c.mu.Unlock()
	return nil
}

// lastFrom returns the playbook last read from file, if any.
func (c *Catalog) lastFrom(file string) *Playbook {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, pb := range c.books {
		if pb.Origin == file {
			return pb
		}
	}
	return nil
}

// Problem returns why the file of the named playbook was not loaded at
// the last (re)load, or nil.
func (c *Catalog) Problem(name string) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.problemOf[name]
}

// ReloadIfChanged reloads when a playbook file was added, removed or
// edited since the last load, and reports whether it did: a job retried
// after its playbook was fixed runs the fix, not the copy read at start.
func (c *Catalog) ReloadIfChanged() (bool, error) {
	now := c.fingerprint()
	c.mu.RLock()
	same := now == c.seen
	c.mu.RUnlock()
	if same {
		return false, nil
	}
	return true, c.Reload()
}

// playbookFile reports whether a file name is a playbook's (.yaml or
// .yml), and the playbook's name.
func playbookFile(file string) (string, bool) {
	for _, ext := range []string{".yaml", ".yml"} {
		if name, ok := strings.CutSuffix(file, ext); ok {
			return name, true
		}
	}
	return "", false
}

// fingerprint names the directory's playbook files with their sizes and
// modification times; reading it costs a directory listing, not a parse.
func (c *Catalog) fingerprint() string {
	if c.dir == "" {
		return ""
	}
	files, err := os.ReadDir(c.dir)
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, f := range files {
		name := f.Name()
		if _, ok := playbookFile(name); !ok {
			continue
		}
		// Stat follows links: a mounted ConfigMap's files are links
		// into a directory swapped whole on each update.
		info, err := os.Stat(filepath.Join(c.dir, name))
		if err != nil {
			fmt.Fprintf(&b, "%s:gone\n", name)
			continue
		}
		fmt.Fprintf(&b, "%s:%d:%d\n", name, info.Size(), info.ModTime().UnixNano())
	}
	return b.String()
}

// Problems returns why user files were left out at the last (re)load.
func (c *Catalog) Problems() []error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.problems
}

// ParseFile reads and validates one playbook file.
func (e *Env) ParseFile(file string) (*Playbook, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return e.Parse(file, data)
}

// Get returns the named playbook.
func (c *Catalog) Get(name string) (*Playbook, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	pb, ok := c.books[name]
	return pb, ok
}

// List returns every playbook by name.
func (c *Catalog) List() []*Playbook {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*Playbook, 0, len(c.books))
	for _, pb := range c.books {
		out = append(out, pb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Dir is the directory user playbooks are read from.
func (c *Catalog) Dir() string { return c.dir }

// OpenCatalog loads the playbooks of dataDir (or the configured dir) with
// a fresh expression environment.
func OpenCatalog(dataDir, configuredDir string) (*Catalog, error) {
	env, err := NewEnv()
	if err != nil {
		return nil, err
	}
	return LoadCatalog(env, Dir(dataDir, configuredDir))
}
