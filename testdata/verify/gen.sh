#!/bin/sh
# gen.sh writes vectors.json: deliveries that internal/verify must accept,
# each signed by openssl rather than by tw-cli's own code, so the Go tests
# check the verifiers against an independent implementation instead of
# against themselves. Bodies, timestamps and secrets are fixed, so the
# output is stable and committed; rerun it after changing this script:
#
#	sh testdata/verify/gen.sh > testdata/verify/vectors.json
#
# Needs openssl (HMAC, base64), od (key bytes to hex) and jq (JSON quoting).
set -eu

# hex_hmac KEY MESSAGE prints the lowercase hex HMAC-SHA256 of MESSAGE.
# The sed keeps only the digest of "SHA2-256(stdin)= <hex>" (openssl 3)
# or "(stdin)= <hex>" (openssl 1.1).
hex_hmac() {
	printf '%s' "$2" | openssl dgst -sha256 -hmac "$1" | sed 's/^.*= //'
}

# b64_hmac_b64key B64KEY MESSAGE prints the base64 HMAC-SHA256 of MESSAGE
# under the key whose base64 text is B64KEY. The key bytes may contain
# anything, so they go to openssl as hex rather than as an argument string.
b64_hmac_b64key() {
	hexkey=$(printf '%s' "$1" | openssl base64 -d -A | od -An -v -tx1 | tr -d ' \n')
	printf '%s' "$2" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | openssl base64 -A
}

# must_equal NAME GOT WANT stops the script when a vendor's published
# example does not come out of the recipe above: then the recipe, not the
# Go code, would be wrong.
must_equal() {
	if [ "$2" != "$3" ]; then
		echo "gen.sh: $1: got $2, want $3" >&2
		exit 1
	fi
}

# vector NAME MODE SECRETS OPTIONS HEADERS QUERY BODY NOW DELIVERY_ID TIMESTAMP
# prints one vector as a JSON object. SECRETS, OPTIONS, HEADERS and QUERY
# are JSON; TIMESTAMP is the unix seconds Result.Timestamp must hold, 0
# for none.
vector() {
	jq -cn --arg name "$1" --arg mode "$2" --argjson secrets "$3" \
		--argjson options "$4" --argjson headers "$5" --argjson query "$6" \
		--arg body "$7" --argjson now "$8" --arg delivery_id "$9" --argjson timestamp "${10}" \
		'{name: $name, mode: $mode, secrets: $secrets, options: $options,
		  headers: $headers, query: $query, body: $body, now: $now,
		  delivery_id: $delivery_id, timestamp: $timestamp}'
}

