package db

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/store"
)

// StatusOptions are the inputs of `db status`.
type StatusOptions struct {
	IO       *iostreams.IOStreams
	Migrator func() (store.Migrator, error)
	Now      func() time.Time
	Output   string
}

// NewCmdStatus returns `db status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IOStreams, Migrator: f.Migrator, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the schema's current and available versions",
		Long: `Show the store's backend, its schema version, the newest version this
tw-cli knows, and when each migration was applied. Nothing is changed.`,
		Example: `  $ tw-cli db status
  $ tw-cli db status --database-url postgres://tw@db.internal/tw -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return statusRun(cmd, opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func statusRun(cmd *cobra.Command, opts *StatusOptions) error {
	m, err := opts.Migrator()
	if err != nil {
		return err
	}
	defer m.Close()
	st, err := m.SchemaStatus(cmd.Context())
	if err != nil {
		return err
	}
	now := opts.Now()
	return output.Print(opts.IO, opts.Output, st, func(t *output.TablePrinter) {
		t.Header("FIELD", "VALUE")
		t.Row("backend", st.Backend)
		t.Row("location", st.Location)
		t.Row("current", strconv.Itoa(st.Current))
		t.Row("available", strconv.Itoa(st.Available))
		t.Row("state", state(st))
		for _, n := range st.Notes {
			t.Row("note", n)
		}
		for _, a := range st.Applied {
			t.Row(fmt.Sprintf("migration %d", a.Version), "applied "+output.Time(a.AppliedAt, t.IsTTY(), now))
		}
	})
}

// state says in words what the versions mean and what to do.
func state(st *store.SchemaStatus) string {
	switch n := st.Pending(); {
	case st.Missing:
		return "not created yet: 'tw-cli db migrate' or 'tw-cli serve' creates it"
	case n == 0:
		return "up to date"
	case n < 0:
		return "newer than this tw-cli: upgrade tw-cli"
	case st.Current == 0:
		// An empty PostgreSQL database: the same news as SQLite's
		// missing file, and the same remedy.
		return "empty: 'tw-cli db migrate' or 'tw-cli serve' creates the schema"
	case n == 1:
		return "1 migration pending: run 'tw-cli db migrate'"
	default:
		return strconv.Itoa(n) + " migrations pending: run 'tw-cli db migrate'"
	}
}
