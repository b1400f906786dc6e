#!/usr/bin/env bash
# The production topology of docker-compose.yml, run natively on one machine (no container engine needed):
#   PostgreSQL (loopback, own data dir) → Temporal schema (the server's own SQL tool) → Temporal server (frontend,
#   history, matching, worker services; deploy/temporal/server.yaml) → namespace + search attributes → codec server
#   → Web UI (pointed at the codec server) → workers (orchestration, site usa, site europe) → chat app.
# Every service runs the command its compose service runs, with the same config files and variables.
#
#   scripts/prod-stack.sh up [--lab]     start what is not running (idempotent; --lab: the workers serve the lab)
#   scripts/prod-stack.sh up --no-workers  only the servers: PostgreSQL, Temporal, codec server, UI (benchmarks)
#   scripts/prod-stack.sh down [--purge] stop everything (--purge: also delete the state directory)
#   scripts/prod-stack.sh status         one line per service: state, pid, address
#   scripts/prod-stack.sh restart NAME   stop and start one service (e.g. temporal, worker-usa)
#   scripts/prod-stack.sh env            print the client settings (eval "$(scripts/prod-stack.sh env)")
#
# State (data, logs, pids, generated secrets) lives in MESHPILOT_PROD_DIR (default .data/prod). Ports, with their
# defaults (the compose file's), can be overridden from the environment at the first `up` and are then kept:
#   DB_PORT 5432, FRONTEND_GRPC_PORT 7233, FRONTEND_HTTP_PORT 7243, HISTORY_GRPC_PORT 7234, MATCHING_GRPC_PORT 7235,
#   WORKER_GRPC_PORT 7239, FRONTEND/HISTORY/MATCHING/WORKER_MEMBERSHIP_PORT 6933/6934/6935/6939,
#   TEMPORAL_UI_PORT 8080, MESHPILOT_CODEC_PORT 8888, MESHPILOT_CHAT_PORT 3000.
# Secrets come from the environment or deploy/{db,codec,meshpilot,chat}.env (the compose env files); the database
# password, the secret-store key and the codec key are generated once into the state directory (mode 0600) when
# not given, so a local stack needs no set-up by hand. The chat app needs a Slack app (SLACK_SIGNING_SECRET,
# SLACK_BOT_TOKEN, docs/slack.md): without one it is left out, and `status` says so.
source "$(dirname "$0")/lib.sh"
cd "$MESHPILOT_ROOT"

STATE=${MESHPILOT_PROD_DIR:-$MESHPILOT_ROOT/.data/prod}
PGBIN="$TOOLS_DIR/postgresql"
NODE_CLI=(node "$MESHPILOT_ROOT/bin/meshpilot.mjs")
SERVICES=(postgresql temporal codec-server temporal-ui worker worker-usa worker-europe chat)
PORT_VARS=(DB_PORT FRONTEND_GRPC_PORT FRONTEND_HTTP_PORT HISTORY_GRPC_PORT MATCHING_GRPC_PORT WORKER_GRPC_PORT
  FRONTEND_MEMBERSHIP_PORT HISTORY_MEMBERSHIP_PORT MATCHING_MEMBERSHIP_PORT WORKER_MEMBERSHIP_PORT
  TEMPORAL_UI_PORT MESHPILOT_CODEC_PORT MESHPILOT_CHAT_PORT)
declare -A PORT_DEFAULTS=([DB_PORT]=5432 [FRONTEND_GRPC_PORT]=7233 [FRONTEND_HTTP_PORT]=7243 [HISTORY_GRPC_PORT]=7234
  [MATCHING_GRPC_PORT]=7235 [WORKER_GRPC_PORT]=7239 [FRONTEND_MEMBERSHIP_PORT]=6933 [HISTORY_MEMBERSHIP_PORT]=6934
  [MATCHING_MEMBERSHIP_PORT]=6935 [WORKER_MEMBERSHIP_PORT]=6939 [TEMPORAL_UI_PORT]=8080 [MESHPILOT_CODEC_PORT]=8888
  [MESHPILOT_CHAT_PORT]=3000)

