package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// writeTx is what the ingest path needs of a transaction. *sql.Tx has it;
// batchTx adds statements prepared once for the store's lifetime.
type writeTx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// maxCachedStmts bounds the cache. The ingest path runs a fixed handful of
// statements; the bound only guards against a future caller building SQL
// text from data.
const maxCachedStmts = 64

// stmtCache keeps the group commit's statements prepared. Parsing SQL is
// what modernc.org/sqlite spends most of an unprepared Exec on (about 40%
// of a delivery's store time), and the same few statements run for every
// delivery.
//
// The writer pool has one connection, held by the open transaction, so a
// statement cannot be prepared on the pool while a batch runs. A statement
// seen for the first time therefore runs unprepared and is prepared after
// the batch (prepareWanted): no list of statements to keep in step with
// the code that runs them.
type stmtCache struct {
	db *sql.DB

	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stmts[query]
	if st == nil && len(c.stmts)+len(c.wanted) < maxCachedStmts {
		c.wanted[query] = true
	}
	return st
}

// prepareWanted prepares the statements first seen in the last batch. It
// must run with no transaction open on the writer pool.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	c.mu.Lock()
	var queries []string
	for q := range c.wanted {
		queries = append(queries, q)
		delete(c.wanted, q)
	}
	c.mu.Unlock()
	// Not under mu: preparing waits for the writer connection, which a
	// transaction that needs lookup may hold.
	for _, q := range queries {
		// A statement that fails to prepare keeps running unprepared, and
		// reports its error there, where the caller sees it.
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.stmts[q] == nil {
			c.stmts[q], st = st, nil
		}
		c.mu.Unlock()
		if st != nil {
			st.Close() // prepared twice by concurrent batches
		}
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}

// batchTx runs statements in tx, prepared ones where the cache has them,
// and hands out incident numbers for the whole transaction.
type batchTx struct {
	tx    *sql.Tx
	stmts *stmtCache
	// counters are the incident_counters rows read in this transaction,
	// advanced in memory and written back once by flush. The transaction
	// holds SQLite's write lock, so no other receiver can take a number
	// in between; a rollback discards them with everything else.
	counters map[int]int
	// bound are the statements bound to tx so far (nil: run unprepared).
	bound map[string]*sql.Stmt
	// bulk collects rows to write at flush; nil writes each at once.
	bulk *bulkRows
}

// nextIncidentSeq returns the next incident sequence number of year.
func nextIncidentSeq(ctx context.Context, tx writeTx, year int) (int, error) {
	if b, ok := tx.(*batchTx); ok {
		return b.nextIncidentSeq(ctx, year)
	}
	var seq int
	err := tx.QueryRowContext(ctx, `INSERT INTO incident_counters (year, last) VALUES (?, 1)
		ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last`, year).Scan(&seq)
	return seq, err
}

// nextIncidentSeq reads the counter once per transaction instead of
// updating it once per incident: that upsert cost a tenth of a delivery's
// CPU time.
func (b *batchTx) nextIncidentSeq(ctx context.Context, year int) (int, error) {
	last, ok := b.counters[year]
	if !ok {
		err := b.QueryRowContext(ctx, `SELECT last FROM incident_counters WHERE year = ?`, year).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
		if b.counters == nil {
			b.counters = map[int]int{}
		}
	}
	b.counters[year] = last + 1
	return last + 1, nil
}

// flush writes the deferred rows and the advanced counters; it runs
// before COMMIT.
func (b *batchTx) flush(ctx context.Context) error {
	if b.bulk != nil {
		if err := b.bulk.flush(ctx, b); err != nil {
			return err
		}
	}
	for year, last := range b.counters {
		if _, err := b.ExecContext(ctx, `INSERT INTO incident_counters (year, last) VALUES (?, ?)
			ON CONFLICT (year) DO UPDATE SET last = excluded.last`, year, last); err != nil {
			return err
		}
	}
	return nil
}

// stmt returns query's prepared statement bound to this transaction, or
// nil to run it unprepared. Binding allocates, so each statement is bound
// once per transaction, not once per delivery.
func (b *batchTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := b.bound[query]; ok {
		return st
	}
	st := b.stmts.lookup(query)
	if st != nil {
		st = b.tx.StmtContext(ctx, st)
	}
	if b.bound == nil {
		b.bound = map[string]*sql.Stmt{}
	}
	b.bound[query] = st
	return st
}

func (b *batchTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := b.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return b.tx.ExecContext(ctx, query, args...)
}

func (b *batchTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := b.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return b.tx.QueryRowContext(ctx, query, args...)
}
