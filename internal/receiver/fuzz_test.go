package receiver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
	"github.com/tw-cli/tw-cli/pkg/signature"
)

var incidentNumberRE = regexp.MustCompile(`^INC-\d{4}-\d{4,}$`)

// FuzzIngest sends arbitrary bodies and headers through the whole handler
// on a real store, correctly signed or not. Whatever arrives, the answer is
// a JSON body with a known status and code, never a 5xx or a panic, and a
// 2xx names a real incident.
func FuzzIngest(f *testing.F) {
	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	local := &sources.Local{Store: st, Origin: "cli"}
	if _, _, err := local.Add(context.Background(), sources.Spec{Source: "fz", Secret: "fuzz-secret"}); err != nil {
		f.Fatal(err)
	}
	r := New(Options{Store: st, MaxBodyBytes: 4096, Now: func() time.Time { return now }})

	f.Add([]byte(testBody), true, "", "", "")
	f.Add([]byte(`{"event_type":"security_alert","data":{"alert_id":"a-1","severity":"high"}}`), true, "", "", "evt-1")
	f.Add([]byte(`{"metadata":{"eventType":"DetectionSummaryEvent"},"event":{"DetectId":"ldt:1","Severity":4}}`), true, "", "", "")
	f.Add([]byte(strings.Repeat(`{"a":`, 70)+"1"+strings.Repeat("}", 70)), true, "", "", "")
	f.Add([]byte("{\"event_type\":\"\xff\"}"), true, "", "", `"quoted"`)
	f.Add([]byte(`[1,2,3]`), true, "", "", "")
	f.Add([]byte(testBody), false, "sha256="+strings.Repeat("0", 64), "1705320000", "")
	f.Add([]byte(testBody), false, "sha256=SHA2-256(stdin)= zz", "-1", "a b")
	f.Fuzz(func(t *testing.T, body []byte, signIt bool, sigHeader, tsHeader, idem string) {
		req := httptest.NewRequest(http.MethodPost, "/api/webhooks/fz", strings.NewReader(string(body)))
		if signIt {
			signature.SignRequest(req, []byte("fuzz-secret"), now, body)
		} else {
			req.Header.Set(signature.SignatureHeader, sigHeader)
			req.Header.Set(signature.TimestampHeader, tsHeader)
		}
		if idem != "" {
			req.Header.Set(WebhookIDHeader, idem)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)

		var resp struct {
			Status         string `json:"status"`
			IncidentNumber string `json:"incident_number"`
			Error          *struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatalf("%d answer is not JSON: %v\n%s", w.Code, err, w.Body)
		}
		if w.Header().Get("X-Request-Id") == "" {
			t.Fatal("no X-Request-Id on the answer")
		}
		switch w.Code {
		case http.StatusAccepted, http.StatusOK:
			if resp.Status != "accepted" || !incidentNumberRE.MatchString(resp.IncidentNumber) {
				t.Fatalf("%d with body %s", w.Code, w.Body)
			}
			if w.Code == http.StatusOK && idem == "" {
				t.Fatalf("200 (a repeat) without an idempotency key: %s", w.Body)
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			if resp.Error == nil || resp.Error.Message == "" {
				t.Fatalf("%d without an error body: %s", w.Code, w.Body)
			}
			switch resp.Error.Code {
			case CodeInvalidPayload, CodeInvalidSignature, CodeTimestampExpired, CodeReplayed, CodePayloadTooLarge, CodeInvalidRequest,
				CodeIdempotencyConflict:
			default:
				t.Fatalf("%d with unknown code %q", w.Code, resp.Error.Code)
			}
		default:
			t.Fatalf("unexpected status %d: %s", w.Code, w.Body)
		}
	})
}