say() { printf '[prod-stack] %s\n' "$*" >&2; }
die() { printf 'prod-stack: %s\n' "$*" >&2; exit 1; }

# ---- settings ------------------------------------------------------------------------------------------------

# Ports: the environment, else what the stack was first started with, else the defaults; kept in ports.env.
load_ports() {
  local saved=() var
  if [ -f "$STATE/ports.env" ]; then mapfile -t saved < "$STATE/ports.env"; fi
  for var in "${PORT_VARS[@]}"; do
    if [ -z "${!var:-}" ]; then
      local line value=${PORT_DEFAULTS[$var]}
      for line in "${saved[@]}"; do if [ "${line%%=*}" = "$var" ]; then value=${line#*=}; fi; done
      printf -v "$var" '%s' "$value"
    fi
    [[ ${!var} =~ ^[0-9]+$ ]] && [ "${!var}" -ge 1 ] && [ "${!var}" -le 65535 ] || die "$var: expected a port number, got '${!var}'"
    # Temporal's SQL schema keeps membership ports in a SMALLINT column (cluster_membership.rpc_port)
    if [[ $var = *_MEMBERSHIP_PORT ]] && [ "${!var}" -gt 32767 ]; then
      die "$var: ${!var} is above 32767; Temporal stores membership ports as SMALLINT in PostgreSQL (cluster_membership.rpc_port)"
    fi
    export "${var?}"
  done
}

save_ports() {
  local var
  for var in "${PORT_VARS[@]}"; do printf '%s=%s\n' "$var" "${!var}"; done > "$STATE/ports.env"
}

# KEY=VALUE lines of an env file into the environment (no shell evaluation: values are taken literally).
read_env_file() {
  local line key
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in '' | '#'*) continue ;; esac
    key=${line%%=*}
    [[ $key =~ ^[A-Z_][A-Z0-9_]*$ ]] || die "$1: malformed line '${line:0:40}'"
    [ -n "${line#*=}" ] || continue
    [ -n "${!key:-}" ] || export "$key=${line#*=}"
  done < "$1"
}

# The compose env files first (what an operator configured), then the secrets generated for this stack.
load_secrets() {
  local f
  for f in db codec meshpilot chat; do if [ -f "deploy/$f.env" ]; then read_env_file "deploy/$f.env"; fi; done
  local gen="$STATE/secrets.env"
  if [ ! -f "$gen" ]; then
    (
      umask 077
      {
        echo "POSTGRES_PWD=$(openssl rand -hex 24)"
        echo "MESHPILOT_SECRET_KEY=$(openssl rand -hex 32)"
        echo "MESHPILOT_CODEC_KEYS=k$(date +%Y%m):$(openssl rand -base64 32)"
      } > "$gen"
    )
  fi
  read_env_file "$gen"
  export POSTGRES_USER=${POSTGRES_USER:-temporal}
  # codec keys by id (MESHPILOT_CODEC_KEY_IDS) replace the generated ones
  if [ -n "${MESHPILOT_CODEC_KEY_IDS:-}" ]; then unset MESHPILOT_CODEC_KEYS; fi
}

common_env() {
  export TEMPORAL_ADDRESS="127.0.0.1:$FRONTEND_GRPC_PORT" TEMPORAL_NAMESPACE=${TEMPORAL_NAMESPACE:-default}
  export MESHPILOT_DATA_DIR="$STATE/meshpilot" MESHPILOT_LOG_LEVEL=${MESHPILOT_LOG_LEVEL:-info}
  export MESHPILOT_UI_URL=${MESHPILOT_UI_URL:-http://localhost:$TEMPORAL_UI_PORT}
  export PATH="$TOOLS_DIR/bin:$TOOLS_DIR/temporal-venv/bin:$PATH"
}

# ---- processes -----------------------------------------------------------------------------------------------

pidfile() { echo "$STATE/run/$1.pid"; }
logfile() { echo "$STATE/logs/$1.log"; }

# running PID: the process exists and is not a zombie waiting to be reaped
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat:0:1}" != Z ]
}

