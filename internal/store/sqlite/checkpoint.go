package sqlite

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

// checkpointEvery is how often the background checkpointer copies the WAL
// into the database file when there were commits.
const checkpointEvery = 100 * time.Millisecond

// writerAutoCheckpoint is the writer connection's own checkpoint threshold,
// in pages (32 MiB of WAL). Normally the background checkpointer has
// already copied nearly everything, so the writer's checkpoint only
// finishes the tail and lets the WAL restart from its beginning; it also
// bounds the WAL if the background one falls behind.
const writerAutoCheckpoint = 8192

// A checkpointer copies committed WAL frames into the database file from
// its own connection, so that group commits do not wait for it. SQLite's
// default runs the checkpoint inside whichever commit crosses 1000 pages,
// and its two fsyncs then stall that commit, and every delivery queued
// behind it, for milliseconds. PASSIVE never blocks the writer.
type checkpointer struct {
	db      *sql.DB
	commits atomic.Uint64 // bumped by the committer after each commit
	stop    context.CancelFunc
	done    chan struct{}
}

func startCheckpointer(db *sql.DB) *checkpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, stop: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	var seen uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := c.commits.Load()
		if n == seen {
			continue // idle: nothing to copy
		}
		seen = n
		// An error (SQLITE_BUSY from another process's checkpoint) only
		// means the writer's own threshold will do this work later.
		_, _ = c.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
	}
}

func (c *checkpointer) close() error {
	c.stop()
	<-c.done
	return c.db.Close()
}
