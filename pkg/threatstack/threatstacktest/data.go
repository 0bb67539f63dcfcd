package threatstacktest

import (
	"fmt"
	"time"
)

// Object is one JSON object of the fake's data, shaped like the API's.
type Object = map[string]any

// Data is everything the fake API serves. Tests may edit it before use
// (through Server.Update) to shape a scenario.
type Data struct {
	Agents   []Object
	Alerts   []Object
	Events   map[string][]Object // by alert id
	Contexts map[string]Object   // by alert id
	Rulesets []Object
	Rules    map[string][]Object // by ruleset id
	// Vulnerabilities are served under "cves"; each has an "agents" list
	// of {agentId, hostname} that the per-agent and per-CVE endpoints use.
	Vulnerabilities []Object
}

// Sizes says how much data GenerateData makes.
type Sizes struct {
	Agents          int
	Alerts          int
	EventsPerAlert  int
	Rulesets        int
	RulesPerRuleset int
	Vulnerabilities int
}

// Epoch is the fixed instant generated data is dated from, so golden
// files do not change from one run to the next.
var Epoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// AgentID, AlertID, RulesetID and RuleID return the id GenerateData gives
// the i-th object (from 0), for tests that fetch one.
func AgentID(i int) string   { return fmt.Sprintf("a%07d-5c3e-4d1f-9b2a-0242ac120002", i) }
func AlertID(i int) string   { return fmt.Sprintf("6%023x", i) }
func RulesetID(i int) string { return fmt.Sprintf("r%07d-1111-4222-8333-444455556666", i) }
func RuleID(rs, i int) string {
	return fmt.Sprintf("u%03d%04d-aaaa-4bbb-8ccc-dddd00000000", rs, i)
}

// CVE returns the CVE number of the i-th generated vulnerability.
func CVE(i int) string { return fmt.Sprintf("CVE-2024-%05d", 1000+i) }

// AgentHostname is the hostname of the i-th generated agent.
func AgentHostname(i int) string { return fmt.Sprintf("ip-10-0-%d-%d.ec2.internal", i/250, i%250+1) }