alive() {
  local f; f=$(pidfile "$1")
  [ -f "$f" ] && running "$(cat "$f")"
}

# spawn NAME CMD... : runs CMD in its own session (so `down` stops its children too), output to logs/NAME.log.
spawn() {
  local name=$1; shift
  : > "$(logfile "$name")"
  setsid "$@" >> "$(logfile "$name")" 2>&1 < /dev/null &
  echo $! > "$(pidfile "$name")"
}

# stop_service NAME SECONDS : SIGTERM to the service's process group, SIGKILL after SECONDS.
stop_service() {
  local name=$1 grace=${2:-20} f pid
  f=$(pidfile "$name")
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if running "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while running "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if running "$pid"; then
      say "$name did not stop within ${grace}s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 10))
      while running "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    fi
  fi
  # what the service started outside the process leader (tool children) goes with it
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$f"
}

# wait_until NAME SECONDS CMD... : polls CMD every 0.5 s; on timeout fails with the service's last log lines.
wait_until() {
  local name=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ "$name" != postgresql ] && ! alive "$name"; then
      tail -n 30 "$(logfile "$name")" >&2 || true
      die "$name exited during start-up (log: $(logfile "$name"))"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 30 "$(logfile "$name")" >&2 || true
      die "$name not ready after ${timeout}s (log: $(logfile "$name"))"
    fi
    sleep 0.5
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
log_has() { grep -q -- "$2" "$(logfile "$1")"; }

# ---- services ------------------------------------------------------------------------------------------------

# PostgreSQL refuses to run as root: as root, it runs as the package's `postgres` user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgresql() {
  local data="$STATE/postgresql" sock="$STATE/run/pg"
  [ -x "$PGBIN/initdb" ] || die "PostgreSQL is not installed: run 'bash scripts/setup.sh --all' (scripts/setup.d/tests/81-postgres.sh)"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root and there is no 'postgres' user to run PostgreSQL as"
    runuser -u postgres -- test -x "$STATE" ||
      die "the 'postgres' user cannot reach $STATE (a parent directory is private); set MESHPILOT_PROD_DIR to a directory it can reach"
  fi
  mkdir -p "$sock"
  if [ "$(id -u)" = 0 ]; then chown postgres "$sock"; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    say "initdb $data (user $POSTGRES_USER, scram-sha-256)"
    rm -rf "$data"
    mkdir -p "$data"
    local pw="$STATE/run/initdb.pw"
    (umask 077; printf '%s\n' "$POSTGRES_PWD" > "$pw")
    if [ "$(id -u)" = 0 ]; then chown postgres "$data" "$pw"; fi
    as_pg "$PGBIN/initdb" -D "$data" -U "$POSTGRES_USER" --pwfile="$pw" --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
      > "$(logfile postgresql-initdb)" 2>&1 || { rm -f "$pw"; cat "$(logfile postgresql-initdb)" >&2; die "initdb failed"; }
    rm -f "$pw"
  fi
  if as_pg "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then return 0; fi
  say "postgresql on 127.0.0.1:$DB_PORT"
  : > "$(logfile postgresql)"
  if [ "$(id -u)" = 0 ]; then chown postgres "$(logfile postgresql)"; fi
  as_pg "$PGBIN/pg_ctl" -D "$data" -l "$(logfile postgresql)" -w -t 120 start \
    -o "-c listen_addresses=127.0.0.1 -p $DB_PORT -k $sock -c max_connections=200" >/dev/null ||
    { tail -n 20 "$(logfile postgresql)" >&2; die "postgresql did not start"; }
  head -n 1 "$data/postmaster.pid" > "$(pidfile postgresql)"
  wait_until postgresql 120 "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$DB_PORT"
}

