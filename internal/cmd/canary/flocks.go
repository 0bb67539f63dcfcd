package canary

import (
	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
)

// NewCmdFlocks returns the `canary flocks` group.
func NewCmdFlocks(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "flocks <command>",
		Aliases: []string{"flock"},
		Short:   "List the console's flocks",
	}
	cmd.AddCommand(NewCmdFlocksList(f, nil))
	return cmd
}

// FlocksListOptions are the inputs of `canary flocks list`.
type FlocksListOptions struct {
	IO      *iostreams.IOStreams
	Console *Console
	Output  string
}

// NewCmdFlocksList returns `canary flocks list`.
func NewCmdFlocksList(f *cmdutil.Factory, runF func(*FlocksListOptions) error) *cobra.Command {
	opts := &FlocksListOptions{IO: f.IOStreams, Console: NewConsole(f)}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the console's flocks (ids for --flock)",
		Example: `  $ tw-cli canary flocks list
  $ tw-cli canary flocks list -o json | jq -r '.[].id'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Console.ReadFlags(cmd)
			if runF != nil {
				return runF(opts)
			}
			return flocksListRun(cmd, opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func flocksListRun(cmd *cobra.Command, opts *FlocksListOptions) error {
	client, err := opts.Console.Client()
	if err != nil {
		return err
	}
	flocks, err := client.Flocks(cmd.Context())
	if err != nil {
		return consoleError(err)
	}
	return output.Print(opts.IO, opts.Output, flocks, func(t *output.TablePrinter) {
		t.Header("ID", "NAME")
		for _, fl := range flocks {
			t.Row(fl.ID, fl.Name)
		}
	})
}
