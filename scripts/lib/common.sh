# scripts/lib/common.sh: helpers shared by scripts/broker and scripts/legacy-broker (sourced, not
# run). The sourcing script sets SCRIPT (its name, for messages) and, before any of these are used,
# `exec 3>&1 1>&2`: fd 3 is the real stdout, where only results go (see `out`).

say() { printf '%s: %s\n' "$SCRIPT" "$*" >&2; }
die() { say "error: $*"; exit 1; }
out() { printf '%s\n' "$*" >&3; }
have() { command -v "$1" >/dev/null 2>&1; }
truthy() { case "${1,,}" in 1 | true | yes | on) return 0 ;; *) return 1 ;; esac; }
now_ms() { date +%s%3N; }
elapsed() { local ms=$(($(now_ms) - $1)); printf '%d.%01d s' $((ms / 1000)) $((ms % 1000 / 100)); }

# The script's header comment, from line 2 down to `set -euo pipefail`.
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

# ---------------------------------------------------------------------------------------------
# prerequisites

run_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif have sudo; then sudo -n "$@"; else
    die "need root (or sudo) to run: $*"
  fi
}
apt_install() {
  have apt-get || die "apt-get not found; please install: $*"
  say "installing $* with apt-get"
  run_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  run_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}
need_python() { have python3 || apt_install python3 python3-pip; }
need_java() { have java || apt_install openjdk-17-jre-headless; }
need_mvn() { have mvn || apt_install maven; }
need_openssl() { have openssl || apt_install openssl; }

# FILE FD WHAT: hold an exclusive lock on FILE through file descriptor FD until the script exits
# (serialises installs and starts across processes; tests may start brokers in parallel).
flock_on() {
  have flock || return 0
  mkdir -p "$(dirname "$1")"
  eval "exec $2>\"\$1\""
  flock -w 1800 "$2" || die "timed out waiting for $3"
}

# ---------------------------------------------------------------------------------------------
# Maven Central

write_pom() { # FILE DEP... (groupId:artifactId:version): a pom that only lists dependencies
  local dep g a v
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo '<groupId>local.kafka-wire</groupId><artifactId>testbed-libs</artifactId><version>1</version>'
    echo '<packaging>pom</packaging><dependencies>'
    for dep in "${@:2}"; do
      IFS=: read -r g a v <<<"$dep"
      echo "<dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"
    done
    echo '</dependencies></project>'
  } >"$1"
}

# POMDIR OUTDIR MVN_ARGS...: copy the jars of POMDIR/pom.xml's dependencies into OUTDIR
copy_dependencies() {
  local dir=$1 outdir=$2
  shift 2
  (cd "$dir" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory="$outdir" "$@") \
    >"$dir/mvn.log" 2>&1 || { cat "$dir/mvn.log" >&2; die "mvn could not download the jars listed in $dir/pom.xml (see above)"; }
}

# ---------------------------------------------------------------------------------------------
# processes

proc_alive() { # PID: exists and is not a zombie
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  case "${st%% *}" in Z | X | x) return 1 ;; esac
}

# PIDFILE PATTERN: print the pid if it is alive and its command line contains PATTERN
# (guards against a recycled pid after a reboot or a crash).
live_pid() {
  local pid cmd
  [ -s "$1" ] || return 1
  pid=$(<"$1")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  proc_alive "$pid" || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmd == *"$2"* ]] || return 1
  echo "$pid"
}

signal_proc() { # PID SIGNAL: the whole process group when the pid leads one (setsid), else the pid
  local st pg
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  st=${st##*) }
  read -r _ _ pg _ <<<"$st"
  if [ "$pg" = "$1" ]; then kill -s "$2" -- "-$1" 2>/dev/null || true; else kill -s "$2" "$1" 2>/dev/null || true; fi
}

terminate() { # SIGNAL TIMEOUT PID...: signal, wait, escalate to SIGKILL after TIMEOUT seconds
  local sig=$1 t=$2 pid deadline left
  shift 2
  for pid in "$@"; do signal_proc "$pid" "$sig"; done
  deadline=$((SECONDS + t))
  while :; do
    left=()
    for pid in "$@"; do proc_alive "$pid" && left+=("$pid"); done
    [ ${#left[@]} -eq 0 ] && return 0
    if [ $SECONDS -ge $deadline ]; then
      [ "$sig" = KILL ] && die "pid(s) ${left[*]} survived SIGKILL"
      say "pid(s) ${left[*]} still running ${t} s after SIG$sig; sending SIGKILL"
      sig=KILL
      deadline=$((SECONDS + 10))
      for pid in "${left[@]}"; do signal_proc "$pid" KILL; done
      set -- "${left[@]}"
    fi
    sleep 0.2
  done
}

# PIDFILE LOGFILE CWD CMD...: run CMD in its own session, detached from our stdin/stdout and from
# the caller's terminal, so it survives the calling shell. Sets LAUNCHED to its pid.
launch() {
  local pidfile=$1 logfile=$2 cwd=$3
  shift 3
  # logs are appended across starts; keep one previous generation once they pass 64 MB
  if [ -f "$logfile" ] && [ "$(stat -c %s "$logfile")" -gt 67108864 ]; then mv -f "$logfile" "$logfile.1"; fi
  printf '\n===== %s scripts/%s: %s\n' "$(date '+%F %T')" "$SCRIPT" "$*" >>"$logfile"
  (cd "$cwd" && exec setsid nohup "$@") </dev/null >>"$logfile" 2>&1 3>&- 8>&- 9>&- &
  LAUNCHED=$!
  echo "$LAUNCHED" >"$pidfile"
}

check_ports() { # LABEL PORT...: refuse to start when a 127.0.0.1 port is held by something else
  local label=$1 busy p
  shift
  busy=$(python3 - "$@" <<'PY'
import socket, sys
busy = []
for p in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", int(p)))
    except OSError:
        busy.append(p)
    finally:
        s.close()
print(" ".join(busy))
PY
  )
  [ -z "$busy" ] && return 0
  for p in $busy; do
    say "127.0.0.1:$p is already in use:"
    if have ss; then ss -Hltnp "( sport = :$p )" >&2 || true; fi
  done
  die "cannot start $label: port(s) $busy taken by a process this script did not start for $label" \
    "(another broker, or a leftover one whose state dir was deleted: stop it by its pid)"
}
