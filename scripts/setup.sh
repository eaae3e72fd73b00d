#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmarks need on a fresh machine, and nothing twice:
# npm packages (when the lock file changed), Debian's Alertmanager, the collector, Jaeger and
# Prometheus binaries (built once, cached outside the repository), then builds the
# TypeScript packages and links the workspace's `tasklens` command.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

node scripts/complete-lockfile.js
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

# Arguments (--test-backends: also the receivers only the tests run) go to ensure-binaries.sh.
bash scripts/ensure-binaries.sh "$@"

log "building packages"
npm run --silent build

# npm ci links a workspace's bin only when its file exists, and dist/ is built after npm ci: link
# node_modules/.bin/tasklens now, so `npx tasklens` works in a fresh clone (and again in a checkout
# whose link still names a former bin file).
if [ "$(readlink -f node_modules/.bin/tasklens)" != "$(pwd -P)/packages/cli/dist/tasklens.js" ]; then
  log "linking the tasklens command (npm rebuild @tasklens/cli)"
  npm rebuild @tasklens/cli --ignore-scripts --no-audit --no-fund >/dev/null
fi
