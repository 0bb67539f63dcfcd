package sqlite

import (
	"context"
	"errors"
	"strings"
)

// bulkRows holds the incident and event rows of a batch's plain
// deliveries (no correlation key, no triage job), written at the end of
// the transaction by a few multi-row INSERTs instead of two statements
// per delivery: each statement's fixed cost through database/sql and
// SQLite's VM was a tenth of a delivery's CPU time.
//
// Rows whose incident a later delivery of the batch might look up (a
// correlation key) or reference (a triage job) are written at once, as
// before: a deferred incident has no key to be found by.
type bulkRows struct {
	incidents [][]any
	events    [][]any
}

const (
	incidentInsertCols = `INSERT INTO incidents (` + incidentCols + `) VALUES `
	eventInsertCols    = `INSERT INTO events (id, source, received_at, verification, format, event_type, incident_id, request_id, normalized, payload, replay_hash) VALUES `
)

// bulkChunks are the row counts of the multi-row statements: few enough
// texts for the statement cache, large enough to amortize a statement.
var bulkChunks = []int{64, 16, 4, 1}

// errBulkFlush marks a failure of the multi-row INSERTs. They cannot say
// which delivery's row failed, so the batch is run again one statement
// per row, where a failing delivery is answered alone.
var errBulkFlush = errors.New("bulk insert")

func (b *bulkRows) flush(ctx context.Context, tx writeTx) error {
	// Incidents first: events reference them.
	if err := insertChunked(ctx, tx, incidentInsertCols, b.incidents); err != nil {
		return errors.Join(errBulkFlush, err)
	}
	if err := insertChunked(ctx, tx, eventInsertCols, b.events); err != nil {
		return errors.Join(errBulkFlush, err)
	}
	return nil
}

func insertChunked(ctx context.Context, tx writeTx, prefix string, rows [][]any) error {
	for _, size := range bulkChunks {
		for len(rows) >= size {
			args := make([]any, 0, size*len(rows[0]))
			for _, r := range rows[:size] {
				args = append(args, r...)
			}
			if _, err := tx.ExecContext(ctx, valuesSQL(prefix, size, len(rows[0])), args...); err != nil {
				return err
			}
			rows = rows[size:]
		}
	}
	return nil
}

// valuesSQL is prefix followed by rows groups of cols placeholders.
func valuesSQL(prefix string, rows, cols int) string {
	group := "(?" + strings.Repeat(",?", cols-1) + ")"
	var sb strings.Builder
	sb.Grow(len(prefix) + rows*(len(group)+1))
	sb.WriteString(prefix)
	for i := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(group)
	}
	return sb.String()
}
