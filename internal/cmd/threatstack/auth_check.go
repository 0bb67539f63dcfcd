package threatstack

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// AuthCheckOptions are the inputs of `threatstack auth check`.
type AuthCheckOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)
	Output string
}

// AuthCheckResult is what `auth check -o json` prints. It names the
// credentials checked, never the key.
type AuthCheckResult struct {
	OK             bool   `json:"ok"`
	APIURL         string `json:"api_url"`
	UserID         string `json:"user_id"`
	OrganizationID string `json:"organization_id"`
}

// NewCmdAuthCheck returns `threatstack auth check`.
func NewCmdAuthCheck(f *cmdutil.Factory, runF func(*AuthCheckOptions) error) *cobra.Command {
	opts := &AuthCheckOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Verify the credentials against the API's HAWK self-test",
		Long: `Call GET /help/hawk/self-test, which succeeds only when the HAWK signature
made with TS_USER_ID, TS_API_KEY and TS_ORGANIZATION_ID is accepted.
Exits 3 when the credentials are missing or refused.`,
		Example: `  $ tw-cli threatstack auth check
  $ tw-cli threatstack auth check --api-url https://api.example-tenant.f5.com -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return authCheckRun(cmd, opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func authCheckRun(cmd *cobra.Command, opts *AuthCheckOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	if _, err := c.SelfTest(cmd.Context()); err != nil {
		return apiError(err)
	}
	res := AuthCheckResult{OK: true, APIURL: c.BaseURL(), UserID: c.UserID(), OrganizationID: c.OrganizationID()}
	if opts.Output == output.JSON || opts.Output == output.YAML {
		return output.Print(opts.IO, opts.Output, res, nil)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "✓ Threat Stack accepted the credentials of user %s for organization %s at %s\n",
		res.UserID, res.OrganizationID, res.APIURL)
	return err
}
