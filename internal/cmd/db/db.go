// Package db versions the store's schema: `tw-cli db status|migrate`.
package db

import (
	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
)

// NewCmdDB returns the `db` command group.
func NewCmdDB(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db <command>",
		Short: "Show and apply database schema migrations",
		Long: `The store's schema is versioned. Every command that opens the store
(serve included) applies pending migrations first, so upgrading tw-cli
upgrades the schema; several receivers starting at once on one
PostgreSQL database take turns, and each migration is applied once. On
SQLite, a newer tw-cli does not migrate the file while an older 'tw-cli
serve' is receiving into it (the migration would hold the write lock and
fail its deliveries): restart serve with the new binary first.

'tw-cli db status' shows where the schema stands without changing it;
'tw-cli db migrate' applies pending migrations, e.g. from a deploy step
before new receivers start.

The store is the SQLite file in the data dir, or the PostgreSQL database
given by --database-url / TW_DATABASE_URL / database_url in the config.`,
	}
	cmd.AddCommand(NewCmdStatus(f, nil), NewCmdMigrate(f, nil))
	return cmd
}
