#!/usr/bin/env bash
# Makes sure the real backend binaries the tests and `tasklens stack up` run are on this machine:
#   - prometheus-alertmanager (and amtool) from Debian's package, and Debian's chromium for the
#     console's browser tests;
#   - the tasklens collector (otelcol-tasklens), built with the OpenTelemetry Collector Builder from
#     deploy/collector/builder-config.yaml;
#   - Jaeger v2 (jaeger), built from its Go module;
#   - Prometheus 3 (prometheus, promtool), built from its Go module;
#   - Thanos (thanos), built from its Go module, for the metrics store (`tasklens stack up
#     --metrics-store`). Its module needs a newer Go than the machine's, so its build alone runs
#     with GOTOOLCHAIN set to thanos.goToolchain of deploy/versions.json (the go command fetches
#     that toolchain from the Go module proxy once);
#   - with --test-backends only: VictoriaMetrics single-node (victoria-metrics), built from its Go
#     module, a remote-write receiver the remote-write path is tested against (`npm test` asks for
#     it; the stack never runs it).
# Versions come from deploy/versions.json, the one source of truth that the Node side
# (packages/stack/src/binaries.ts) reads as well. Built binaries are cached outside the
# repository, under ${TASKLENS_CACHE_DIR:-$HOME/.cache/tasklens}/bin/<name>-<version>-<hash>/, where
# <hash> is the first 12 hex digits of the SHA-256 of the build key: the manifest's bytes for the
# collector, "<module>@<moduleVersion>" for the others. A second run finds them and does
# nothing. Build logs: ${TASKLENS_CACHE_DIR:-$HOME/.cache/tasklens}/logs/. Writes bin/paths.json
# there too.
set -euo pipefail
cd "$(dirname "$0")/.."
repo_dir=$(pwd)

test_backends=0
for argument in "$@"; do
  case $argument in
    --test-backends) test_backends=1 ;;
    *)
      printf 'ensure-binaries: unknown argument %s (known: --test-backends)\n' "$argument" >&2
      exit 2
      ;;
  esac
done

log() { printf 'ensure-binaries: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

cache_dir=${TASKLENS_CACHE_DIR:-$HOME/.cache/tasklens}
bin_root="$cache_dir/bin"
log_dir="$cache_dir/logs"
mkdir -p "$bin_root" "$log_dir"

# Reads one dotted key of deploy/versions.json (node is always there: setup.sh runs npm ci first).
version_of() {
  node -e 'const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const r = process.argv[2].split(".").reduce((o, k) => (o == null ? undefined : o[k]), v);
    if (typeof r !== "string") { process.exit(2); } process.stdout.write(r);' \
    "$repo_dir/deploy/versions.json" "$1" || die "deploy/versions.json has no string at $1"
}
short_hash() { sha256sum | cut -c1-12; }

# One build at a time per cache directory; a second caller waits and then finds the binaries.
exec 9>"$cache_dir/.ensure-binaries.lock"
flock 9

# --- Debian packages -----------------------------------------------------------------------------
# Each command the stack or the tests run, and the Debian package that brings it: Alertmanager
# for the stack, Chromium for the console's browser tests and benchmark.
declare -A package_of=([prometheus-alertmanager]=prometheus-alertmanager [amtool]=prometheus-alertmanager [chromium]=chromium)
missing=()
packages=()
for tool in prometheus-alertmanager amtool chromium; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    missing+=("$tool")
    [[ " ${packages[*]} " == *" ${package_of[$tool]} "* ]] || packages+=("${package_of[$tool]}")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}; run as root or: sudo apt-get install ${packages[*]}"
  log "installing Debian packages ${packages[*]} (missing: ${missing[*]})"
  # The package's maintainer scripts would start a system daemon on :9093 that would clash with the
  # stack tasklens starts itself. A policy-rc.d answering 101 ("action not allowed") keeps
  # invoke-rc.d from starting it; an existing policy file is left alone.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
  fi
  {
    apt-get update &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"
  } >"$log_dir/apt-get.log" 2>&1 || {
    [ "$own_policy" = 1 ] && rm -f "$policy"
    tail -n 20 "$log_dir/apt-get.log" >&2
    die "apt-get failed (log: $log_dir/apt-get.log)"
  }
  [ "$own_policy" = 1 ] && rm -f "$policy"
