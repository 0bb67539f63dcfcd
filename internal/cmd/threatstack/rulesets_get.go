package threatstack

import (
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// RulesetsGetOptions are the inputs of `threatstack rulesets get`.
type RulesetsGetOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)
	Now    func() time.Time

	ID     string
	Output string
}

// NewCmdRulesetsGet returns `threatstack rulesets get`.
func NewCmdRulesetsGet(f *cmdutil.Factory, runF func(*RulesetsGetOptions) error) *cobra.Command {
	opts := &RulesetsGetOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:     "get <ruleset-id>",
		Aliases: []string{"show", "view"},
		Short:   "Show one ruleset",
		Example: `  $ tw-cli threatstack rulesets get 9b1c… -o yaml`,
		Args:    cmdutil.ExactArgs(1, "ruleset id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if err := output.ValidateFormat(opts.Output); err != nil {
				return cmdutil.FlagErrorf("%s", err)
			}
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return rulesetsGetRun(cmd, opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func rulesetsGetRun(cmd *cobra.Command, opts *RulesetsGetOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	rs, err := c.GetRuleset(cmd.Context(), opts.ID)
	if err != nil {
		return apiError(err)
	}
	now := opts.Now()
	return output.Print(opts.IO, opts.Output, rs, func(t *output.TablePrinter) {
		tty := t.IsTTY()
		t.Header("FIELD", "VALUE")
		t.Row("id", rs.ID)
		t.Row("name", rs.Name)
		t.Row("description", dash(rs.Description))
		t.Row("rules", strconv.Itoa(len(rs.RuleIDs)))
		t.Row("created", output.Time(rs.CreatedAt.Time, tty, now))
		t.Row("updated", output.Time(rs.UpdatedAt.Time, tty, now))
	})
}
