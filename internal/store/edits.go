package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// An analyst's edits of an incident, with the rules the CLI and the admin
// API share, so that a change made through a remote receiver is the one
// the receiver's own CLI would make.

// EditRefused is an edit the incident's state does not allow (it was
// grouped into another; acknowledging a resolved one would reopen it).
type EditRefused struct{ Msg string }

func (e *EditRefused) Error() string { return e.Msg }

// InvalidEdit is an edit whose value is not acceptable (an owner with
// control characters).
type InvalidEdit struct{ Msg string }

func (e *InvalidEdit) Error() string { return e.Msg }

// SetIncidentStatus moves an incident to status as actor, with a timeline
// entry, and returns the words for it. Asking for the status it has
// changes nothing and adds no entry: changed is then false. The rules
// are checked in the change's transaction, so a merge or a resolve
// landing meanwhile is seen.
func SetIncidentStatus(ctx context.Context, s Store, id, status, actor string, at time.Time) (inc *Incident, msg string, changed bool, err error) {
	var suppressed string // the reason, when a reopen lifts a suppression
	check := func(cur *Incident, tr *IncidentTriage) error {
		if tr.Suppressed && status != StatusResolved {
			suppressed = tr.SuppressReason
		}
		switch {
		case tr.MergedInto != "":
			return &EditRefused{fmt.Sprintf("%s was grouped into %s: work on that one", cur.Number, tr.MergedInto)}
		case cur.Status == status:
			return errUnchanged
		case cur.Status == StatusResolved && status == StatusAcknowledged:
			return &EditRefused{fmt.Sprintf("%s is resolved: acknowledging it would reopen it; to work on it again, run 'tw-cli incidents reopen %s' first", cur.Number, cur.Number)}
		}
		return nil
	}
	msg = "status → " + status
	entry := TimelineEntry{Kind: TimelineStatus, Actor: actor, Outcome: status, Message: msg}
	inc, changed, err = applyUnlessUnchanged(ctx, s, id, IncidentChange{Status: &status, Check: check}, at, entry)
	if err == nil && !changed {
		msg = inc.Number + " is already " + status
	}
	if changed && suppressed != "" {
		msg += "; no longer suppressed (" + suppressed + "): playbooks run on it again"
	}
	return inc, msg, changed, err
}

// errUnchanged is a Check's word that the edit would change nothing.
var errUnchanged = errors.New("unchanged")

// applyUnlessUnchanged makes the change with its entry, unless its Check
// returns errUnchanged: then it returns the incident as it is, and
// changed false.
func applyUnlessUnchanged(ctx context.Context, s Store, id string, ch IncidentChange, at time.Time, entry TimelineEntry) (*Incident, bool, error) {
	inc, err := s.ApplyIncidentChange(ctx, id, ch, nil, at, entry)
	if errors.Is(err, errUnchanged) {
		inc, err = s.GetIncident(ctx, id)
		return inc, false, err
	}
	return inc, err == nil, err
}

// MaxNameLen bounds a name an edit records (an owner, an actor).
const MaxNameLen = 64

// ValidName reports whether name may be recorded as an owner or an
// actor: printable, and at most MaxNameLen bytes.
func ValidName(name string) bool {
	return len(name) <= MaxNameLen && strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

// RecordableName is name made ValidName: non-printable characters shown
// as '?' and the rest cut to MaxNameLen bytes on a character boundary. A
// login name from a directory (SSSD, AD: first.last@corp.example.com…)
// can be longer; as an actor it must still record, the same in local and
// remote edits.
func RecordableName(name string) string {
	if ValidName(name) && utf8.ValidString(name) {
		return name
	}
	name = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(name, "?"))
	for len(name) > MaxNameLen {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

// AssignIncident sets an incident's owner ("" clears it) as actor, and
// returns the words for it. Naming the owner it has changes nothing and
// adds no entry: changed is then false.
func AssignIncident(ctx context.Context, s Store, id, owner, actor string, at time.Time) (inc *Incident, msg string, changed bool, err error) {
	if !ValidName(owner) {
		return nil, "", false, &InvalidEdit{fmt.Sprintf("owner must be printable and at most %d bytes", MaxNameLen)}
	}
	msg = "assigned to " + owner
	if owner == "" {
		msg = "owner cleared"
	}
	check := func(_ *Incident, tr *IncidentTriage) error {
		if tr.Owner == owner {
			return errUnchanged
		}
		return nil
	}
	entry := TimelineEntry{Kind: TimelineAssign, Actor: actor, Message: msg}
	inc, changed, err = applyUnlessUnchanged(ctx, s, id, IncidentChange{Owner: &owner, Check: check}, at, entry)
	if err == nil && !changed {
		msg = inc.Number + " is already assigned to " + owner
		if owner == "" {
			msg = inc.Number + " has no owner already"
		}
	}
	return inc, msg, changed, err
}

// CommentOnIncident adds text to an incident's timeline as actor.
func CommentOnIncident(ctx context.Context, s Store, id, text, actor string, at time.Time) (*Incident, error) {
	entry := TimelineEntry{Kind: TimelineComment, Actor: actor, Message: text}
	return s.ApplyIncidentChange(ctx, id, IncidentChange{}, nil, at, entry)
}