# headers NAME VALUE [NAME VALUE]... prints a JSON object of header (or
# query parameter) values.
headers() {
	out='{}'
	while [ $# -ge 2 ]; do
		out=$(jq -cn --argjson o "$out" --arg k "$1" --arg v "$2" '$o + {($k): $v}')
		shift 2
	done
	printf '%s' "$out"
}

# Seed 003's send time and the receiver's clock a minute later.
TS=1705320000
NOW=1705320060

# Bodies from seed 003, as compact JSON the way senders post them.
GENERIC='{"event_type":"test","data":{}}'
DEFENDER='{"eventType":"PhishingEmail","id":"AAMkAGI2...","creationTime":"2024-01-15T10:00:00Z","severity":"high","category":"Phish","entityType":"Email","data":{"sender":"phisher@malicious.com","subject":"Urgent Action Required","recipients":["user@company.com"]}}'
FALCON='{"metadata":{"eventType":"DetectionSummaryEvent","eventCreationTime":1705320000000},"event":{"DetectId":"ldt:abc123","Severity":4,"HostnameField":"WORKSTATION-01","DetectName":"Malicious File Detected"}}'
SPLUNK='{"result":{"host":"server-01","source":"WinEventLog:Security","sourcetype":"WinEventLog","_raw":"...","EventCode":"4625"},"search_name":"Failed Login Alert","trigger_time":1705320000}'
# Pretty-printed, non-ASCII and ending in a newline: the MAC covers the raw
# bytes, so none of that may be normalized away. The X keeps the shell
# from stripping the trailing newline.
PRETTY=$(printf '{\n  "event_type": "security_alert",\n  "data": {"subject": "Überweisung – dringend"}\n}\nX')
PRETTY=${PRETTY%X}

# Standard Webhooks secrets are base64 of random bytes; these are fixed.
SW_SECRET="whsec_$(printf '%s' 'tw-cli standard-webhooks key #1!' | openssl base64 -A)"
SW_PREVIOUS="whsec_$(printf '%s' 'tw-cli standard-webhooks key #0!' | openssl base64 -A)"
# An ed25519 entry from the spec's header example; tw-cli skips v1a.
SW_V1A='v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=='

GITHUB_SECRET='github-webhook-secret'
GITHUB_PREVIOUS='github-webhook-secret-2023'
SLACK_SECRET='slack-signing-secret-0123456789ab'
SLACK_PREVIOUS='slack-signing-secret-previous-00'
# An Events API callback, shaped like Slack's documented example.
SLACK_EVENT='{"token":"XXYYZZ","team_id":"T123ABC456","api_app_id":"A123ABC456","event":{"type":"app_mention","user":"U123ABC456","text":"<@U0LAN0Z89> is it everything a river should be?","ts":"1515449522.000016","channel":"C123ABC456"},"type":"event_callback","event_id":"Ev123ABC456","event_time":1705320000}'

# A Thinkst Canary incident as its generic webhook posts it
# (../shared/research/canary.md).
CANARY='{"AlertType":"CanaryIncident","Description":"SSH Login Attempt","Intro":"SSH Login Attempt has been detected against one of your Canaries (ssh-bait) at 10.0.0.5.","IncidentHash":"367cb7a0b3b4b5ed2f1aef2a62b4c8c4","CanaryName":"ssh-bait","CanaryID":"0000000000231c23","CanaryIP":"10.0.0.5","CanaryPort":22,"SourceIP":"10.0.0.99","Timestamp":"2024-01-15 10:00:00 (UTC)","AdditionalDetails":[["Username","root"]]}'
BEARER_TOKEN='tw_hook_6f1c0a9e3b5d47f2a8c1e0d9b7f6a5c4'
BEARER_PREVIOUS='tw_hook_0d9b7f6a5c46f1c0a9e3b5d47f2a8c1e'
# A password with a colon: only the first colon separates the user.
BASIC_SECRET='splunk-alerts:c0rrect:horse battery'
BASIC_PREVIOUS='splunk-alerts:previous-password'
URL_TOKEN='3q2-7wQh0rV_kZ8xN4mB9sLc1YdT6uFe'

HMAC_SECRET='your-secret-key'
HMAC_PREVIOUS='your-previous-secret-key'

{
	# --- hmac: seed 003's openssl recipe, "<timestamp>.<body>" ---
	sig=$(hex_hmac "$HMAC_SECRET" "$TS.$GENERIC")
	vector "hmac/seed-recipe" hmac "[\"$HMAC_SECRET\"]" '{}' \
		"$(headers X-Webhook-Signature "sha256=$sig" X-Webhook-Timestamp "$TS")" \
		'{}' "$GENERIC" $NOW "" $TS

	sig=$(hex_hmac "$HMAC_SECRET" "$TS.$DEFENDER")
	vector "hmac/delivery-id" hmac "[\"$HMAC_SECRET\"]" '{}' \
		"$(headers X-Webhook-Signature "sha256=$sig" X-Webhook-Timestamp "$TS" X-Webhook-Id dlv-0001)" \
		'{}' "$DEFENDER" $NOW dlv-0001 $TS

	sig=$(hex_hmac "$HMAC_SECRET" "$TS.$PRETTY")
	vector "hmac/raw-bytes" hmac "[\"$HMAC_SECRET\"]" '{}' \
		"$(headers X-Webhook-Signature "sha256=$sig" X-Webhook-Timestamp "$TS")" \
		'{}' "$PRETTY" $NOW "" $TS

	# A sender still on the previous secret, during the grace period.
	sig=$(hex_hmac "$HMAC_PREVIOUS" "$TS.$FALCON")
	vector "hmac/previous-secret" hmac "[\"$HMAC_SECRET\",\"$HMAC_PREVIOUS\"]" '{}' \
		"$(headers X-Webhook-Signature "sha256=$sig" X-Webhook-Timestamp "$TS")" \
		'{}' "$FALCON" $NOW "" $TS

	# A rotating sender signs with both secrets; the receiver knows only the new.
	old=$(hex_hmac "$HMAC_PREVIOUS" "$TS.$FALCON")
	new=$(hex_hmac "$HMAC_SECRET" "$TS.$FALCON")
	vector "hmac/two-signatures" hmac "[\"$HMAC_SECRET\"]" '{}' \
		"$(headers X-Webhook-Signature "sha256=$old, sha256=$new" X-Webhook-Timestamp "$TS")" \
		'{}' "$FALCON" $NOW "" $TS

	# --- standard-webhooks: v1,<base64> over "<id>.<timestamp>.<body>" ---
	# The reference vector of the spec's libraries (libraries/go
	# webhook_test.go TestWebhookSign in standard-webhooks/standard-webhooks).
	sw_id=msg_p5jXN8AQM9LWM0D4loKWxJek
	sw_ts=1614265330
	sw_body='{"test": 2432232314}'
	sw_secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
	sig=$(b64_hmac_b64key "${sw_secret#whsec_}" "$sw_id.$sw_ts.$sw_body")
	must_equal "standard webhooks reference vector" "v1,$sig" "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	vector "standard-webhooks/spec-example" standard-webhooks "[\"$sw_secret\"]" '{}' \
		"$(headers webhook-id $sw_id webhook-timestamp $sw_ts webhook-signature "v1,$sig")" \
		'{}' "$sw_body" $sw_ts $sw_id $sw_ts

	# The same key stored without its whsec_ prefix, as the reference
	# libraries also accept.
	vector "standard-webhooks/unprefixed-secret" standard-webhooks "[\"${sw_secret#whsec_}\"]" '{}' \
		"$(headers webhook-id $sw_id webhook-timestamp $sw_ts webhook-signature "v1,$sig")" \
		'{}' "$sw_body" $sw_ts $sw_id $sw_ts

	# An asymmetric entry first, which the receiver cannot check and skips.
	id=msg_2KWPBgLlAfxdpx2AI54pPJ85f4W
	sig=$(b64_hmac_b64key "${SW_SECRET#whsec_}" "$id.$TS.$FALCON")
	vector "standard-webhooks/falcon" standard-webhooks "[\"$SW_SECRET\"]" '{}' \
		"$(headers webhook-id $id webhook-timestamp $TS webhook-signature "$SW_V1A v1,$sig")" \
		'{}' "$FALCON" $NOW $id $TS

	sig=$(b64_hmac_b64key "${SW_SECRET#whsec_}" "$id.$TS.$PRETTY")
	vector "standard-webhooks/raw-bytes" standard-webhooks "[\"$SW_SECRET\"]" '{}' \
		"$(headers webhook-id $id webhook-timestamp $TS webhook-signature "v1,$sig")" \
		'{}' "$PRETTY" $NOW $id $TS

	# Rotation: the sender signs with both secrets, the receiver knows the
	# new one; then a sender still on the old one, during the grace period.
	id=msg_2KWPBgLlAfxdpx2AI54pPJ85f4X
	old=$(b64_hmac_b64key "${SW_PREVIOUS#whsec_}" "$id.$TS.$DEFENDER")
	new=$(b64_hmac_b64key "${SW_SECRET#whsec_}" "$id.$TS.$DEFENDER")
	vector "standard-webhooks/two-signatures" standard-webhooks "[\"$SW_SECRET\"]" '{}' \
		"$(headers webhook-id $id webhook-timestamp $TS webhook-signature "v1,$old v1,$new")" \
		'{}' "$DEFENDER" $NOW $id $TS
	vector "standard-webhooks/previous-secret" standard-webhooks "[\"$SW_SECRET\",\"$SW_PREVIOUS\"]" '{}' \
		"$(headers webhook-id $id webhook-timestamp $TS webhook-signature "v1,$old")" \
		'{}' "$DEFENDER" $NOW $id $TS

	# --- github: X-Hub-Signature-256 sha256=<hex> over the body alone ---
	# The test values of GitHub's "Validating webhook deliveries" page.
	sig=$(hex_hmac "It's a Secret to Everybody" 'Hello, World!')
	must_equal "GitHub's documented example" "$sig" 757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
	guid=72d3162e-cc78-11e3-81ab-4c9367dc0958
	vector "github/docs-example" github '["It'"'"'s a Secret to Everybody"]' '{}' \
		"$(headers X-Hub-Signature-256 "sha256=$sig" X-GitHub-Delivery $guid X-GitHub-Event ping)" \
		'{}' 'Hello, World!' $NOW $guid 0

	# GitHub also sends the legacy SHA-1 header, which tw-cli ignores.
	sig=$(hex_hmac "$GITHUB_SECRET" "$PRETTY")
	sha1=$(printf '%s' "$PRETTY" | openssl dgst -sha1 -hmac "$GITHUB_SECRET" | sed 's/^.*= //')
	guid=a3f0c2e4-b3c1-11ee-8c90-0242ac120002
	vector "github/raw-bytes" github "[\"$GITHUB_SECRET\"]" '{}' \
		"$(headers X-Hub-Signature-256 "sha256=$sig" X-Hub-Signature "sha1=$sha1" X-GitHub-Delivery $guid X-GitHub-Event code_scanning_alert)" \
		'{}' "$PRETTY" $NOW $guid 0

	sig=$(hex_hmac "$GITHUB_PREVIOUS" "$GENERIC")
	guid=b4e1d3f5-b3c1-11ee-8c90-0242ac120002
	vector "github/previous-secret" github "[\"$GITHUB_SECRET\",\"$GITHUB_PREVIOUS\"]" '{}' \
		"$(headers X-Hub-Signature-256 "sha256=$sig" X-GitHub-Delivery $guid)" \
		'{}' "$GENERIC" $NOW $guid 0

	# --- slack: v0=<hex> over "v0:<timestamp>:<body>" ---
	# The worked example of Slack's "Verifying requests from Slack" page,
	# a slash command posted as a form.
	slack_ts=1531420618
	slack_body='token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c'
	slack_secret=8f742231b10e8888abcd99yyyzzz85a5
	sig=$(hex_hmac "$slack_secret" "v0:$slack_ts:$slack_body")
	must_equal "Slack's documented example" "v0=$sig" v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503
	vector "slack/docs-example" slack "[\"$slack_secret\"]" '{}' \
		"$(headers X-Slack-Signature "v0=$sig" X-Slack-Request-Timestamp $slack_ts)" \
		'{}' "$slack_body" $((slack_ts + 30)) "" $slack_ts

	sig=$(hex_hmac "$SLACK_SECRET" "v0:$TS:$SLACK_EVENT")
	vector "slack/event-callback" slack "[\"$SLACK_SECRET\"]" '{}' \
		"$(headers X-Slack-Signature "v0=$sig" X-Slack-Request-Timestamp $TS)" \
		'{}' "$SLACK_EVENT" $NOW "" $TS

	sig=$(hex_hmac "$SLACK_PREVIOUS" "v0:$TS:$PRETTY")
	vector "slack/previous-secret" slack "[\"$SLACK_SECRET\",\"$SLACK_PREVIOUS\"]" '{}' \
		"$(headers X-Slack-Signature "v0=$sig" X-Slack-Request-Timestamp $TS)" \
		'{}' "$PRETTY" $NOW "" $TS

	# --- bearer: Authorization: Bearer, or a custom header for Canary ---
	vector "bearer/authorization" bearer "[\"$BEARER_TOKEN\"]" '{}' \
		"$(headers Authorization "Bearer $BEARER_TOKEN")" \
		'{}' "$GENERIC" $NOW "" 0
	# The scheme name is case-insensitive.
	vector "bearer/lowercase-scheme" bearer "[\"$BEARER_TOKEN\"]" '{}' \
		"$(headers Authorization "bearer $BEARER_TOKEN")" \
		'{}' "$GENERIC" $NOW "" 0
	vector "bearer/canary-custom-header" bearer "[\"$BEARER_TOKEN\"]" '{"token_header":"X-Auth-Token"}' \
		"$(headers X-Auth-Token "$BEARER_TOKEN")" \
		'{}' "$CANARY" $NOW "" 0
	vector "bearer/previous-secret" bearer "[\"$BEARER_TOKEN\",\"$BEARER_PREVIOUS\"]" '{}' \
		"$(headers Authorization "Bearer $BEARER_PREVIOUS")" \
		'{}' "$CANARY" $NOW "" 0

	# --- basic: Authorization: Basic base64(user:password) ---
	cred=$(printf '%s' "$BASIC_SECRET" | openssl base64 -A)
	vector "basic/authorization" basic "[\"$BASIC_SECRET\"]" '{}' \
		"$(headers Authorization "Basic $cred")" \
		'{}' "$SPLUNK" $NOW "" 0
	cred=$(printf '%s' "$BASIC_PREVIOUS" | openssl base64 -A)
	vector "basic/previous-secret" basic "[\"$BASIC_SECRET\",\"$BASIC_PREVIOUS\"]" '{}' \
		"$(headers Authorization "Basic $cred")" \
		'{}' "$SPLUNK" $NOW "" 0

	# --- url-token: Splunk's webhook alert action, ?token=<secret> ---
	vector "url-token/splunk" url-token "[\"$URL_TOKEN\"]" '{}' '{}' \
		"$(headers token "$URL_TOKEN")" "$SPLUNK" $NOW "" 0
	vector "url-token/custom-param" url-token "[\"$URL_TOKEN\"]" '{"token_param":"key"}' '{}' \
		"$(headers key "$URL_TOKEN")" "$SPLUNK" $NOW "" 0

	# --- none: no headers at all ---
	vector "none/anything" none '[]' '{}' '{}' '{}' "$SPLUNK" $NOW "" 0
} | jq -s '{
	comment: "Generated by testdata/verify/gen.sh with openssl; do not edit by hand.",
	vectors: .
}'
