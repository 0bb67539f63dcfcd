#!/usr/bin/env bash
# Regenerates vectors.json with openssl, independently of tw-cli's code.
# Each vector: secret, timestamp, body, and the lowercase hex HMAC-SHA256 of
# "<timestamp>.<body>" exactly as seed 003's recipe computes it.
set -euo pipefail
cd "$(dirname "$0")"
emit() { # secret timestamp body
  local mac
  mac=$(printf '%s' "$2.$3" | openssl dgst -sha256 -hmac "$1" | sed 's/^.*= //')
  python3 -c 'import json,sys; print(json.dumps({"secret":sys.argv[1],"timestamp":sys.argv[2],"body":sys.argv[3],"hex":sys.argv[4]}))' "$1" "$2" "$3" "$mac"
}
{
  echo '['
  emit "your-secret" 1705320000 '{"event_type":"test","data":{}}'; echo ','
  emit "your-secret-key" 1705320000 '{"event_type":"security_alert","timestamp":"2024-01-15T10:00:00Z","source":"email-gateway","data":{"alert_id":"alert-123","severity":"high","details":{}}}'; echo ','
  emit "s3cr3t with spaces & ünïcode" 1700000000 '{"a":"b"}'; echo ','
  emit "x" 0 ''; echo
  echo ']'
} > vectors.json
