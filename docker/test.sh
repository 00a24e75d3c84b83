#!/usr/bin/env bash
# The compose deployment, end to end, on a real Docker engine:
#   build the image (from the binaries already built) -> compose up -> wait for
#   the health check -> a short trawl-eval over the published port -> a 10 s
#   trawl-load from the compose `load` profile -> kill -9 the container and
#   start it again -> the collections, their point counts and a search's
#   answer are unchanged -> compose down (volume removed).
# Skipped, with a message, where no Docker engine answers.
#
#   docker/test.sh                  # binaries from target/debug (after cargo test)
#   TRAWL_BIN_DIR=target/release docker/test.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { printf 'docker/test: %s\n' "$*"; }

if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
  say "SKIPPED: no Docker engine answers (docker info failed); the compose test needs one"
  exit 0
fi
if command -v docker-compose >/dev/null; then
  compose_bin=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  compose_bin=(docker compose)
else
  say "SKIPPED: a Docker engine runs but neither docker-compose nor 'docker compose' is installed"
  exit 0
fi

bin_dir=${TRAWL_BIN_DIR:-target/debug}
# A tag of this run's own, removed at the end (never a tag the user built).
export TRAWL_IMAGE=trawl:test-$$
project=trawl-test-$$
export TRAWL_PORT
TRAWL_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$TRAWL_PORT
work=$(mktemp -d)
# The deployment runs with an API key from an env file, as users are told to.
export TRAWL_API_KEY
TRAWL_API_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
export TRAWL_ENV_FILE=$work/trawl.env
printf 'TRAWL_API_KEY=%s\n' "$TRAWL_API_KEY" > "$TRAWL_ENV_FILE"
auth=(-H "Authorization: Bearer $TRAWL_API_KEY")
compose() { "${compose_bin[@]}" -p "$project" -f docker/docker-compose.yml "$@"; }
cleanup() {
  local status=$?
  if [ $status -ne 0 ]; then
    say "FAILED; the server's last log lines:"
    compose logs --tail 40 trawl 2>&1 || true
  fi
  compose --profile load down -v --remove-orphans >/dev/null 2>&1 || true
  # The run's own image goes too (TRAWL_KEEP_IMAGE=1 keeps it to look at).
  if [ -z "${TRAWL_KEEP_IMAGE:-}" ]; then
    docker image rm "$TRAWL_IMAGE" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

wait_healthy() {
  local id status
  id=$(compose ps -q trawl)
  for _ in $(seq 1 120); do
    status=$(docker inspect --format '{{.State.Health.Status}}' "$id")
    if [ "$status" = healthy ]; then return 0; fi
    sleep 1
  done
  say "the container did not become healthy in 120 s (status $status)"
  return 1
}

TRAWL_BIN_DIR=$bin_dir docker/build.sh

say "compose up (project $project, port $TRAWL_PORT)"
compose up -d trawl
wait_healthy
say "healthy"
status=$(curl -s -o /dev/null -w '%{http_code}' "$url/collections")
[ "$status" = 401 ] || { say "without the key /collections answered $status, expected 401"; exit 1; }
say "the API refuses requests without the key (401)"

say "trawl-eval: 30 SciFact queries over 300 documents"
"$bin_dir/trawl-eval" --url "$url" --data ../shared/data/scifact --max-queries 30 --max-docs 300 \
  --layout float --keep --out "$work"
ndcg=$(json 'd["rows"][0]["ndcg@10"]' < "$work/eval-scifact.json")
python3 -c "import sys; sys.exit(0 if $ndcg > 0.5 else 1)" || { say "nDCG@10 $ndcg on the subset is implausibly low"; exit 1; }

say "trawl-load: 10 s of searches from the compose 'load' profile"
compose --profile load run --rm trawl-load \
  --url http://trawl:6390 --setup --workload search --concurrency 4 --duration 10s --json /tmp/load.json

snapshot() {
  for c in eval-scifact-float load; do
    curl -fsS "${auth[@]}" "$url/collections/$c" | json '"%s points=%d" % (d["name"], d["points"])'
  done
  curl -fsS "${auth[@]}" "$url/collections/eval-scifact-float/search" -H 'content-type: application/json' \
    -d '{"text": "vitamin D and bone density", "limit": 5}' | json '[h["id"] for h in d["hits"]]'
}
before=$(snapshot)
printf '%s\n' "$before"

say "kill -9 the server and start it again"
docker kill --signal KILL "$(compose ps -q trawl)" >/dev/null
compose up -d trawl
wait_healthy
after=$(snapshot)
if [ "$before" != "$after" ]; then
  say "the data changed across the restart:"
  diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") || true
  exit 1
fi
size=$(docker image inspect "$TRAWL_IMAGE" --format '{{.Size}}')
say "passed: data survived kill -9; image $TRAWL_IMAGE is $((size / 1024 / 1024)) MiB"