stop_postgresql() {
  local data="$STATE/postgresql"
  [ -f "$data/PG_VERSION" ] || return 0
  if as_pg "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
  fi
  rm -f "$(pidfile postgresql)"
}

# compose: temporal-schema (temporalio/admin-tools, the same script)
run_schema() {
  command -v temporal-sql-tool >/dev/null || die "temporal-sql-tool is not built: run 'bash scripts/setup.sh --all'"
  say "temporal schema: create or upgrade (temporal-sql-tool)"
  POSTGRES_SEEDS=127.0.0.1 TEMPORAL_SCHEMA_DIR="$TOOLS_DIR/temporal-schema/v12" \
    sh deploy/temporal/setup-postgres.sh > "$(logfile temporal-schema)" 2>&1 ||
    { cat "$(logfile temporal-schema)" >&2; die "temporal schema set-up failed"; }
}

# compose: temporal (temporalio/server runs `temporal-server start` with TEMPORAL_SERVER_CONFIG_FILE_PATH)
start_temporal() {
  command -v temporal-server >/dev/null || die "temporal-server is not built: run 'bash scripts/setup.sh --all'"
  say "temporal server on $TEMPORAL_ADDRESS (frontend, history, matching, worker)"
  TEMPORAL_SERVER_CONFIG_FILE_PATH="$MESHPILOT_ROOT/deploy/temporal/server.yaml" \
    DYNAMIC_CONFIG_FILE_PATH="$MESHPILOT_ROOT/deploy/temporal/dynamicconfig/meshpilot.yaml" \
    POSTGRES_SEEDS=127.0.0.1 BIND_ON_IP=127.0.0.1 TEMPORAL_ALLOW_NO_AUTH=true \
    spawn temporal temporal-server start
  wait_until temporal 300 temporal operator cluster health --address "$TEMPORAL_ADDRESS"
}

# compose: temporal-init (the same script)
run_init() {
  say "namespace $TEMPORAL_NAMESPACE and search attributes"
  sh deploy/temporal/init-namespace.sh > "$(logfile temporal-init)" 2>&1 ||
    { cat "$(logfile temporal-init)" >&2; die "namespace set-up failed"; }
}

ui_origins() { echo "http://localhost:$TEMPORAL_UI_PORT" "http://127.0.0.1:$TEMPORAL_UI_PORT"; }

start_codec() {
  say "codec server on 127.0.0.1:$MESHPILOT_CODEC_PORT"
  # shellcheck disable=SC2046
  spawn codec-server "${NODE_CLI[@]}" codec-server --host 127.0.0.1 --port "$MESHPILOT_CODEC_PORT" --ui-origin $(ui_origins)
  wait_until codec-server 120 curl -fsS "http://127.0.0.1:$MESHPILOT_CODEC_PORT/healthz"
}

start_ui() {
  command -v temporal-ui-server >/dev/null || die "temporal-ui-server is not built: run 'bash scripts/setup.sh --all'"
  say "temporal web UI on http://localhost:$TEMPORAL_UI_PORT (codec http://localhost:$MESHPILOT_CODEC_PORT)"
  TEMPORAL_UI_HOST=127.0.0.1 TEMPORAL_CODEC_ENDPOINT="http://localhost:$MESHPILOT_CODEC_PORT" \
    TEMPORAL_DEFAULT_NAMESPACE="$TEMPORAL_NAMESPACE" TEMPORAL_CORS_ORIGINS="$(ui_origins | tr ' ' ',')" \
    spawn temporal-ui temporal-ui-server --root "$MESHPILOT_ROOT/deploy/temporal" --config ui --env docker start
  wait_until temporal-ui 120 curl -fsS "http://127.0.0.1:$TEMPORAL_UI_PORT/healthz"
}

