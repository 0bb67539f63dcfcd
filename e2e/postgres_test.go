package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgSchemaURL creates an empty schema on the PostgreSQL server named by
// TW_TEST_DATABASE_URL and returns a URL that uses it; the schema is
// dropped after the test.
func pgSchemaURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("TW_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("TW_TEST_DATABASE_URL is unset: skipping the two-receiver PostgreSQL test (bash .ci/run starts a throwaway server and sets it)")
	}
	ctx := context.Background()
	conn, err := connectOne(ctx, base)
	if err != nil {
		t.Fatalf("connect to TW_TEST_DATABASE_URL: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "tw_e2e_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := connectOne(context.Background(), base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// replicaDelivery is one signed request prepared before the concurrent burst.
type replicaDelivery struct {
	source, body, requestID string
	headers                 map[string]string
	// also is a second receiver that gets the same signed request at the
	// same time (a sender retrying through the load balancer).
	to, also *server
}

type replicaOutcome struct {
	d      *replicaDelivery
	srv    *server
	status int
	code   string
	// incident is the incident number of an accepted delivery, queueID
	// the triage job of a queued one (an auto-triage source).
	incident, queueID string
	err               error
}

// TestTwoReceiversOneDatabase is the scale-out set-up: two `serve`
// processes (own data dir, own logs and metrics) on one PostgreSQL schema,
// started together on an empty database, taking a burst of concurrent
// deliveries split between them, some sent to both, most queued for
// auto-triage that both receivers' workers take from one queue.
func TestTwoReceiversOneDatabase(t *testing.T) {
	dbURL := pgSchemaURL(t)
	a, b := newEnv(t), newEnv(t)
	a.extra = append(a.extra, "TW_DATABASE_URL="+dbURL)
	b.extra = append(b.extra, "TW_DATABASE_URL="+dbURL)

	if r := a.must("db", "status"); !strings.Contains(r.stdout, "current\t0\n") {
		t.Fatalf("new schema status:\n%s", r.stdout)
	}
	// Both start at once on the empty database, with the same
	// webhook_config.yaml (as replicas of one deployment do): each
	// migration is applied once and the file's source created once,
	// without either receiver failing to start.
	cfgFile := filepath.Join(t.TempDir(), "webhook_config.yaml")
	if err := os.WriteFile(cfgFile, []byte("sources:\n  edr:\n    secret: ${EDR_SECRET}\n    format: generic\n    auto_triage: true\n    playbook: default\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.extra = append(a.extra, "EDR_SECRET=edr-secret")
	b.extra = append(b.extra, "EDR_SECRET=edr-secret")
	// A worker claims at most its free slots per poll, so enough of them
	// keep the test short.
	serveArgs := []string{"--quiet", "--config", cfgFile, "--triage-workers", "16"}
	srvA, srvB := a.startServe(serveArgs...), b.startServe(serveArgs...)
	srvA.waitReady(t)
	srvB.waitReady(t)
	st := decodeJSON[struct {
		Backend   string `json:"backend"`
		Current   int    `json:"current_version"`
		Available int    `json:"available_version"`
		Applied   []struct {
			Version int `json:"version"`
		} `json:"applied"`
	}](t, b.must("db", "status", "-o", "json").stdout)
	if st.Backend != "postgres" || st.Current != st.Available || len(st.Applied) != st.Available {
		t.Fatalf("after two receivers started: %+v", st)
	}

	// A source added through one machine's CLI exists for both receivers.
	b.must("webhook", "add", "hive", "--secret", "hive-secret", "--format", "thehive")
	if r := a.must("webhook", "list", "-o", "json"); !strings.Contains(r.stdout, `"hive"`) || !strings.Contains(r.stdout, `"edr"`) {
		t.Fatalf("sources seen from the other machine: %s", r.stdout)
	}

	const generic, dupEvery, hiveUpdates = 300, 10, 40
	now := time.Now()
	var ds []*replicaDelivery
	sign := func(d *replicaDelivery, secret string) {
		ts := strconv.FormatInt(now.Unix(), 10)
		d.headers = map[string]string{
			"X-Webhook-Signature": opensslSign(t, secret, ts, d.body),
			"X-Webhook-Timestamp": ts,
			"X-Request-Id":        d.requestID,
		}
	}
	for i := range generic {
		d := &replicaDelivery{source: "edr", requestID: fmt.Sprintf("g-%d", i), to: srvA,
			body: fmt.Sprintf(`{"event_type":"alert","data":{"alert_id":"A-%d","severity":"high","title":"alert %d"}}`, i, i)}
		if i%2 == 1 {
			d.to = srvB
		}
		if i%dupEvery == 0 {
			d.also = srvB
			if d.to == srvB {
				d.also = srvA
			}
		}
		sign(d, "edr-secret")
		ds = append(ds, d)
	}
	// Updates of one TheHive case, arriving at both receivers: they must
	// all land on one incident.
	for i := range hiveUpdates {
		d := &replicaDelivery{source: "hive", requestID: fmt.Sprintf("h-%d", i), to: srvA,
			body: fmt.Sprintf(`{"operation":"Update","objectType":"case_task","objectId":"task-%d","rootId":"case-42","details":{"title":"step %d"}}`, i, i)}
		if i%2 == 1 {
			d.to = srvB
		}
		sign(d, "hive-secret")
		ds = append(ds, d)
	}

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	send := func(d *replicaDelivery, srv *server, reqID string) replicaOutcome {
		req, err := http.NewRequest(http.MethodPost, srv.url+"/api/webhooks/"+d.source, strings.NewReader(d.body))
		if err != nil {
			return replicaOutcome{d: d, err: err}
		}
		for k, v := range d.headers {
			req.Header.Set(k, v)
		}
		req.Header.Set("X-Request-Id", reqID)
		resp, err := client.Do(req)
		if err != nil {
			return replicaOutcome{d: d, srv: srv, err: err}
		}
		defer resp.Body.Close()
		var body struct {
			IncidentNumber string `json:"incident_number"`
			QueueID        string `json:"queue_id"`
			Error          struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		data, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(data, &body)
		return replicaOutcome{d: d, srv: srv, status: resp.StatusCode, code: body.Error.Code, incident: body.IncidentNumber, queueID: body.QueueID}
	}

	work := make(chan func() replicaOutcome)
	results := make(chan replicaOutcome, 2*len(ds))
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fn := range work {
				results <- fn()
			}
		}()
	}
	start := time.Now()
	for _, d := range ds {
		work <- func() replicaOutcome { return send(d, d.to, d.requestID) }
		if d.also != nil {
			work <- func() replicaOutcome { return send(d, d.also, d.requestID+"-dup") }
		}
	}
	close(work)
	wg.Wait()
	close(results)
	elapsed := time.Since(start)

	// What the senders saw.
	accepted := map[string]replicaOutcome{} // by request id
	byDelivery := map[*replicaDelivery][]replicaOutcome{}
	perServer := map[*server]int{}
	for r := range results {
		if r.err != nil {
			t.Fatalf("%s to %s: %v", r.d.requestID, r.srv.url, r.err)
		}
		byDelivery[r.d] = append(byDelivery[r.d], r)
		if r.status == http.StatusAccepted {
			perServer[r.srv]++
		}
	}
	for d, rs := range byDelivery {
		var ok []replicaOutcome
		for _, r := range rs {
			switch {
			case r.status == http.StatusAccepted:
				ok = append(ok, r)
			case r.status == http.StatusConflict && r.code == "replayed" && d.also != nil:
			default:
				t.Fatalf("%s: %d %s", d.requestID, r.status, r.code)
			}
		}
		if len(ok) != 1 {
			t.Fatalf("%s accepted %d times across the receivers, want once", d.requestID, len(ok))
		}
		reqID := d.requestID
		if ok[0].srv != d.to {
			reqID += "-dup"
		}
		accepted[reqID] = ok[0]
		if (d.source == "edr") != (ok[0].queueID != "") {
			t.Fatalf("%s answered %+v: auto-triage sources queue, others accept", reqID, ok[0])
		}
	}
	if len(accepted) != generic+hiveUpdates {
		t.Fatalf("%d deliveries accepted, want %d", len(accepted), generic+hiveUpdates)
	}
	if perServer[srvA] == 0 || perServer[srvB] == 0 {
		t.Fatalf("accepted per receiver: A %d, B %d", perServer[srvA], perServer[srvB])
	}
	t.Logf("%d deliveries (+%d duplicates) through two receivers in %v", len(ds), generic/dupEvery, elapsed)

	// What the database holds, read through the other machine's CLI.
	evs := decodeJSON[[]struct {
		RequestID   string `json:"request_id"`
		Source      string `json:"source"`
		IncidentNum string `json:"incident_number"`
	}](t, b.must("events", "list", "--limit", "10000", "-o", "json").stdout)
	seen := map[string]int{}
	for _, e := range evs {
		seen[e.RequestID]++
		if want, ok := accepted[e.RequestID]; !ok {
			t.Errorf("event with request id %q was never accepted", e.RequestID)
		} else if want.incident != "" && e.IncidentNum != want.incident {
			t.Errorf("event %s is on %s, the response said %s", e.RequestID, e.IncidentNum, want.incident)
		}
	}
	for id := range accepted {
		if seen[id] != 1 {
			t.Errorf("accepted delivery %s stored %d times, want exactly once", id, seen[id])
		}
	}
	if len(evs) != len(accepted) {
		t.Fatalf("%d events stored for %d accepted deliveries", len(evs), len(accepted))
	}

	incs := decodeJSON[[]struct {
		Number     string `json:"number"`
		Source     string `json:"source"`
		EventCount int    `json:"event_count"`
	}](t, a.must("incidents", "list", "--limit", "10000", "-o", "json").stdout)
	numbers := map[string]bool{}
	hive := 0
	for _, inc := range incs {
		if numbers[inc.Number] {
			t.Fatalf("incident number %s given twice", inc.Number)
		}
		numbers[inc.Number] = true
		if !strings.HasPrefix(inc.Number, fmt.Sprintf("INC-%d-", now.UTC().Year())) {
			t.Fatalf("incident number %s", inc.Number)
		}
		if inc.Source == "hive" {
			hive++
			if inc.EventCount != hiveUpdates {
				t.Fatalf("the case's incident has %d events, want %d", inc.EventCount, hiveUpdates)
			}
		}
	}
	if len(incs) != generic+1 || hive != 1 {
		t.Fatalf("%d incidents (%d for the case), want %d (1)", len(incs), hive, generic+1)
	}

	// Metrics are per replica: together they count every acceptance.
	total := 0
	for _, srv := range []*server{srvA, srvB} {
		n := receivedTotal(t, srv)
		if n != perServer[srv] {
			t.Errorf("%s counts %d received, its senders saw %d accepted", srv.url, n, perServer[srv])
		}
		total += n
	}
	if total != len(accepted) {
		t.Fatalf("receivers count %d received in all, want %d", total, len(accepted))
	}

	// Each queued triage ran once, on one replica or the other: its job
	// is done on the first attempt, and its playbook started and finished
	// once, each step once. Read from the database itself.
	ctx := context.Background()
	conn, err := connectOne(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	eventually(t, 60*time.Second, "every triage job to finish", func() bool {
		var pending int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM triage_jobs WHERE status NOT IN ('done', 'failed')`).Scan(&pending)
		return err == nil && pending == 0
	})
	rows, err := conn.Query(ctx, `SELECT j.id, j.status, j.attempts, e.request_id,
			(SELECT count(*) FROM incident_timeline tl WHERE tl.job_id = j.id AND tl.kind = 'playbook' AND tl.outcome = 'started'),
			(SELECT count(*) FROM incident_timeline tl WHERE tl.job_id = j.id AND tl.kind = 'playbook' AND tl.outcome = 'done'),
			(SELECT count(*) - count(DISTINCT tl.step) FROM incident_timeline tl WHERE tl.job_id = j.id AND tl.kind = 'step')
		FROM triage_jobs j JOIN events e ON e.id = j.event_id`)
	if err != nil {
		t.Fatal(err)
	}
	jobs := 0
	for rows.Next() {
		var id, status, reqID string
		var attempts, started, finished, repeatedSteps int
		if err := rows.Scan(&id, &status, &attempts, &reqID, &started, &finished, &repeatedSteps); err != nil {
			t.Fatal(err)
		}
		jobs++
		if want := accepted[reqID]; want.queueID != id {
			t.Errorf("job %s is for %s, whose response named %q", id, reqID, want.queueID)
		}
		if status != "done" || attempts != 1 || started != 1 || finished != 1 || repeatedSteps != 0 {
			t.Errorf("job %s: %s after %d attempts, started %d, finished %d, %d steps repeated; want done once", id, status, attempts, started, finished, repeatedSteps)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if jobs != generic {
		t.Fatalf("%d triage jobs for %d queued deliveries", jobs, generic)
	}
}

// receivedTotal sums webhook_received_total over sources on one receiver.
func receivedTotal(t *testing.T, s *server) int {
	t.Helper()
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	total := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "webhook_received_total{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("metrics line %q", line)
		}
		total += int(v)
	}
	return total
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
