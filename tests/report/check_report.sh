#!/usr/bin/env bash
# Opens the reports the built planner writes in headless Chromium: fails on any console error or
# script that did not run to its end, checks the rendered DOM (rows, bars and points match the
# plans in the JSON output), and saves screenshots in BUILD/report-screenshots/.
# Usage: check_report.sh PLANNER SOURCE_DIR BUILD_DIR
set -euo pipefail
planner=$1 source_dir=$2 build_dir=$3
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  if [ -n "${CI:-}" ]; then
    echo "FAIL: $chromium is missing; .ci/install-deps installs it" >&2
    exit 1
  fi
  echo "SKIP: $chromium is missing (apt-get install chromium); the reports are not checked in a browser"
  exit 77  # ctest's SKIP_RETURN_CODE
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
shots=$build_dir/report-screenshots
mkdir -p "$shots"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# Renders FILE: its DOM after scripts ran to $work/NAME.dom, console messages to $work/NAME.log,
# a screenshot to $shots/NAME.png. A private profile and no network: the page must need none.
render() {
  local file=$1 name=$2 height=${3:-2400}
  local flags=(--headless=new --no-sandbox --disable-gpu --no-first-run --no-default-browser-check
               --user-data-dir="$work/profile-$name" --enable-logging=stderr --v=0
               --proxy-server=127.0.0.1:9 --hide-scrollbars --window-size=1280,"$height")
  "$chromium" "${flags[@]}" --dump-dom "file://$file" >"$work/$name.dom" 2>"$work/$name.log" || true
  "$chromium" "${flags[@]}" --screenshot="$shots/$name.png" "file://$file" \
    >/dev/null 2>>"$work/$name.log" || true
  [ -s "$shots/$name.png" ] || fail "$name: no screenshot"
  # Chromium 156 logs every console message as "INFO:CONSOLE:line] text" without its level, and
  # so uncaught exceptions and refused fetches (CSP, no network). The pages log nothing, so any
  # console message fails.
  if grep -E ':CONSOLE|Refused to' "$work/$name.log" >/dev/null; then
    fail "$name: console messages:"
    grep -E ':CONSOLE|Refused to' "$work/$name.log" >&2
  fi
  grep -q 'data-scripted="yes"' "$work/$name.dom" || fail "$name: the page's script did not run"
}

count() { grep -o "$2" "$work/$1.dom" | wc -l | tr -d ' '; }

expect() {  # NAME WHAT EXPECTED PATTERN
  local got
  got=$(count "$1" "$4")
  [ "$got" -eq "$3" ] || fail "$1: $got $2, expected $3"
  echo "$1: $got $2 (expected $3)"
}

# Clicks a column's header twice in REPORT (in $work) and checks the rows' order each time.
sorts() {  # REPORT ROW_CLASS COLUMN
  local name=sort-${1%.html} url
  cp "$source_dir/tests/report/sort_check.html" "$work/"
  url="file://$work/sort_check.html?page=$1&row=$2&column=$(printf %s "$3" | sed 's/ /%20/g; s/%$/%25/')"
  # Same-origin file:// access lets the checking page reach into the report's frame.
  "$chromium" --headless=new --no-sandbox --disable-gpu --no-first-run --allow-file-access-from-files \
    --user-data-dir="$work/profile-$name" --dump-dom "$url" >"$work/$name.dom" 2>/dev/null || true
  if grep -q 'data-sort-check="ok"' "$work/$name.dom"; then
    echo "$1: sorting by '$3' orders the rows both ways"
  else
    fail "$1: sorting by '$3': $(grep -o 'data-sort-check="[^"]*"' "$work/$name.dom" || echo 'no result')"
  fi
}

# The check itself must see a console error: a page that logs one has to fail it.
printf '<!DOCTYPE html><body><script>console.error("deliberate");document.body.dataset.scripted="yes"</script>' \
  >"$work/bad.html"
before=$failures
render "$work/bad.html" self-check 200 2>/dev/null
[ "$failures" -gt "$before" ] || { echo "FAIL: a console error went unnoticed" >&2; exit 1; }
failures=$before
rm -f "$shots/self-check.png"

# Search: plans, memory and time bars, the funnel.
"$planner" search --model llama2-70b --gpus 2048 --gpu 4090 --top 8 --train-tokens 2e12 \
  --format json --report "$work/search.html" >"$work/search.json"
plans=$(grep -c '"tp":' "$work/search.json")
render "$work/search.html" search
expect search "plan rows" "$plans" '<tr class="plan-row"'
expect search "memory bars" "$plans" '<g class="bar mem-bar"'
expect search "step-time bars" "$plans" '<g class="bar time-bar"'
# One bar for the candidates, one per removal reason of the JSON's "pruned", one for the feasible.
reasons=$(awk '/"pruned": \{/ { inside = 1; next } inside && /\}/ { exit } inside && /:/ { n++ }
  END { print n }' "$work/search.json")
expect search "funnel bars" $((reasons + 2)) '<g class="bar funnel-bar"'
sorts search.html plan-row "MFU %"

# Evaluate: one plan.
"$planner" evaluate --model llama3-8b --gpu h100-sxm --gpus 64 --tp 2 --pp 2 \
  --report "$work/evaluate.html" >/dev/null || true
render "$work/evaluate.html" evaluate 1400
expect evaluate "plan rows" 1 '<tr class="plan-row"'
expect evaluate "memory bars" 1 '<g class="bar mem-bar"'

# Sweep in two shards, then merge: every feasible cluster is a point, every scenario a row.
sweep=$source_dir/tests/report/sweep.json
for k in 1 2; do
  "$planner" sweep "$sweep" --out "$work/part$k" --shard "$k/2" --show 0 \
    --report "$work/sweep-part$k.html" >/dev/null 2>&1
done
"$planner" merge "$work/part1" "$work/part2" --out "$work/merged" --show 0 \
  --report "$work/sweep.html" >/dev/null
rows=$(wc -l <"$work/merged/results.jsonl")
feasible=$(grep -c '"best":{' "$work/merged/results.jsonl" || true)
models=$(grep -o '"model":"[^"]*"' "$work/merged/results.jsonl" | sort -u | wc -l)
render "$work/sweep.html" sweep 3000
expect sweep "scenario rows" "$rows" '<tr class="cluster-row"'
expect sweep "points" "$feasible" '<g class="point"'
expect sweep "charts" "$models" '<figcaption>[^<]*days to train against'
sorts sweep.html cluster-row "days"
render "$work/sweep-part1.html" sweep-part1 3000
expect sweep-part1 "scenario rows" "$(wc -l <"$work/part1/results.jsonl")" '<tr class="cluster-row"'

if [ "$failures" -gt 0 ]; then
  echo "$failures failures" >&2
  exit 1
fi
echo "OK: reports rendered in $("$chromium" --version 2>/dev/null | head -1); screenshots in $shots"
