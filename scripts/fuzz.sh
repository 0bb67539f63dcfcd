#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (make fuzz), or
# those whose name matches the regular expression FUZZ.
#
# Go 1.26's fuzzing engine can fail a target at the very end of -fuzztime
# with a bare "context deadline exceeded": its coordinator's deadline
# races a worker's shutdown (go.dev/issue/75804, fixed in Go 1.27). A real
# finding always writes its input to testdata/fuzz/<target>/, so a failure
# that wrote nothing and says only that is run again, at most twice; any
# other failure stops the run at once.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
FUZZ=${FUZZ:-.}
retries=2

# A file per failing input; seed corpora committed alongside count too, so
# the check compares before and after.
corpus_count() {
  local dir=$1/testdata/fuzz/$2
  if [ -d "$dir" ]; then find "$dir" -type f | wc -l; else echo 0; fi
}

# "package target" per line; go test -list builds the packages in parallel.
targets=$("$GO" test -list '^Fuzz' ./... |
  awk -v want="$FUZZ" '/^Fuzz/ { if ($1 ~ want) names[n++] = $1; next }
    /^ok/ { for (i = 0; i < n; i++) print $2, names[i]; n = 0 }')
if [ -z "$targets" ]; then
  echo "no fuzz targets match '$FUZZ'" >&2
  exit 1
fi

while read -r pkg target; do
  echo "== $target ($pkg)"
  dir=$("$GO" list -f '{{.Dir}}' "$pkg" </dev/null)
  for attempt in $(seq 0 "$retries"); do
    before=$(corpus_count "$dir" "$target")
    log=$(mktemp)
    if "$GO" test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" "$pkg" </dev/null 2>&1 | tee "$log"; then
      rm -f "$log"
      break
    fi
    after=$(corpus_count "$dir" "$target")
    bare=false
    if [ "$after" -eq "$before" ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
      bare=true
    fi
    rm -f "$log"
    if ! $bare || [ "$attempt" -eq "$retries" ]; then
      exit 1
    fi
    echo "   $target stopped at the deadline with nothing found (go.dev/issue/75804): running it again"
  done
done <<<"$targets"
