// Package notify delivers incidents to outbound destinations the way
// Canary and TheHive do: Slack and Microsoft Teams incoming webhooks, a
// generic JSON POST signed with tw-cli's own scheme (so another tw-cli can
// receive it), and Splunk's HTTP Event Collector. Failed deliveries are
// retried with backoff, then kept on a dead-letter list.
package notify

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
)

// Destination kinds.
const (
	KindSlack     = "slack"
	KindTeams     = "ms-teams"
	KindGeneric   = "generic"
	KindSplunkHEC = "splunk-hec"
)

// Kinds lists the destination kinds, for help and completion.
var Kinds = []string{KindSlack, KindTeams, KindGeneric, KindSplunkHEC}

// DefaultSourcetype is the HEC sourcetype when a destination names none.
const DefaultSourcetype = "tw-cli:incident"

// Source is what generic and HEC notification bodies name as their
// source: a receiving tw-cli tells them by it (and GenericEventType).
const Source = "tw-cli"

// GenericEventType is the event_type of a generic notification; a test
// message uses "test", which a receiving tw-cli files as informational.
const GenericEventType = "incident.triaged"

// Message is what a notification says about an incident.
type Message struct {
	IncidentID string
	Number     string
	Title      string
	Severity   string
	Status     string
	Source     string
	Category   string
	Owner      string
	Tags       []string
	Indicators store.Indicators
	EventCount int
	CreatedAt  time.Time
	// Playbook names the playbook whose notify step sent this.
	Playbook string
	// Test marks `destination test` messages.
	Test bool
}

// TestMessage is what `destination test` sends.
func TestMessage(now time.Time) Message {
	return Message{
		Number: "INC-TEST", Title: "tw-cli test notification", Severity: "info", Status: "open",
		Source: "tw-cli", CreatedAt: now, Test: true,
	}
}

// ValidName reports whether name can name a destination: 1-63 letters,
// digits, '.', '_' or '-', starting with a letter or digit.
func ValidName(name string) bool { return sources.IsToken(name, "._-") }

// Validate checks a destination before it is stored.
func Validate(d *store.Destination) error {
	if !ValidName(d.Name) {
		return fmt.Errorf("invalid destination name %q: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit", d.Name)
	}
	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("invalid --url: want an absolute http(s) URL")
	}
	switch d.Kind {
	case KindSlack, KindTeams:
		if d.Token != "" || d.Secret != "" {
			return fmt.Errorf("%s destinations carry their credential in the webhook URL: drop --token-env and --secret-env", d.Kind)
		}
	case KindGeneric:
		if d.Secret == "" {
			return fmt.Errorf("generic destinations are signed (X-Webhook-Signature): pass --secret-env VAR")
		}
		if d.Token != "" {
			return fmt.Errorf("--token-env applies to splunk-hec only")
		}
	case KindSplunkHEC:
		if d.Token == "" {
			return fmt.Errorf("splunk-hec destinations need the HEC token: pass --token-env VAR")
		}
		if d.Secret != "" {
			return fmt.Errorf("--secret-env applies to generic destinations only")
		}
	default:
		return fmt.Errorf("unknown destination kind %q: use one of %s", d.Kind, strings.Join(Kinds, ", "))
	}
	if d.Sourcetype != "" && d.Kind != KindSplunkHEC {
		return fmt.Errorf("--sourcetype applies to splunk-hec only")
	}
	return nil
}

// Render returns the request body for d's kind.
func Render(d *store.Destination, m Message, now time.Time) ([]byte, error) {
	switch d.Kind {
	case KindSlack:
		return json.Marshal(slackMessage(m))
	case KindTeams:
		return json.Marshal(teamsMessage(m))
	case KindGeneric:
		et := GenericEventType
		if m.Test {
			et = "test"
		}
		return json.Marshal(map[string]any{
			"event_type": et,
			"timestamp":  now.UTC().Format(time.RFC3339),
			"source":     Source,
			// Makes each notification's body, and so its X-Webhook-Id
			// (see deliveryID), its own: two alike in the same second
			// are two notifications.
			"notification_id": rand.Text(),
			"data":            incidentData(m),
		})
	case KindSplunkHEC:
		st := d.Sourcetype
		if st == "" {
			st = DefaultSourcetype
		}
		return json.Marshal(map[string]any{
			"time":       float64(now.UnixMilli()) / 1000,
			"source":     Source,
			"sourcetype": st,
			"event":      incidentData(m),
		})
	}
	return nil, fmt.Errorf("unknown destination kind %q", d.Kind)
}

// incidentData is the incident as generic and HEC deliveries carry it. Its
// keys follow seed 003's generic format (alert_id, severity, title), so a
// receiving tw-cli parses it without configuration.
func incidentData(m Message) map[string]any {
	d := map[string]any{
		"alert_id":    m.Number,
		"title":       m.Title,
		"severity":    m.Severity,
		"status":      m.Status,
		"source":      m.Source,
		"event_count": m.EventCount,
	}
	set := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	set("incident_id", m.IncidentID)
	set("category", m.Category)
	set("owner", m.Owner)
	set("playbook", m.Playbook)
	if len(m.Tags) > 0 {
		d["tags"] = m.Tags
	}
	if !m.Indicators.Empty() {
		d["indicators"] = m.Indicators
	}
	if !m.CreatedAt.IsZero() {
		d["created_at"] = m.CreatedAt.UTC().Format(time.RFC3339)
	}
	return d
}

