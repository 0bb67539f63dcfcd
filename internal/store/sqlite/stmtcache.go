package sqlite

import (
	"context"
	"database/sql"
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

// batchTx runs statements in tx, prepared ones where the cache has them.
type batchTx struct {
	tx    *sql.Tx
	stmts *stmtCache
}

func (b batchTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := b.stmts.lookup(query); st != nil {
		return b.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return b.tx.ExecContext(ctx, query, args...)
}

func (b batchTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := b.stmts.lookup(query); st != nil {
		return b.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return b.tx.QueryRowContext(ctx, query, args...)
}