func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// GenerateData makes deterministic, research-shaped data: agents with the
// fields of GET /v2/agents, alerts of the three severities, rulesets with
// rules, vulnerabilities with their affected agents.
func GenerateData(n Sizes) Data {
	d := Data{
		Events:   map[string][]Object{},
		Contexts: map[string]Object{},
		Rules:    map[string][]Object{},
	}
	for i := range n.Agents {
		status := "online"
		if i%5 == 4 {
			status = "offline"
		}
		d.Agents = append(d.Agents, Object{
			"id":             AgentID(i),
			"instanceId":     fmt.Sprintf("i-%017x", 0xabc000+i),
			"status":         status,
			"createdAt":      iso(Epoch.Add(-time.Duration(30*24+i) * time.Hour)),
			"lastReportedAt": iso(Epoch.Add(-time.Duration(i%90) * time.Minute)),
			"version":        fmt.Sprintf("3.%d.%d", 2+i%2, i%7),
			"name":           fmt.Sprintf("web-%03d", i),
			"description":    "",
			"hostname":       AgentHostname(i),
			"ipAddresses": Object{
				"private":    []any{fmt.Sprintf("10.0.%d.%d/24", i/250, i%250+1)},
				"public":     []any{fmt.Sprintf("54.12.%d.%d/32", i/250, i%250+1)},
				"link_local": []any{"fe80::8ff:fe12:3456/64"},
			},
			"tags": []any{
				Object{"source": "ec2", "key": "Name", "value": fmt.Sprintf("web-%03d", i)},
				Object{"source": "ec2", "key": "env", "value": "production"},
			},
			"agentType": "investigate",
			"osVersion": "ubuntu 22.04",
			"kernel":    "5.15.0-1051-aws",
			"agentModuleHealth": Object{
				"isHealthy": i%7 != 6,
				"modules":   []any{Object{"name": "tsauditd", "isHealthy": i%7 != 6}},
			},
		})
	}
	for r := range n.Rulesets {
		rsID := RulesetID(r)
		var ruleIDs []any
		for i := range n.RulesPerRuleset {
			id := RuleID(r, i)
			ruleIDs = append(ruleIDs, id)
			d.Rules[rsID] = append(d.Rules[rsID], Object{
				"id":               id,
				"rulesetId":        rsID,
				"name":             fmt.Sprintf("Rule %d.%d", r, i),
				"type":             "Host",
				"title":            fmt.Sprintf("Suspicious activity %d.%d: {{user}} ran {{exe}}", r, i),
				"severityOfAlerts": 1 + i%3,
				"alertDescription": "Raised when a monitored command runs.",
				"aggregateFields":  []any{"user", "exe"},
				"filter":           fmt.Sprintf("event_type = \"audit\" and exe = \"/usr/bin/tool%d\"", i),
				"window":           3600,
				"threshold":        1,
				"suppressions":     []any{},
				"enabled":          i%4 != 3,
				"createdAt":        iso(Epoch.Add(-time.Duration(400+i) * time.Hour)),
				"updatedAt":        iso(Epoch.Add(-time.Duration(40+i) * time.Hour)),
			})
		}
		d.Rulesets = append(d.Rulesets, Object{
			"id":          rsID,
			"name":        fmt.Sprintf("Base Rule Set %d", r),
			"description": fmt.Sprintf("Rules for fleet %d", r),
			"createdAt":   iso(Epoch.Add(-time.Duration(500+r) * time.Hour)),
			"updatedAt":   iso(Epoch.Add(-time.Duration(50+r) * time.Hour)),
			"ruleIds":     ruleIDs,
		})
	}
	for i := range n.Alerts {
		id := AlertID(i)
		agent := ""
		host := ""
		if n.Agents > 0 {
			agent = AgentID(i % n.Agents)
			host = AgentHostname(i % n.Agents)
		}
		rs, rule := "", ""
		if n.Rulesets > 0 && n.RulesPerRuleset > 0 {
			rs = RulesetID(i % n.Rulesets)
			rule = RuleID(i%n.Rulesets, i%n.RulesPerRuleset)
		}
		created := Epoch.Add(-time.Duration(i) * 37 * time.Minute)
		a := Object{
			"id":          id,
			"title":       fmt.Sprintf("User root ran netcat on %s", host),
			"dataSource":  "host",
			"createdAt":   iso(created),
			"isDismissed": i%6 == 5,
			"severity":    1 + i%3,
			"agentId":     agent,
			"rulesetId":   rs,
			"ruleId":      rule,
		}
		if i%6 == 5 {
			a["dismissedAt"] = iso(created.Add(time.Hour))
			a["dismissReason"] = "MAINTENANCE"
			a["dismissReasonText"] = "patch window"
			a["dismissedBy"] = "analyst@example.com"
		}
		d.Alerts = append(d.Alerts, a)
		for e := range n.EventsPerAlert {
			d.Events[id] = append(d.Events[id], Object{
				"id":        fmt.Sprintf("%s-e%d", id, e),
				"timestamp": created.Add(-time.Duration(e) * time.Second).UnixMilli(),
				"eventType": "audit",
				"agentId":   agent,
				"hostname":  host,
				"user":      "root",
				"command":   "nc -lvp 4444",
				"syscall":   "execve",
			})
		}
		d.Contexts[id] = Object{"alertId": id, "agentId": agent, "hostname": host, "ruleId": rule}
	}
	sevs := []string{"critical", "high", "medium", "low"}
	for i := range n.Vulnerabilities {
		var agents []any
		for k := 0; n.Agents > 0 && k < 1+i%3; k++ {
			j := (i + k) % n.Agents
			agents = append(agents, Object{"agentId": AgentID(j), "hostname": AgentHostname(j)})
		}
		pkg := fmt.Sprintf("openssl-%d", i%4)
		d.Vulnerabilities = append(d.Vulnerabilities, Object{
			"cveNumber":       CVE(i),
			"reportedPackage": pkg,
			"systemPackage":   pkg + "-3.0.2-0ubuntu1.10",
			"vectorType":      "network",
			"severity":        sevs[i%len(sevs)],
			"isSuppressed":    i%9 == 8,
			"agents":          agents,
		})
	}
	return d
}
