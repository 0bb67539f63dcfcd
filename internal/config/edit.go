package config

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// fileEdit is one change to the config file. values is what the change
// means, and decides what is refused; tree is the file's YAML node tree,
// changed alike so that the file keeps its comments and key order when
// written back, as gh keeps those of its config. The map written out
// (sorted, uncommented) is the fallback whenever the tree cannot follow.
type fileEdit struct {
	values map[string]any
	tree   *yamlTree // nil once it cannot be kept
}

func (e *fileEdit) set(path []string, value string) error {
	if err := setNested(e.values, path, value); err != nil {
		return err
	}
	if e.tree != nil && !e.tree.set(path, value) {
		e.tree = nil
	}
	return nil
}

func (e *fileEdit) delete(path []string) bool {
	removed := deleteNested(e.values, path)
	if removed && e.tree != nil && !e.tree.delete(path) {
		e.tree = nil
	}
	return removed
}

// render is the file's new text: the edited tree when it reads back as
// exactly the edited values (an anchor, an alias or a merge key make
// the two part ways), else the values alone.
func (e *fileEdit) render() ([]byte, error) {
	if e.tree != nil {
		if out, err := e.tree.render(); err == nil {
			if back, err := parseFile("", out); err == nil && reflect.DeepEqual(back, e.values) {
				return out, nil
			}
		}
	}
	return yaml.Marshal(e.values)
}

// yamlTree is a config file as yaml.v3 nodes, comments included.
type yamlTree struct {
	doc *yaml.Node // a DocumentNode holding one MappingNode
	// prefix is a file of comments only: yaml.v3 gives no node to hang
	// them on, so they are written back ahead of the tree.
	prefix []byte
}

// parseTree reads data as a tree; nil when it is not a mapping.
func parseTree(data []byte) *yamlTree {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil
	}
	switch {
	case doc.Kind == 0: // empty, or comments only
		t := &yamlTree{doc: &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{newMapping()}}}
		if len(bytes.TrimSpace(data)) > 0 {
			t.prefix = data
		}
		return t
	case doc.Kind != yaml.DocumentNode || len(doc.Content) != 1:
		return nil
	}
	switch root := doc.Content[0]; {
	case root.Kind == yaml.MappingNode:
	case isNull(root): // "~" or "null": an empty file, as parseFile reads it
		doc.Content[0] = newMapping()
	default:
		return nil
	}
	return &yamlTree{doc: &doc}
}

func (t *yamlTree) render() ([]byte, error) {
	var buf bytes.Buffer
	buf.Write(t.prefix)
	if buf.Len() > 0 && !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		buf.WriteByte('\n')
	}
	enc := yaml.NewEncoder(&buf)
	// yaml.Marshal's indent, which the files written so far have.
	enc.SetIndent(4)
	if err := enc.Encode(t.doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// set mirrors setNested; false when the tree cannot follow.
func (t *yamlTree) set(path []string, value string) bool {
	m := t.doc.Content[0]
	for _, p := range path[:len(path)-1] {
		i := nodeKey(m, p)
		if i < 0 {
			next := newMapping()
			insertPair(m, p, next)
			m = next
			continue
		}
		switch v := m.Content[i+1]; {
		case v.Kind == yaml.MappingNode:
			m = v
		case isNull(v): // an empty `canary:`
			next := newMapping()
			next.HeadComment, next.LineComment, next.FootComment = v.HeadComment, v.LineComment, v.FootComment
			m.Content[i+1] = next
			m = next
		default:
			return false
		}
	}
	v := &yaml.Node{}
	// Encode quotes what would otherwise read as a number, a boolean or
	// null: an organization id of digits stays a string.
	if err := v.Encode(value); err != nil {
		return false
	}
	k := path[len(path)-1]
	i := nodeKey(m, k)
	if i < 0 {
		insertPair(m, k, v)
		return true
	}
	old := m.Content[i+1]
	if old.Kind != yaml.ScalarNode || old.Anchor != "" {
		return false
	}
	v.HeadComment, v.LineComment, v.FootComment = old.HeadComment, old.LineComment, old.FootComment
	m.Content[i+1] = v
	return true
}

// delete mirrors deleteNested; false when the tree cannot follow.
func (t *yamlTree) delete(path []string) bool {
	m := t.doc.Content[0]
	for _, p := range path[:len(path)-1] {
		i := nodeKey(m, p)
		if i < 0 || m.Content[i+1].Kind != yaml.MappingNode {
			return false
		}
		m = m.Content[i+1]
	}
	i := nodeKey(m, path[len(path)-1])
	if i < 0 {
		return false
	}
	m.Content = append(m.Content[:i], m.Content[i+2:]...)
	return true
}

func newMapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// keyText is a mapping key as parseFile names it: a 2024 or true key
// is the text fmt.Sprint gives its decoded value.
func keyText(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	if n.ShortTag() == "!!str" {
		return n.Value, true
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return "", false
	}
	return fmt.Sprint(v), true
}

// nodeKey is keyIn for a MappingNode: the index in m.Content of the key
// matching k, an exact match first, else the first ignoring case in
// sorted order; -1 when none does.
func nodeKey(m *yaml.Node, k string) int {
	best, bestText := -1, ""
	for i := 0; i+1 < len(m.Content); i += 2 {
		text, ok := keyText(m.Content[i])
		switch {
		case !ok:
		case text == k:
			return i
		case strings.EqualFold(text, k) && (best < 0 || text < bestText):
			best, bestText = i, text
		}
	}
	return best
}

// insertPair adds k: v before the first key that sorts after k, so that
// a file written in sorted order, as yaml.Marshal writes it, stays so.
func insertPair(m *yaml.Node, k string, v *yaml.Node) {
	key := &yaml.Node{}
	_ = key.Encode(k) // a string always encodes
	at := len(m.Content)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if text, ok := keyText(m.Content[i]); ok && text > k {
			at = i
			break
		}
	}
	m.Content = append(m.Content[:at], append([]*yaml.Node{key, v}, m.Content[at:]...)...)
}
