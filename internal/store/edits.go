package store

import (
	"context"
	"fmt"
	"time"
)

// An analyst's edits of an incident, with the rules the CLI and the admin
// API share, so that a change made through a remote receiver is the one
// the receiver's own CLI would make.

// EditRefused is an edit the incident's state does not allow (it was
// grouped into another; acknowledging a resolved one would reopen it).
type EditRefused struct{ Msg string }

func (e *EditRefused) Error() string { return e.Msg }

// SetIncidentStatus moves an incident to status as actor, with a timeline
// entry. Asking for the status it has changes nothing and adds no entry:
// changed is then false.
func SetIncidentStatus(ctx context.Context, s Store, id, status, actor string, at time.Time) (inc *Incident, changed bool, err error) {
	cur, err := s.GetIncident(ctx, id)
	if err != nil {
		return nil, false, err
	}
	tr, err := s.GetIncidentTriage(ctx, cur.ID)
	if err != nil {
		return nil, false, err
	}
	switch {
	case tr.MergedInto != "":
		return nil, false, &EditRefused{fmt.Sprintf("%s was grouped into %s: work on that one", cur.Number, tr.MergedInto)}
	case cur.Status == status:
		return cur, false, nil
	case cur.Status == StatusResolved && status == StatusAcknowledged:
		return nil, false, &EditRefused{fmt.Sprintf("%s is resolved: acknowledging it would reopen it", cur.Number)}
	}
	entry := TimelineEntry{Kind: TimelineStatus, Actor: actor, Outcome: status, Message: "status → " + status}
	inc, err = s.ApplyIncidentChange(ctx, cur.ID, IncidentChange{Status: &status}, nil, at, entry)
	return inc, err == nil, err
}

// AssignIncident sets an incident's owner ("" clears it) as actor, and
// returns the timeline entry's words.
func AssignIncident(ctx context.Context, s Store, id, owner, actor string, at time.Time) (*Incident, string, error) {
	msg := "assigned to " + owner
	if owner == "" {
		msg = "owner cleared"
	}
	entry := TimelineEntry{Kind: TimelineAssign, Actor: actor, Message: msg}
	inc, err := s.ApplyIncidentChange(ctx, id, IncidentChange{Owner: &owner}, nil, at, entry)
	return inc, msg, err
}

// CommentOnIncident adds text to an incident's timeline as actor.
func CommentOnIncident(ctx context.Context, s Store, id, text, actor string, at time.Time) (*Incident, error) {
	entry := TimelineEntry{Kind: TimelineComment, Actor: actor, Message: text}
	return s.ApplyIncidentChange(ctx, id, IncidentChange{}, nil, at, entry)
}
