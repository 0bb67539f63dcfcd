package db

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/store"
)

// MigrateOptions are the inputs of `db migrate`.
type MigrateOptions struct {
	IO       *iostreams.IOStreams
	Migrator func() (store.Migrator, error)
	Output   string
}

// NewCmdMigrate returns `db migrate`.
func NewCmdMigrate(f *cmdutil.Factory, runF func(*MigrateOptions) error) *cobra.Command {
	opts := &MigrateOptions{IO: f.IOStreams, Migrator: f.Migrator}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending schema migrations",
		Long: `Apply every pending migration in one transaction. Running it again, or
from several machines at once, is safe: a migration is applied once.`,
		Example: `  $ tw-cli db migrate
  $ TW_DATABASE_URL=postgres://tw@db.internal/tw tw-cli db migrate -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return migrateRun(cmd, opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

// Migrated is what `db migrate -o json` prints.
type Migrated struct {
	Backend  string `json:"backend"`
	Location string `json:"location"`
	From     int    `json:"from_version"`
	To       int    `json:"to_version"`
}

func migrateRun(cmd *cobra.Command, opts *MigrateOptions) error {
	m, err := opts.Migrator()
	if err != nil {
		return err
	}
	defer m.Close()
	from, to, err := m.Migrate(cmd.Context())
	if err != nil {
		return err
	}
	st, err := m.SchemaStatus(cmd.Context())
	if err != nil {
		return err
	}
	if opts.Output == output.JSON || opts.Output == output.YAML {
		return output.Print(opts.IO, opts.Output, Migrated{Backend: st.Backend, Location: st.Location, From: from, To: to}, nil)
	}
	if from == to {
		fmt.Fprintf(opts.IO.ErrOut, "Schema of %s is up to date (version %d)\n", st.Location, to)
		return nil
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ Migrated %s from version %d to %d\n", st.Location, from, to)
	return nil
}
