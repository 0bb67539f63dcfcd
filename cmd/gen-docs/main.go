// Command gen-docs writes tw-cli's man pages and Markdown reference from
// the cobra command tree: `make docs`.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra/doc"

	"github.com/tw-cli/tw-cli/internal/app"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen-docs <dir>")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gen-docs:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	root := app.NewRootForDocs()
	// No generation date in the pages: the man pages' header date comes
	// from SOURCE_DATE_EPOCH (`make docs` sets it to the last commit to
	// docs/), so regenerating unchanged help changes nothing.
	root.DisableAutoGenTag = true
	md, man := filepath.Join(dir, "reference"), filepath.Join(dir, "man")
	for _, d := range []string{md, man} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := doc.GenMarkdownTree(root, md); err != nil {
		return err
	}
	return doc.GenManTree(root, &doc.GenManHeader{Title: "TW-CLI", Section: "1", Source: "tw-cli"}, man)
}
