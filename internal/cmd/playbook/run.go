package playbook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/triage"
)

// RunOptions are the inputs of `playbook run`.
type RunOptions struct {
	IO      *iostreams.IOStreams
	Store   func() (store.Store, error)
	Catalog func() (*triage.Catalog, error)
	Sender  func() *notify.Sender
	Now     func() time.Time
	User    func() string

	Name     string
	Incident string
}

// NewCmdRun returns `playbook run`.
func NewCmdRun(f *cmdutil.Factory, runF func(*RunOptions) error) *cobra.Command {
	opts := &RunOptions{IO: f.IOStreams, Store: f.Store, Catalog: catalogFunc(f), Sender: notify.NewSender, Now: f.Now, User: cmdutil.CurrentUser}
	cmd := &cobra.Command{
		Use:   "run [<name>] --incident <number|id>",
		Short: "Apply a playbook to an existing incident now",
		Long: `Apply a playbook to an incident now, in this process: each step's outcome
goes on the incident's timeline, and notify steps deliver (with retries
and dead letters) as the receiver's workers would. Without a name, the
playbook of the incident's source runs (or "default").`,
		Example: `  $ tw-cli playbook run --incident INC-2024-0001
  $ tw-cli playbook run malware_triage --incident INC-2024-0007`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cmdutil.FlagErrorf("too many arguments: want at most a playbook name\n\nUsage: %s", cmd.UseLine())
			}
			return nil
		},
		ValidArgsFunction: completePlaybooks(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if opts.Incident == "" {
				return cmdutil.FlagErrorf("--incident is required\n\nUsage: %s", cmd.UseLine())
			}
			if runF != nil {
				return runF(opts)
			}
			return runRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Incident, "incident", "", "Incident `number` or id, e.g. INC-2024-0001")
	return cmd
}

func runRun(ctx context.Context, opts *RunOptions) error {
	st, err := opts.Store()
	if err != nil {
		return err
	}
	inc, err := st.GetIncident(ctx, opts.Incident)
	if errors.Is(err, store.ErrNotFound) {
		return cmdutil.NotFound("no incident %q: run 'tw-cli incidents list'", opts.Incident)
	}
	if err != nil {
		return err
	}
	name := opts.Name
	if name == "" {
		name = triage.DefaultPlaybook
		if src, err := st.GetSource(ctx, inc.Source); err == nil && src.Playbook != "" {
			name = src.Playbook
		}
	}
	cat, err := opts.Catalog()
	if err != nil {
		return err
	}
	warnProblems(cat, opts.IO.ErrOut)
	pb, ok := cat.Get(name)
	if !ok {
		return cmdutil.NotFound("no playbook %q: run 'tw-cli playbook list'", name)
	}
	actor := triage.Actor(pb.Name)
	start := store.TimelineEntry{Kind: store.TimelinePlaybook, Actor: actor, Outcome: store.OutcomeStarted,
		Message: fmt.Sprintf("playbook %s run by %s (%d steps)", pb.Name, opts.User(), len(pb.Steps))}
	if _, err := st.ApplyIncidentChange(ctx, inc.ID, store.IncidentChange{}, nil, opts.Now(), start); err != nil {
		return err
	}
	eng := &triage.Engine{Store: st, Now: opts.Now, Notifier: &notify.Notifier{Store: st, Sender: opts.Sender(), Now: opts.Now}}
	sum, runErr := eng.Execute(ctx, triage.Run{Playbook: pb, Incident: inc.ID})
	end := store.TimelineEntry{Kind: store.TimelinePlaybook, Actor: actor, Outcome: store.OutcomeDone, Message: sum.Message(pb.Name)}
	var se *triage.StepError
	if errors.As(runErr, &se) {
		// Nobody retries a manual run: the failure is recorded and the
		// analyst runs it again.
		end = store.TimelineEntry{Kind: store.TimelineStep, Actor: actor, Step: se.Step, Outcome: store.OutcomeFailed,
			Message: fmt.Sprintf("step %d (%s) failed: %v", se.Index+1, se.Step, se.Err)}
	}
	if _, err := st.ApplyIncidentChange(context.WithoutCancel(ctx), inc.ID, store.IncidentChange{}, nil, opts.Now(), end); err != nil {
		return errors.Join(runErr, err)
	}
	if runErr != nil {
		return fmt.Errorf("playbook %s on %s: %w", pb.Name, inc.Number, runErr)
	}
	if sum.Failed > 0 {
		// Recorded on the timeline like any run, but not a success.
		return cmdutil.RemoteError(fmt.Errorf("%s on %s: %s: see 'tw-cli incidents show %s' and 'tw-cli destination failures'",
			pb.Name, inc.Number, sum.Message(pb.Name), inc.Number))
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ %s on %s: %s\n", pb.Name, inc.Number, sum.Message(pb.Name))
	return nil
}