func headline(m Message) string {
	return m.Number + ": " + m.Title
}

// summary is the one-line text that chat clients show in notifications.
func summary(m Message) string {
	return fmt.Sprintf("[%s] %s (%s)", strings.ToUpper(m.Severity), headline(m), m.Source)
}

func facts(m Message) [][2]string {
	f := [][2]string{{"Severity", m.Severity}, {"Status", m.Status}, {"Source", m.Source}}
	if m.Owner != "" {
		f = append(f, [2]string{"Owner", m.Owner})
	}
	if m.Category != "" {
		f = append(f, [2]string{"Category", m.Category})
	}
	if m.EventCount > 0 {
		f = append(f, [2]string{"Events", fmt.Sprint(m.EventCount)})
	}
	if len(m.Tags) > 0 {
		f = append(f, [2]string{"Tags", strings.Join(m.Tags, ", ")})
	}
	return f
}

// indicatorLines lists indicators for a chat message, at most limit,
// saying how many were left out. URLs, domains and addresses are defanged
// (hxxps://evil[.]example): Slack and Teams make bare ones clickable, and
// these are the attacker's, one click from an analyst.
func indicatorLines(in store.Indicators, limit int) []string {
	var lines []string
	add := func(kind string, vs []string, defang func(string) string) {
		for _, v := range vs {
			lines = append(lines, kind+": "+defang(v))
		}
	}
	add("URL", in.URLs, defangURL)
	add("Domain", in.Domains, defangDots)
	add("IP", in.IPs, defangDots)
	add("Hash", in.Hashes, func(v string) string { return v })
	if len(lines) > limit {
		lines = append(lines[:limit], fmt.Sprintf("… and %d more", len(lines)-limit))
	}
	return lines
}

// defangDots writes a domain's or an IPv4 address's dots as [.].
func defangDots(v string) string { return strings.ReplaceAll(v, ".", "[.]") }

// defangURL writes http(s) as hxxp(s) and the host's dots as [.], keeping
// the path readable.
func defangURL(v string) string {
	scheme, rest, ok := strings.Cut(v, "://")
	if !ok {
		return defangDots(v)
	}
	if strings.HasPrefix(strings.ToLower(scheme), "http") {
		scheme = "hxxp" + scheme[4:]
	}
	host, path, _ := strings.Cut(rest, "/")
	out := scheme + "://" + defangDots(host)
	if path != "" || strings.HasSuffix(rest, "/") {
		out += "/" + path
	}
	return out
}

// teamsEscape backslash-escapes what an Adaptive Card's Markdown would
// act on. Titles and indicators come from the sender (an email's subject):
// unescaped, "[Reset your password](https://evil.example)" became a
// clickable link in the SOC's channel.
var teamsEscape = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "(", `\(`, ")", `\)`,
	"`", "\\`", "~", `\~`, "<", `\<`, ">", `\>`,
).Replace

// slackEscape escapes what Slack's mrkdwn treats as control characters.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// slackMessage is an incoming-webhook message: text is the fallback for
// notifications, blocks the rich layout (header text is capped at 150).
func slackMessage(m Message) map[string]any {
	var fields []map[string]any
	for _, f := range facts(m) {
		fields = append(fields, map[string]any{"type": "mrkdwn", "text": "*" + f[0] + "*\n" + slackEscape(f[1])})
	}
	blocks := []map[string]any{
		{"type": "header", "text": map[string]any{"type": "plain_text", "text": clip(headline(m), 150)}},
		{"type": "section", "fields": fields},
	}
	if lines := indicatorLines(m.Indicators, 20); len(lines) > 0 {
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{
			"type": "mrkdwn", "text": clip("*Indicators*\n"+slackEscape(strings.Join(lines, "\n")), 3000),
		}})
	}
	ctx := "tw-cli"
	if m.Playbook != "" {
		ctx += " · playbook " + m.Playbook
	}
	blocks = append(blocks, map[string]any{"type": "context", "elements": []map[string]any{{"type": "mrkdwn", "text": slackEscape(ctx)}}})
	return map[string]any{"text": slackEscape(summary(m)), "blocks": blocks}
}

// teamsMessage is an Adaptive Card in the message envelope that Teams
// incoming webhooks and Workflows accept.
func teamsMessage(m Message) map[string]any {
	var fs []map[string]any
	for _, f := range facts(m) {
		fs = append(fs, map[string]any{"title": f[0], "value": teamsEscape(f[1])})
	}
	body := []map[string]any{
		{"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": true, "text": teamsEscape(headline(m))},
		{"type": "FactSet", "facts": fs},
	}
	if lines := indicatorLines(m.Indicators, 20); len(lines) > 0 {
		for i, l := range lines {
			lines[i] = teamsEscape(l)
		}
		body = append(body, map[string]any{"type": "TextBlock", "wrap": true, "text": "Indicators:\n\n- " + strings.Join(lines, "\n- ")})
	}
	return map[string]any{
		"type":    "message",
		"summary": summary(m),
		"attachments": []map[string]any{{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content": map[string]any{
				"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
				"type":    "AdaptiveCard",
				"version": "1.4",
				"body":    body,
			},
		}},
	}
}
