package store

import "context"

// IncidentDetail is an incident with what triage and analysts added: its
// owner, tags, indicators, timeline and triage jobs. `incidents show -o
// json` and the admin API's GET /api/incidents/:id both return it.
type IncidentDetail struct {
	Incident
	Owner          string          `json:"owner,omitempty"`
	Tags           []string        `json:"tags"`
	Indicators     Indicators      `json:"indicators"`
	MergedInto     string          `json:"merged_into,omitempty"`
	Suppressed     bool            `json:"suppressed,omitempty"`
	SuppressReason string          `json:"suppress_reason,omitempty"`
	Timeline       []TimelineEntry `json:"timeline"`
	TriageJobs     []TriageJob     `json:"triage_jobs"`
}

// GetIncidentDetail finds an incident by id or number and gathers its
// detail: what `incidents show` prints and GET /api/incidents/{id} serves.
func GetIncidentDetail(ctx context.Context, s Store, idOrNumber string) (*IncidentDetail, error) {
	inc, err := s.GetIncident(ctx, idOrNumber)
	if err != nil {
		return nil, err
	}
	return LoadIncidentDetail(ctx, s, inc)
}

// LoadIncidentDetail gathers inc's detail from s.
func LoadIncidentDetail(ctx context.Context, s Store, inc *Incident) (*IncidentDetail, error) {
	tr, err := s.GetIncidentTriage(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	tl, err := s.ListTimeline(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	jobs, err := s.ListTriageJobs(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	d := &IncidentDetail{
		Incident: *inc, Owner: tr.Owner, Tags: tr.Tags, Indicators: tr.Indicators, MergedInto: tr.MergedInto,
		Suppressed: tr.Suppressed, SuppressReason: tr.SuppressReason, Timeline: tl, TriageJobs: jobs,
	}
	// Empty lists, not null, for scripts reading JSON.
	if d.Tags == nil {
		d.Tags = []string{}
	}
	if d.Timeline == nil {
		d.Timeline = []TimelineEntry{}
	}
	if d.TriageJobs == nil {
		d.TriageJobs = []TriageJob{}
	}
	return d, nil
}