else
  log "Debian packages present: prometheus-alertmanager, chromium"
fi

# --- Go builds -----------------------------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "go is not on PATH (the collector and the backends are built from Go modules)"
# GOFLAGS from the environment would replace the one in `go env`, so keep that one's flags.
GOFLAGS="$(go env GOFLAGS) -trimpath"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS

collector_version=$(version_of collector.version)
collector_binary=$(version_of collector.binary)
collector_manifest="$repo_dir/$(version_of collector.manifest)"
collector_hash=$(short_hash <"$collector_manifest")
collector_dir="$bin_root/$collector_binary-$collector_version-$collector_hash"

# The cache folder of a binary built from a Go module (key in deploy/versions.json):
# <binary>-<version>-<first 12 hex digits of the SHA-256 of "<module>@<moduleVersion>">.
module_cache_dir() {
  local hash
  hash=$(printf '%s@%s' "$(version_of "$1.module")" "$(version_of "$1.moduleVersion")" | short_hash)
  printf '%s/%s-%s-%s' "$bin_root" "$(version_of "$1.binary")" "$(version_of "$1.version")" "$hash"
}

jaeger_version=$(version_of jaeger.version)
jaeger_module=$(version_of jaeger.module)
jaeger_module_version=$(version_of jaeger.moduleVersion)
jaeger_binary=$(version_of jaeger.binary)
jaeger_dir=$(module_cache_dir jaeger)

prometheus_version=$(version_of prometheus.version)
prometheus_module=$(version_of prometheus.module)
prometheus_module_version=$(version_of prometheus.moduleVersion)
prometheus_binary=$(version_of prometheus.binary)
prometheus_dir=$(module_cache_dir prometheus)

thanos_version=$(version_of thanos.version)
thanos_module=$(version_of thanos.module)
thanos_module_version=$(version_of thanos.moduleVersion)
thanos_toolchain=$(version_of thanos.goToolchain)
thanos_binary=$(version_of thanos.binary)
thanos_dir=$(module_cache_dir thanos)

victoriametrics_version=$(version_of victoriametrics.version)
victoriametrics_module=$(version_of victoriametrics.module)
victoriametrics_module_version=$(version_of victoriametrics.moduleVersion)
victoriametrics_binary=$(version_of victoriametrics.binary)
victoriametrics_dir=$(module_cache_dir victoriametrics)

build_collector() {
  local builder_dir="$bin_root/ocb-$collector_version"
  if [ ! -x "$builder_dir/builder" ]; then
    GOBIN="$builder_dir" go install "$(version_of collector.builderModule)@v$collector_version"
  fi
  local work
  work=$(mktemp -d "$cache_dir/build-collector.XXXXXX")
  "$builder_dir/builder" --config "$collector_manifest" --output-path "$work"
  mkdir -p "$work/out"
  mv "$work/$collector_binary" "$work/out/$collector_binary"
  chmod 755 "$work/out"
  rm -rf "$collector_dir"
  mv "$work/out" "$collector_dir"
  rm -rf "$work"
}

build_jaeger() {
  # The module has no /v2 path, so `go install .../cmd/jaeger@v2.x.y` is refused, and its go.mod
  # has replace directives, so `go install pkg@version` is refused too: download the module
  # version whose commit carries the v2 release tag and build cmd/jaeger inside it.
  local module_dir
  module_dir=$(go mod download -json "$jaeger_module@$jaeger_module_version" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const m=JSON.parse(s);if(m.Error){console.error(m.Error);process.exit(1)}process.stdout.write(m.Dir)})')
  local work
  work=$(mktemp -d "$cache_dir/build-jaeger.XXXXXX")
  local pkg="$jaeger_module/internal/version"
  (cd "$module_dir" && go build -o "$work/$jaeger_binary" \
    -ldflags "-s -w -X $pkg.latestVersion=v$jaeger_version" ./cmd/jaeger)
  chmod 755 "$work"
  rm -rf "$jaeger_dir"
  mv "$work" "$jaeger_dir"
}

