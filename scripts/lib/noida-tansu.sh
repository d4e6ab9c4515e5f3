# scripts/lib/noida-tansu.sh: the two secondary brokers for scripts/broker (sourced, not run):
# noida-db (a binary from its PyPI wheel) and tansu (built from crates.io with --features libsql),
# each one process on one port. Uses the constants and bookkeeping of scripts/broker.

install_noida() {
  [ -x "$NOIDA_BIN" ] && return 0
  install_lock
  [ -x "$NOIDA_BIN" ] && return 0
  need_python
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  local tmp t0
  t0=$(now_ms)
  tmp=$(mktemp -d)
  say "downloading noida-db $NOIDA_VERSION from PyPI"
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$tmp" "noida-db==$NOIDA_VERSION" >&2 ||
    die "pip download noida-db==$NOIDA_VERSION failed"
  mkdir -p "$(dirname "$NOIDA_BIN")"
  python3 - "$tmp" "$NOIDA_BIN.tmp" <<'EOF' || die "could not extract noida_db/noida-db from the wheel"
import glob, os, sys, zipfile
whl = glob.glob(os.path.join(sys.argv[1], "noida_db-*.whl"))[0]
with zipfile.ZipFile(whl) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("noida_db/noida-db"))
EOF
  chmod 755 "$NOIDA_BIN.tmp"
  mv "$NOIDA_BIN.tmp" "$NOIDA_BIN"
  rm -rf "$tmp"
  say "installed $NOIDA_BIN ($(elapsed "$t0"))"
}

tansu_build_running() { # print the pid of a `cargo install ... --root $TANSU_ROOT` already running
  local f cmd
  for f in /proc/[0-9]*/cmdline; do
    cmd=$(tr '\0' ' ' 2>/dev/null <"$f") || continue
    if [[ $cmd == *cargo*" install "*"--root $TANSU_ROOT"* ]]; then
      f=${f#/proc/}
      echo "${f%/cmdline}"
      return 0
    fi
  done
  return 1
}

install_tansu() {
  [ -x "$TANSU_BIN" ] && return 0
  install_lock
  [ -x "$TANSU_BIN" ] && return 0
  local pid t0
  t0=$(now_ms)
  if pid=$(tansu_build_running); then
    say "a cargo install of tansu into $TANSU_ROOT is already running (pid $pid); waiting for it"
    while proc_alive "$pid"; do sleep 5; done
    [ -x "$TANSU_BIN" ] && { say "tansu ready: $TANSU_BIN ($(elapsed "$t0"))"; return 0; }
    say "that build finished without producing $TANSU_BIN; building it now"
  fi
  have cargo || die "cargo not found: install Rust (https://rustup.rs) to build tansu"
  have cc || apt_install gcc
  say "building tansu $TANSU_VERSION with --features libsql into $TANSU_ROOT (about 10 min on 2 cores)"
  cargo install --locked tansu --version "$TANSU_VERSION" --features libsql --root "$TANSU_ROOT" >&2 ||
    die "cargo install tansu failed"
  [ -x "$TANSU_BIN" ] || die "cargo install finished but $TANSU_BIN is missing"
  say "installed $TANSU_BIN ($(elapsed "$t0"))"
}

start_simple() { # noida|tansu
  local name=$1 dir="$RUNROOT/$1" pid t0 port timeout=${KAFKA_WIRE_START_TIMEOUT:-30}
  need_python
  "install_$name"
  set_units "$name"
  if pid=$(live_pid "${U_PF[0]}" "${U_PAT[0]}"); then
    probe "$timeout" 0 "$pid" "${U_EP[0]}" || die "$name (pid $pid) is running but not healthy (log: ${U_LOG[0]})"
    say "$name already running (pid $pid)"
    out "$(bootstrap "$name")"
    return 0
  fi
  if [ "$name" = noida ]; then port=$NOIDA_PORT; else port=$TANSU_PORT; fi
  check_ports "$name" "$port"
  mkdir -p "$dir/data"
  t0=$(now_ms)
  case $name in
    noida)
      launch "${U_PF[0]}" "${U_LOG[0]}" "$dir" "$NOIDA_BIN" start --only kafka --host "$HOST" \
        --kafka-port "$port" --data-dir "$dir/data"
      ;;
    tansu)
      # tansu resolves the sqlite:// path relative to its working directory
      launch "${U_PF[0]}" "${U_LOG[0]}" "$dir/data" "$TANSU_BIN" broker --listener-url "tcp://$HOST:$port" \
        --advertised-listener-url "tcp://$HOST:$port" --storage-engine sqlite://tansu.db --silent
      ;;
  esac
  STARTED_PIDS+=("$LAUNCHED")
  STARTED_PIDFILES+=("${U_PF[0]}")
  say "starting $name (pid $LAUNCHED), log ${U_LOG[0]}"
  probe "$timeout" 0 "$LAUNCHED" "${U_EP[0]}" ||
    start_failed "$name did not answer ApiVersions on ${U_EP[0]} within $timeout s" "${U_LOG[0]}"
  say "$name ready in $(elapsed "$t0") (pid $LAUNCHED)"
  out "$(bootstrap "$name")"
}

