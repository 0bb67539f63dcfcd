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
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

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
	admin, err := connectOne(ctx, base)
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
		c, err := connectOne(context.Background(), base)
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

func TestLifecycle(t *testing.T) {
	serverURL(t)
	storetest.RunLifecycle(t, func(t *testing.T) storetest.Opener {
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

// TestClaimSkipsLockedJobs: a job another replica is in the middle of
// claiming (its row locked) is passed over at once, not waited for.
func TestClaimSkipsLockedJobs(t *testing.T) {
	s := open(t).(*Store)
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		res, err := s.Ingest(ctx, &store.Delivery{
			Source: "mail", ReceivedAt: time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC), Verification: "hmac", Format: "generic",
			Triage: &store.TriageRequest{Playbook: "phishing_triage"},
			Items:  []store.DeliveryItem{{Type: "t", Title: "t", Severity: "low", Normalized: []byte(`{}`)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Jobs[0].ID)
	}
	holder, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, `SELECT 1 FROM triage_jobs WHERE id = $1 FOR UPDATE`, ids[0]); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	quick, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	got, err := s.ClaimTriageJobs(quick, "w1", now, time.Minute, 10)
	if err != nil {
		t.Fatalf("claim while a job is locked = %v: it must not wait for the lock", err)
	}
	if len(got) != 2 || got[0].ID != ids[1] || got[1].ID != ids[2] {
		t.Fatalf("claimed %+v, want the two unlocked jobs %v", got, ids[1:])
	}
	holder.Rollback(ctx)
	got, err = s.ClaimTriageJobs(ctx, "w2", now, time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("after the lock went: %+v, %v", got, err)
	}
}

// TestClaimsAcrossReplicas is two receivers' workers on one queue: each
// job goes to one worker of one replica.
func TestClaimsAcrossReplicas(t *testing.T) {
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
	const jobs = 50
	for i := range jobs {
		if _, err := replicas[i%2].Ingest(ctx, &store.Delivery{
			Source: "mail", ReceivedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Verification: "hmac", Format: "generic",
			Triage: &store.TriageRequest{Playbook: "phishing_triage"},
			Items:  []store.DeliveryItem{{Type: "t", Title: "t", Severity: "low", CorrelationKey: fmt.Sprint("c", i), Normalized: []byte(`{}`)}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	claims := make(chan []store.TriageJob, 64)
	errs := make(chan error, 8)
	for w := range 8 {
		go func() {
			s := replicas[w%2]
			for {
				js, err := s.ClaimTriageJobs(ctx, fmt.Sprint("replica", w%2, "-w", w), now, time.Minute, 3)
				if err != nil || len(js) == 0 {
					errs <- err
					return
				}
				claims <- js
			}
		}()
	}
	seen := map[string]string{}
	for finished := 0; finished < 8; {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
			finished++
		case js := <-claims:
			for _, j := range js {
				if prev, dup := seen[j.ID]; dup {
					t.Fatalf("job %s claimed by %s and %s", j.ID, prev, j.LeaseOwner)
				}
				seen[j.ID] = j.LeaseOwner
			}
		}
	}
	for len(claims) > 0 {
		for _, j := range <-claims {
			if _, dup := seen[j.ID]; dup {
				t.Fatalf("job %s claimed twice", j.ID)
			}
			seen[j.ID] = j.LeaseOwner
		}
	}
	if len(seen) != jobs {
		t.Fatalf("%d jobs claimed, want %d", len(seen), jobs)
	}
}

// connectOne opens a single connection. A URL's pool_* settings are meant
// for a pool; a plain connection would send them to the server, which
// refuses unknown parameters.
func connectOne(ctx context.Context, databaseURL string) (*pgx.Conn, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg.ConnConfig)
}

// TestLeastPrivilegeRole: once an owner has migrated, a role with only
// DML rights (no CREATE on the schema) opens the store and numbers
// incidents: opening skips DDL when the schema is current, and the
// migration made this year's incident sequence.
func TestLeastPrivilegeRole(t *testing.T) {
	ownerURL := freshSchema(t)
	ctx := context.Background()
	owner, err := Open(ctx, ownerURL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	owner.Close()

	u, _ := url.Parse(ownerURL)
	schema := u.Query().Get("search_path")
	b := make([]byte, 4)
	rand.Read(b)
	role := "tw_app_" + hex.EncodeToString(b)
	admin, err := connectOne(ctx, serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, q := range []string{
		`CREATE ROLE ` + role + ` LOGIN PASSWORD 'app-pw'`,
		`GRANT USAGE ON SCHEMA ` + schema + ` TO ` + role,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ` + schema + ` TO ` + role,
		`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ` + schema + ` TO ` + role,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() { // before the schema goes (cleanups run last first)
		c, err := connectOne(context.Background(), serverURL(t))
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(context.Background())
		for _, q := range []string{`DROP OWNED BY ` + role, `DROP ROLE ` + role} {
			if _, err := c.Exec(context.Background(), q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})

	u.User = url.UserPassword(role, "app-pw")
	app, err := Open(ctx, u.String(), Options{})
	if err != nil {
		t.Fatalf("open as a DML-only role: %v", err)
	}
	defer app.Close()
	if _, err := app.pool.Exec(ctx, `CREATE TABLE not_allowed (a int)`); err == nil {
		t.Fatal("the role can create tables: the test proves nothing")
	}
	now := time.Now().UTC()
	res, err := app.Ingest(ctx, &store.Delivery{
		Source: "ts", ReceivedAt: now, Verification: "none", Format: "generic", RequestID: "r", ReplayKey: "k1",
		Payload: []byte(`{"event_type":"x","data":{}}`),
		Items:   []store.DeliveryItem{{Type: "x", Title: "x", Severity: "info", Normalized: []byte(`{"title":"x"}`)}},
	})
	if err != nil {
		t.Fatalf("ingest as a DML-only role: %v", err)
	}
	if want := fmt.Sprintf("INC-%d-0001", now.Year()); res.Incidents[0].Number != want {
		t.Fatalf("incident %s, want %s", res.Incidents[0].Number, want)
	}
	// A year whose sequence the owner has not made yet says who makes it.
	_, err = app.Ingest(ctx, &store.Delivery{
		Source: "ts", ReceivedAt: now.AddDate(2, 0, 0), Verification: "none", Format: "generic", RequestID: "r", ReplayKey: "k2",
		Payload: []byte(`{"event_type":"x","data":{}}`),
		Items:   []store.DeliveryItem{{Type: "x", Title: "x", Severity: "info", Normalized: []byte(`{"title":"x"}`)}},
	})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("incident number sequence for %d", now.Year()+2)) || !strings.Contains(err.Error(), "run 'tw-cli db migrate' as the schema's owner") {
		t.Fatalf("ingest into a year without its sequence: %v", err)
	}
	// 'db migrate' on a current schema runs no DDL: the role may run it.
	if from, to, err := app.Migrate(ctx); err != nil || from != len(migrations) || to != len(migrations) {
		t.Fatalf("migrate a current schema as a DML-only role: %d → %d, %v", from, to, err)
	}
	// One version behind (a rolling upgrade), it says who must migrate.
	if _, err := admin.Exec(ctx, `DELETE FROM `+schema+`.schema_migrations WHERE version = $1`, len(migrations)); err != nil {
		t.Fatal(err)
	}
	_, _, err = app.Migrate(ctx)
	if want := fmt.Sprintf("the schema is at version %d and this tw-cli needs %d", len(migrations)-1, len(migrations)); err == nil ||
		!strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "run 'tw-cli db migrate' as the schema's owner") {
		t.Fatalf("migrate a schema behind as a DML-only role: %v", err)
	}
}

// A search_path naming no schema the role can see is said to be that, not
// "nothing migrated yet: run db migrate" (which then failed).
func TestSchemaOutOfSight(t *testing.T) {
	u, err := url.Parse(freshSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", "no_such_schema_here")
	u.RawQuery = q.Encode()
	s, err := Open(context.Background(), u.String(), Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.SchemaStatus(context.Background()); err == nil || !strings.Contains(err.Error(), "names no schema that exists and that this role may use") {
		t.Fatalf("status = %v", err)
	}
	if _, _, err := s.Migrate(context.Background()); err == nil || !strings.Contains(err.Error(), "names no schema that exists") {
		t.Fatalf("migrate = %v", err)
	}
}

// A URL pgx cannot use is a usage problem: the error names what is wrong
// (the setting, the file) and never the URL or its password. No server
// is needed: nothing is dialled.
func TestOpenNamesWhatIsWrongWithTheURL(t *testing.T) {
	for u, want := range map[string]string{
		"postgres://tw:TopSecretPW@127.0.0.1/db?sslmode=verify-ca&sslrootcert=/nonexistent.pem": "unable to read CA file: open /nonexistent.pem",
		"postgres://tw:TopSecretPW@127.0.0.1/db?sslmode=bogus":                                  "sslmode is invalid",
		"postgres://tw:TopSecretPW@127.0.0.1/db?pool_max_conns=0":                               "pool_max_conns too small",
		"postgres://tw:TopSecretPW@127.0.0.1:x/db":                                              "invalid port",
	} {
		_, err := Open(context.Background(), u, Options{})
		if !errors.Is(err, ErrInvalidURL) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "TopSecretPW") || strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("Open(%q) = %v, want ErrInvalidURL naming %q", u, err, want)
		}
	}
}

// A database out of reach is said to be so, with no password: a read
// command said "migrate".
func TestOpenNamesAnUnreachableDatabase(t *testing.T) {
	_, err := Open(context.Background(), "postgres://tw:TopSecretPW@127.0.0.1:1/db?connect_timeout=2", Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "cannot reach the database at postgres://tw@127.0.0.1:1/db: ") || strings.Contains(err.Error(), "TopSecretPW") {
		t.Fatalf("Open of a closed port = %v", err)
	}
}

// A database restart (here: the server ending this store's sessions)
// leaves the pool's connections dead. No delivery may fail for it: each
// transaction that could not begin runs again on a new connection, and
// the first readiness probe after it passes.
func TestDeadConnectionsAreReplaced(t *testing.T) {
	u, err := url.Parse(freshSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	app := "tw_dead_" + hex.EncodeToString(b)
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	ctx := context.Background()
	s, err := Open(ctx, u.String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n atomic.Int64
	deliver := func() error {
		_, err := s.Ingest(ctx, &store.Delivery{Source: "edr", ReceivedAt: time.Now(), Verification: "hmac", Format: "generic",
			Payload: []byte(`{}`), ReplayKey: fmt.Sprint("dead-", n.Add(1)),
			Items: []store.DeliveryItem{{Type: "t", Title: "t", Severity: "low", Normalized: []byte(`{}`)}}})
		return err
	}
	// Several connections in the pool, all idle afterwards.
	errs := make(chan error, 8)
	for range 8 {
		go func() { errs <- deliver() }()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	admin, err := connectOne(ctx, serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var killed int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&killed); err != nil || killed < 2 {
		t.Fatalf("terminated %d sessions: %v", killed, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("first ping after the restart: %v", err)
	}
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if err := deliver(); err != nil {
			t.Fatalf("delivery %d after the restart: %v", i+1, err)
		}
	}
	// The receiver's source reads too: one 500 a round before.
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSource(ctx, "edr"); err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("source read after the restart: %v", err)
	}
}

// TestUnavailableErrors: what the server refuses for want of a connection
// or resources is ErrUnavailable (503, retry), anything else stays itself.
func TestUnavailableErrors(t *testing.T) {
	for code, want := range map[string]bool{"53200": true, "08006": true, "57P01": true, "23505": false, "40001": false} {
		if got := unavailable(&pgconn.PgError{Code: code}); got != want {
			t.Errorf("unavailable(SQLSTATE %s) = %v, want %v", code, got, want)
		}
	}
	if !unavailable(fmt.Errorf("x: %w", &pgconn.ConnectError{})) {
		t.Error("a connect error is not unavailable")
	}
}

// db status says when a year's incident sequence is missing, though the
// schema is current: a DML-only receiver would fail that year's
// deliveries.
func TestStatusNotesAMissingSequence(t *testing.T) {
	u := freshSchema(t)
	ctx := context.Background()
	s, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st, err := s.SchemaStatus(ctx); err != nil || st.Pending() != 0 || len(st.Notes) != 0 {
		t.Fatalf("status after migrate = %+v, %v", st, err)
	}
	next := time.Now().UTC().Year() + 1
	if _, err := s.pool.Exec(ctx, `DROP SEQUENCE `+pgx.Identifier{fmt.Sprint("incident_seq_", next)}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	st, err := s.SchemaStatus(ctx)
	if err != nil || len(st.Notes) != 1 || !strings.Contains(st.Notes[0], fmt.Sprintf("sequence for %d is not made yet", next)) {
		t.Fatalf("status without next year's sequence = %+v, %v", st, err)
	}
}
