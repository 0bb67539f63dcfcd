package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/storetest"
)

// TestURLEnv names the server the tests run against. .ci/run starts a
// throwaway cluster and sets it; without it the tests skip.
const TestURLEnv = "TW_TEST_DATABASE_URL"

// serverURL returns the test server's URL, or skips the test (once, at
// the top level, so the reason is not repeated for every case).
func serverURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv(TestURLEnv)
	if u == "" {
		t.Skip(TestURLEnv + " is unset: skipping the PostgreSQL store tests (bash .ci/run starts a throwaway server and sets it)")
	}
	return u
}

// freshSchema creates an empty schema on the test server and returns a URL
// whose connections use it, so every test starts from nothing and tests
// run in parallel on one server. The schema is dropped afterwards.
func freshSchema(t *testing.T) string {
	t.Helper()
	base := serverURL(t)
	u, err := url.Parse(base)
	if err != nil || !IsURL(base) {
		t.Fatalf("%s must be a postgres:// URL", TestURLEnv)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", TestURLEnv, err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "tw_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(context.Background(), freshSchema(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSuite(t *testing.T) {
	serverURL(t)
	storetest.Run(t, open)
}

func TestTriageSuite(t *testing.T) {
	serverURL(t)
	storetest.RunTriage(t, open)
}

func TestMigrations(t *testing.T) {
	serverURL(t)
	storetest.RunMigrations(t, func(t *testing.T) storetest.Opener {
		u := freshSchema(t)
		return func(ctx context.Context, migrate bool) (store.Migrator, error) {
			s, err := Open(ctx, u, Options{NoMigrate: !migrate})
			if err != nil {
				return nil, err
			}
			return s, nil
		}
	})
}

func TestSchemaTooNew(t *testing.T) {
	u := freshSchema(t)
	ctx := context.Background()
	s, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var tooNew *store.SchemaTooNewError
	if _, err := Open(ctx, u, Options{}); !errors.As(err, &tooNew) || tooNew.Current != len(migrations)+1 {
		t.Fatalf("open of a newer schema = %v, want SchemaTooNewError", err)
	}
	// Status still reads it, to tell the operator what is wrong.
	s, err = Open(ctx, u, Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.SchemaStatus(ctx)
	if err != nil || st.Current != len(migrations)+1 || st.Pending() != -1 {
		t.Fatalf("status = %+v, %v", st, err)
	}
}

// TestNumbersAcrossReplicas is two stores (two receivers' pools) opening
// incidents in one year at once: the numbers never collide.
func TestNumbersAcrossReplicas(t *testing.T) {
	u := freshSchema(t)
	ctx := context.Background()
	var replicas [2]*Store
	for i := range replicas {
		s, err := Open(ctx, u, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		replicas[i] = s
	}
	at := time.Date(2031, 3, 1, 0, 0, 0, 0, time.UTC)
	const per = 30
	type out struct {
		num string
		err error
	}
	results := make(chan out, 2*per)
	for i := range 2 * per {
		go func() {
			res, err := replicas[i%2].Ingest(ctx, &store.Delivery{
				Source: "edr", ReceivedAt: at, Verification: "hmac", Format: "generic",
				ReplayKey: fmt.Sprintf("k%d", i),
				Items:     []store.DeliveryItem{{Type: "t", Title: "t", Severity: "low", Normalized: []byte(`{}`)}},
			})
			if err != nil {
				results <- out{err: err}
				return
			}
			results <- out{num: res.Incidents[0].Number}
		}()
	}
	seen := map[string]bool{}
	for range 2 * per {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if seen[r.num] {
			t.Fatalf("%s given twice across replicas", r.num)
		}
		seen[r.num] = true
	}
	// No delivery failed, so the sequence has no gap either.
	for i := 1; i <= 2*per; i++ {
		if num := store.FormatIncidentNumber(2031, i); !seen[num] {
			t.Fatalf("%s missing from %v", num, seen)
		}
	}
}

func TestBadURL(t *testing.T) {
	_, err := Open(context.Background(), "postgres://u:hunter2@host:notaport/db", Options{})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("bad URL error = %v: want an error without the password", err)
	}
}

func TestLocationHidesPassword(t *testing.T) {
	cfg, err := pgx.ParseConfig("postgres://tw:hunter2@db.example.com:6543/receivers?search_path=tw&sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := location(cfg), "postgres://tw@db.example.com:6543/receivers?search_path=tw"; got != want {
		t.Fatalf("location = %q, want %q", got, want)
	}
}
