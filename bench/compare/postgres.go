package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// benchSchema creates an empty schema on the PostgreSQL server at base,
// so the benchmark neither sees nor leaves data in the server's own
// schemas, and returns a URL that uses it and a func that drops it.
func benchSchema(ctx context.Context, base string) (string, func(), error) {
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return "", nil, fmt.Errorf("-database-url must be a postgres:// URL")
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("-database-url: %w", err)
	}
	conn, err := connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connect to -database-url: %w", err)
	}
	defer conn.Close(ctx)
	schema := "tw_bench_" + randomHex(6)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		c, err := connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	}
	return u.String(), drop, nil
}

// connect opens one connection; the URL's pool_* settings are for the
// receiver's pool, and a plain connection would send them to the server.
func connect(ctx context.Context, databaseURL string) (*pgx.Conn, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg.ConnConfig)
}