build_prometheus() {
  # The module's go.mod has no replace directives, so `go install pkg@version` builds it. Without
  # the builtinassets tag (whose assets come from an npm build that the module does not hold) the
  # web UI pages are absent; the HTTP API, the remote-write and OTLP receivers and the rules work.
  local work
  work=$(mktemp -d "$cache_dir/build-prometheus.XXXXXX")
  local pkg=github.com/prometheus/common/version
  GOBIN="$work" go install -ldflags "-s -w -X $pkg.Version=$prometheus_version -X $pkg.Branch=HEAD" \
    "$prometheus_module/cmd/prometheus@$prometheus_module_version" \
    "$prometheus_module/cmd/promtool@$prometheus_module_version"
  chmod 755 "$work"
  rm -rf "$prometheus_dir"
  mv "$work" "$prometheus_dir"
}

build_thanos() {
  # Its go.mod has replace directives (so no `go install pkg@version`) and asks for a newer Go than
  # the machine's: download the module with that toolchain and build cmd/thanos inside it.
  export GOTOOLCHAIN=$thanos_toolchain
  local module_dir
  module_dir=$(go mod download -json "$thanos_module@$thanos_module_version" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const m=JSON.parse(s);if(m.Error){console.error(m.Error);process.exit(1)}process.stdout.write(m.Dir)})')
  local work
  work=$(mktemp -d "$cache_dir/build-thanos.XXXXXX")
  local pkg=github.com/prometheus/common/version
  # The tags of the module's own release build (.promu.yml): Thanos converts its label protobufs
  # to Prometheus labels in place, which needs the slice implementation of labels.Labels (without
  # it, thanos query panics on its first endpoint).
  (cd "$module_dir" && go build -tags netgo,slicelabels -o "$work/$thanos_binary" \
    -ldflags "-s -w -X $pkg.Version=$thanos_version -X $pkg.Branch=HEAD" ./cmd/thanos)
  chmod 755 "$work"
  rm -rf "$thanos_dir"
  mv "$work" "$thanos_dir"
}

build_victoriametrics() {
  # Its go.mod has no replace directives: `go install pkg@version` builds the single-node server.
  local work
  work=$(mktemp -d "$cache_dir/build-victoriametrics.XXXXXX")
  local pkg="$victoriametrics_module/lib/buildinfo"
  GOBIN="$work" go install -ldflags "-s -w -X $pkg.Version=victoria-metrics-v$victoriametrics_version" \
    "$victoriametrics_module/app/victoria-metrics@$victoriametrics_module_version"
  chmod 755 "$work"
  rm -rf "$victoriametrics_dir"
  mv "$work" "$victoriametrics_dir"
}

# The builds run at once (they spend much of their time downloading modules); each logs to a file.
pids=()
names=()
start_build() {
  local name=$1 dir=$2 binary=$3 fn=$4
  if [ -x "$dir/$binary" ]; then
    log "$name cached: $dir/$binary"
    return
  fi
  log "building $name into $dir (log: $log_dir/build-$name.log)"
  (
    started=$(date +%s)
    "$fn" >"$log_dir/build-$name.log" 2>&1
    log "built $name in $(($(date +%s) - started))s"
  ) &
  pids+=($!)
  names+=("$name")
}
start_build collector "$collector_dir" "$collector_binary" build_collector
start_build jaeger "$jaeger_dir" "$jaeger_binary" build_jaeger
start_build prometheus "$prometheus_dir" "$prometheus_binary" build_prometheus
start_build thanos "$thanos_dir" "$thanos_binary" build_thanos
if [ "$test_backends" = 1 ]; then
  start_build victoriametrics "$victoriametrics_dir" "$victoriametrics_binary" build_victoriametrics
fi

failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    log "building ${names[$i]} failed; last lines of $log_dir/build-${names[$i]}.log:"
    tail -n 30 "$log_dir/build-${names[$i]}.log" >&2 || true
    failed=1
  fi
done
[ "$failed" = 0 ] || die "a Go build failed"

# For tools other than the Node code, which computes the same paths from deploy/versions.json.
cat >"$bin_root/paths.json" <<JSON
{
  "collector": "$collector_dir/$collector_binary",
  "jaeger": "$jaeger_dir/$jaeger_binary",
  "prometheus": "$prometheus_dir/$prometheus_binary",
  "promtool": "$prometheus_dir/promtool",
  "thanos": "$thanos_dir/$thanos_binary",
  "victoriametrics": "$victoriametrics_dir/$victoriametrics_binary",
  "alertmanager": "$(command -v prometheus-alertmanager)"
}
JSON
log "binaries ready (paths: $bin_root/paths.json)"