# compose: worker / worker-usa / worker-europe. All three share the data directory: in site-queue mode the
# orchestration worker's mesh phase reads the kubeconfigs the site workers stored, and the clusters read the mesh
# CA the orchestration worker generated (docs/deployment.md, "Site workers and the secret store").
start_worker() {
  local name=$1 args=(worker)
  case $name in worker-*) args+=(--site "${name#worker-}") ;; esac
  if [ "$(cat "$STATE/mode")" = lab ]; then args+=(--lab); fi
  say "$name: meshpilot ${args[*]}"
  spawn "$name" "${NODE_CLI[@]}" "${args[@]}"
  wait_until "$name" 300 log_has "$name" 'worker polling task queue'
}

chat_configured() { [ -n "${SLACK_SIGNING_SECRET:-}" ] && [ -n "${SLACK_BOT_TOKEN:-}" ]; }

start_chat() {
  if ! chat_configured; then
    say "chat app: not started (no SLACK_SIGNING_SECRET/SLACK_BOT_TOKEN in the environment or deploy/chat.env)"
    touch "$STATE/run/chat.unconfigured"
    return 0
  fi
  rm -f "$STATE/run/chat.unconfigured"
  say "chat app on 127.0.0.1:$MESHPILOT_CHAT_PORT"
  MESHPILOT_BLUEPRINT_DIR=${MESHPILOT_BLUEPRINT_DIR:-$MESHPILOT_ROOT/blueprints} \
    spawn chat "${NODE_CLI[@]}" chat --host 127.0.0.1 --port "$MESHPILOT_CHAT_PORT"
  wait_until chat 120 curl -fsS "http://127.0.0.1:$MESHPILOT_CHAT_PORT/healthz"
}

start_service() {
  case $1 in
    postgresql) start_postgresql ;;
    temporal) run_schema; start_temporal ;;
    codec-server) start_codec ;;
    temporal-ui) start_ui ;;
    worker | worker-usa | worker-europe) start_worker "$1" ;;
    chat) start_chat ;;
    *) die "unknown service '$1' (one of: ${SERVICES[*]})" ;;
  esac
}

# ---- commands ------------------------------------------------------------------------------------------------

cmd_up() {
  local mode=prod workers=true
  for arg in "$@"; do
    case $arg in
      --lab) mode=lab ;;
      --no-workers) workers=false ;;
      *) die "up: unknown argument '$arg' (use --lab, --no-workers)" ;;
    esac
  done
  mkdir -p "$STATE/run" "$STATE/logs" "$STATE/meshpilot"
  if [ -f "$STATE/mode" ] && [ "$(cat "$STATE/mode")" != "$mode" ] && any_alive; then
    die "the stack is up in $(cat "$STATE/mode") mode; run 'scripts/prod-stack.sh down' before 'up${mode/prod/}'"
  fi
  echo "$mode" > "$STATE/mode"
  load_ports
  save_ports
  load_secrets
  common_env
  local started=$SECONDS
  start_postgresql
  alive temporal || start_service temporal
  run_init
  local s wanted=(codec-server temporal-ui)
  if $workers; then rm -f "$STATE/run/no-workers"; wanted+=(worker worker-usa worker-europe chat); else touch "$STATE/run/no-workers"; fi
  for s in "${wanted[@]}"; do alive "$s" || start_service "$s"; done
  write_client_env
  say "up in $((SECONDS - started)) s ($mode mode); client settings: eval \"\$(scripts/prod-stack.sh env)\""
  cmd_status
}

any_alive() {
  local s
  for s in "${SERVICES[@]}"; do alive "$s" && return 0; done
  return 1
}

