package playbook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmd/incidents"
	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/output"
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
	// Output is -o: json and yaml print a RunResult.
	Output string
}

// RunResult is what `playbook run -o json` prints: the run's summary,
// with each step's outcome as its timeline entry records it.
type RunResult struct {
	Playbook   string       `json:"playbook"`
	Incident   string       `json:"incident"`
	IncidentID string       `json:"incident_id"`
	Steps      []StepResult `json:"steps"`
	Applied    int          `json:"applied"`
	Skipped    int          `json:"skipped"`
	// Failed counts the steps whose outcome is failed: a notify whose
	// destinations all dead-lettered (exit 5), or the step that ended
	// the run with Error (exit 1).
	Failed int `json:"failed"`
	// StoppedAt names the step that ended the playbook early on purpose
	// (a false match, a group), with why.
	StoppedAt string `json:"stopped_at,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Error     string `json:"error,omitempty"`
	// Message is the run's last timeline entry, what the command says in
	// words.
	Message string `json:"message"`
}

// StepResult is one step of a run.
type StepResult struct {
	// Index counts from 1, as the playbook's steps do in messages.
	Index   int    `json:"index"`
	Step    string `json:"step"`
	Outcome string `json:"outcome"`
	Message string `json:"message"`
}

// NewCmdRun returns `playbook run`.
func NewCmdRun(f *cmdutil.Factory, runF func(*RunOptions) error) *cobra.Command {
	opts := &RunOptions{IO: f.IOStreams, Store: f.Store, Catalog: catalogFunc(f), Sender: cmdutil.NotifySender(f), Now: f.Now, User: cmdutil.CurrentUser}
	cmd := &cobra.Command{
		Use:   "run [<name>] --incident <number|id>",
		Short: "Apply a playbook to an existing incident now",
		Long: `Apply a playbook to an incident now, in this process: each step's outcome
goes on the incident's timeline, and notify steps deliver (with retries
and dead letters) as the receiver's workers would. Without a name, the
playbook of the incident's source runs (or "default").`,
		Example: `  $ tw-cli playbook run --incident INC-2024-0001
  $ tw-cli playbook run malware_triage --incident INC-2024-0007
  $ tw-cli playbook run --incident INC-2024-0001 -o json`,
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
	_ = cmd.RegisterFlagCompletionFunc("incident", incidents.CompleteNumbers(f))
	output.AddFormatFlag(cmd, &opts.Output)
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
	pb, err := lookup(cat, name)
	if err != nil {
		return err
	}
	actor := triage.Actor(pb.Name)
	start := store.TimelineEntry{Kind: store.TimelinePlaybook, Actor: actor, Outcome: store.OutcomeStarted,
		Message: fmt.Sprintf("playbook %s run by %s (%d steps)", pb.Name, opts.User(), len(pb.Steps))}
	if _, err := st.ApplyIncidentChange(ctx, inc.ID, store.IncidentChange{}, nil, opts.Now(), start); err != nil {
		return err
	}
	rec := &stepRecorder{Store: st, incidentID: inc.ID}
	eng := &triage.Engine{Store: rec, Now: opts.Now, Notifier: &notify.Notifier{Store: st, Sender: opts.Sender(), Now: opts.Now}}
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
	if opts.Output == output.JSON || opts.Output == output.YAML {
		res := RunResult{Playbook: pb.Name, Incident: inc.Number, IncidentID: inc.ID, Steps: rec.steps,
			Applied: sum.Ran, Skipped: sum.Skipped, Failed: sum.Failed, StoppedAt: sum.StoppedAt, Reason: sum.Reason, Message: end.Message}
		if se != nil {
			res.Steps = append(res.Steps, StepResult{Index: se.Index + 1, Step: se.Step, Outcome: store.OutcomeFailed, Message: se.Err.Error()})
			res.Failed++
			res.Error = runErr.Error()
		} else if runErr != nil {
			res.Error = runErr.Error()
		}
		if res.Steps == nil {
			res.Steps = []StepResult{}
		}
		if err := output.Print(opts.IO, opts.Output, res, nil); err != nil {
			return err
		}
		// The same exit codes as the words, without repeating them.
		switch {
		case runErr != nil:
			return cmdutil.ErrSilent
		case sum.Failed > 0:
			return &cmdutil.ExitError{Code: cmdutil.ExitRemote, Err: cmdutil.ErrSilent}
		}
		return nil
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

// stepRecorder is the store the engine runs on: it notes each step's
// timeline entry on the incident once committed, which is what -o json
// reports. Extra entries a step writes on another incident (a group's
// target) are not this run's steps. The engine runs steps one at a time.
type stepRecorder struct {
	store.Store
	incidentID string
	steps      []StepResult
}

func (r *stepRecorder) ApplyIncidentChange(ctx context.Context, idOrNumber string, ch store.IncidentChange, progress *store.JobProgress, at time.Time, entries ...store.TimelineEntry) (*store.Incident, error) {
	inc, err := r.Store.ApplyIncidentChange(ctx, idOrNumber, ch, progress, at, entries...)
	if err != nil {
		return inc, err
	}
	for _, e := range entries {
		if e.Kind == store.TimelineStep && (e.IncidentID == "" || e.IncidentID == r.incidentID) {
			r.steps = append(r.steps, StepResult{Index: len(r.steps) + 1, Step: e.Step, Outcome: e.Outcome, Message: e.Message})
		}
	}
	return inc, nil
}
