package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// thLine is the man page header, which carries the day it was generated.
var thLine = regexp.MustCompile(`(?m)^\.TH .*$`)

// TestDocsAreFresh fails when docs/ no longer matches the help text: run
// `make docs`. Help changed without regenerating had left the reference
// describing flags and exit codes as they used to be.
func TestDocsAreFresh(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"reference", "man"} {
		want := filepath.Join("..", "..", "docs", sub)
		got, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadDir(want)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(committed) {
			t.Errorf("docs/%s has %d files, the commands make %d: run 'make docs'", sub, len(committed), len(got))
		}
		for _, e := range got {
			fresh, err := os.ReadFile(filepath.Join(dir, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			old, err := os.ReadFile(filepath.Join(want, e.Name()))
			if err != nil {
				t.Errorf("docs/%s/%s is missing: run 'make docs'", sub, e.Name())
				continue
			}
			if string(thLine.ReplaceAll(fresh, nil)) != string(thLine.ReplaceAll(old, nil)) {
				t.Errorf("docs/%s/%s is stale: run 'make docs'", sub, e.Name())
			}
		}
	}
}