# What the CLI needs to talk to this stack (holds the codec keys: 0600).
write_client_env() {
  (
    umask 077
    {
      echo "TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS"
      echo "TEMPORAL_NAMESPACE=$TEMPORAL_NAMESPACE"
      echo "MESHPILOT_DATA_DIR=$MESHPILOT_DATA_DIR"
      echo "MESHPILOT_UI_URL=$MESHPILOT_UI_URL"
      echo "MESHPILOT_UI_PORT=$TEMPORAL_UI_PORT"
      if [ -n "${MESHPILOT_CODEC_KEYS:-}" ]; then echo "MESHPILOT_CODEC_KEYS=$MESHPILOT_CODEC_KEYS"; fi
      if [ -n "${MESHPILOT_CODEC_KEY_IDS:-}" ]; then echo "MESHPILOT_CODEC_KEY_IDS=$MESHPILOT_CODEC_KEY_IDS"; fi
      echo "MESHPILOT_CODEC_ENDPOINT=http://127.0.0.1:$MESHPILOT_CODEC_PORT"
      echo "MESHPILOT_CHAT_URL=http://127.0.0.1:$MESHPILOT_CHAT_PORT"
    } > "$STATE/client.env"
  )
}

cmd_env() {
  [ -f "$STATE/client.env" ] || die "no stack in $STATE: run 'scripts/prod-stack.sh up' first"
  local line
  while IFS= read -r line; do printf 'export %s=%q\n' "${line%%=*}" "${line#*=}"; done < "$STATE/client.env"
}

cmd_down() {
  local purge=false
  for arg in "$@"; do
    case $arg in
      --purge) purge=true ;;
      *) die "down: unknown argument '$arg' (use --purge)" ;;
    esac
  done
  [ -d "$STATE" ] || { say "nothing to stop ($STATE does not exist)"; return 0; }
  local s
  for s in chat worker-europe worker-usa worker temporal-ui codec-server; do stop_service "$s" 20; done
  stop_service temporal 30
  stop_postgresql
  say "stopped"
  if $purge; then rm -rf "$STATE"; say "deleted $STATE"; fi
}

cmd_status() {
  [ -d "$STATE" ] || { echo "no stack in $STATE"; return 3; }
  load_ports
  local s state pid addr down=0
  for s in "${SERVICES[@]}"; do
    addr=
    case $s in
      postgresql) addr="127.0.0.1:$DB_PORT" ;;
      temporal) addr="127.0.0.1:$FRONTEND_GRPC_PORT" ;;
      codec-server) addr="http://127.0.0.1:$MESHPILOT_CODEC_PORT" ;;
      temporal-ui) addr="http://localhost:$TEMPORAL_UI_PORT" ;;
      chat) addr="http://127.0.0.1:$MESHPILOT_CHAT_PORT" ;;
      worker) addr="task queue meshpilot" ;;
      worker-*) addr="task queue meshpilot-site-${s#worker-}" ;;
    esac
    pid=$(cat "$(pidfile "$s")" 2>/dev/null || true)
    if alive "$s"; then state=running
    elif [ "$s" = chat ] && [ -f "$STATE/run/chat.unconfigured" ]; then state=off; pid=-; addr="not configured (docs/slack.md)"
    elif [ -f "$STATE/run/no-workers" ] && [[ $s = worker* || $s = chat ]]; then state=off; pid=-; addr="not started (up --no-workers)"
    else state=stopped; pid=-; down=$((down + 1)); fi
    printf '%-14s %-8s %-8s %s\n' "$s" "$state" "$pid" "$addr"
  done
  [ $down -eq 0 ] || return 3
}

cmd_restart() {
  local name=${1:-}
  [ -n "$name" ] || die "restart: name a service (one of: ${SERVICES[*]})"
  printf '%s\n' "${SERVICES[@]}" | grep -qx -- "$name" || die "restart: unknown service '$name' (one of: ${SERVICES[*]})"
  [ -f "$STATE/mode" ] || die "no stack in $STATE: run 'scripts/prod-stack.sh up' first"
  load_ports
  load_secrets
  common_env
  if [ "$name" = postgresql ]; then stop_postgresql; else stop_service "$name" 30; fi
  start_service "$name"
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  status) shift; cmd_status ;;
  restart) shift; cmd_restart "$@" ;;
  env) shift; cmd_env ;;
  *) echo "usage: scripts/prod-stack.sh up [--lab] | down [--purge] | status | restart SERVICE | env" >&2; exit 2 ;;
esac
