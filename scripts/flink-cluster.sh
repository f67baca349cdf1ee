#!/usr/bin/env bash
# A standalone Flink cluster on loopback for weir's Flink-target tests: one
# JobManager and two TaskManagers, started with the scripts that the
# apache-flink Python package ships (pyflink/bin), on Java 17.
#
#   scripts/flink-cluster.sh start   writes a config with free ports and small
#                                    memory sizes, starts the JVMs, waits until
#                                    both TaskManagers have registered and prints
#                                    the target, flink://127.0.0.1:PORT
#   scripts/flink-cluster.sh target  prints the target of the running cluster
#   scripts/flink-cluster.sh stop    stops the JVMs by their recorded pids
#                                    (TERM, then KILL after 20 s) and checks that
#                                    none is left
#
# Environment: FLINK_PYTHON (default bench/.venv-pyflink/bin/python), the Python
# with apache-flink, which also runs the TaskManagers' Python workers;
# FLINK_CLUSTER_DIR (default /tmp/weir-flink-cluster), where the config, logs
# (the TaskManagers' print output is in log/*taskexecutor*.out) and pids go;
# JAVA_HOME (default: the first Java 17 found).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FLINK_PYTHON="${FLINK_PYTHON:-$ROOT/bench/.venv-pyflink/bin/python}"
DIR="${FLINK_CLUSTER_DIR:-/tmp/weir-flink-cluster}"
TASKMANAGERS=2

die() { echo "flink-cluster: $*" >&2; exit 1; }

java17() {
  if [ -n "${JAVA_HOME:-}" ]; then echo "$JAVA_HOME"; return; fi
  for d in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk* /usr/lib/jvm/temurin-17*; do
    if [ -x "$d/bin/java" ]; then echo "$d"; return; fi
  done
  die "no Java 17 found under /usr/lib/jvm; set JAVA_HOME to a Java 17"
}

flink_home() {
  [ -x "$FLINK_PYTHON" ] || die "$FLINK_PYTHON is not an executable; set FLINK_PYTHON to a Python with apache-flink 2.3 (make conformance-record creates bench/.venv-pyflink)"
  "$FLINK_PYTHON" -c 'import os, pyflink; print(os.path.dirname(os.path.abspath(pyflink.__file__)))' ||
    die "$FLINK_PYTHON has no apache-flink: pip install apache-flink==2.3.0"
}

free_ports() { # prints $1 free TCP ports of 127.0.0.1
  "$FLINK_PYTHON" - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

env_for_scripts() {
  export JAVA_HOME; JAVA_HOME="$(java17)"
  export PATH="$JAVA_HOME/bin:$PATH"
  export FLINK_CONF_DIR="$DIR/conf" FLINK_LOG_DIR="$DIR/log" FLINK_PID_DIR="$DIR/pid" FLINK_LIB_DIR="$DIR/lib"
  # find-flink-home.sh asks this Python where pyflink is.
  export PYFLINK_PYTHON="$FLINK_PYTHON"
  FLINK_IDENT_STRING="weir"; export FLINK_IDENT_STRING
}

rest_get() { # rest_get PATH: the JSON of the REST endpoint, or nothing
  "$FLINK_PYTHON" - "http://127.0.0.1:$(cat "$DIR/rest-port")$1" <<'EOF' 2>/dev/null || true
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
EOF
}

pids() { cat "$DIR"/pid/*.pid 2>/dev/null || true; }

start() {
  if [ -f "$DIR/rest-port" ] && [ -n "$(pids)" ]; then
    for p in $(pids); do
      kill -0 "$p" 2>/dev/null && die "a cluster is already running from $DIR (pid $p); run '$0 stop' first"
    done
  fi
  local home; home="$(flink_home)"
  rm -rf "$DIR"; mkdir -p "$DIR/conf" "$DIR/log" "$DIR/pid" "$DIR/tmp"
  cp "$home"/conf/log4j*.properties "$home"/conf/logback*.xml "$DIR/conf/"
  # Python functions run in operators of flink-python, which the package keeps
  # in opt/: the cluster's lib is the package's plus that jar (as Flink's
  # documentation says to set up a cluster for PyFlink jobs).
  mkdir -p "$DIR/lib"
  ln -s "$home"/lib/*.jar "$home"/opt/flink-python-*.jar "$DIR/lib/"
  local ports rpc rest
  ports="$(free_ports 2)"; rpc="${ports% *}"; rest="${ports#* }"
  # Flink's own java options (module opens) come from the shipped config.
  local java_opts
  java_opts="$(sed -n 's/^ *all: *\(--add.*\)$/\1/p' "$home/conf/config.yaml" | head -1)"
  cat >"$DIR/conf/config.yaml" <<EOF
# Written by scripts/flink-cluster.sh: a loopback cluster for tests.
env:
  java:
    opts:
      all: $java_opts
jobmanager:
  bind-host: 127.0.0.1
  rpc:
    address: 127.0.0.1
    port: $rpc
  memory:
    process:
      size: 768m
  execution:
    failover-strategy: region
taskmanager:
  bind-host: 127.0.0.1
  host: 127.0.0.1
  numberOfTaskSlots: 1
  memory:
    process:
      size: 1024m
    managed:
      size: 128m
parallelism:
  default: 2
rest:
  address: 127.0.0.1
  bind-address: 127.0.0.1
  port: $rest
io:
  tmp:
    dirs: $DIR/tmp
blob:
  server:
    port: "0"
python:
  executable: $FLINK_PYTHON
  client:
    executable: $FLINK_PYTHON
EOF
  echo "$rest" >"$DIR/rest-port"
  env_for_scripts
  "$home/bin/jobmanager.sh" start >"$DIR/log/start.txt" 2>&1 || { cat "$DIR/log/start.txt" >&2; die "the JobManager did not start"; }
  for _ in $(seq $TASKMANAGERS); do
    "$home/bin/taskmanager.sh" start >>"$DIR/log/start.txt" 2>&1 || { cat "$DIR/log/start.txt" >&2; die "a TaskManager did not start"; }
  done
  # Ready when the REST API lists both TaskManagers.
  local n=0
  for _ in $(seq 120); do
    n="$(rest_get /taskmanagers | "$FLINK_PYTHON" -c 'import json,sys
try: print(len(json.load(sys.stdin)["taskmanagers"]))
except Exception: print(0)')"
    [ "$n" = "$TASKMANAGERS" ] && break
    for p in $(pids); do kill -0 "$p" 2>/dev/null || { tail -n 30 "$DIR"/log/*.log >&2; stop; die "a JVM (pid $p) exited during start; its log is above"; }; done
    sleep 1
  done
  [ "$n" = "$TASKMANAGERS" ] || { stop; die "the cluster did not become ready in 120 s (logs in $DIR/log)"; }
  echo "flink://127.0.0.1:$rest"
}

stop() {
  local all; all="$(pids)"
  [ -n "$all" ] || { echo "flink-cluster: no cluster recorded in $DIR" >&2; return 0; }
  for p in $all; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 20); do
    local alive=""
    for p in $all; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
    [ -z "$alive" ] && break
    sleep 1
  done
  for p in $all; do kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in $all; do
    kill -0 "$p" 2>/dev/null && die "JVM pid $p is still alive after KILL"
  done
  rm -f "$DIR"/pid/*.pid
  echo "flink-cluster: stopped ($(echo $all | wc -w) JVMs)" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  target) [ -f "$DIR/rest-port" ] || die "no cluster in $DIR"; echo "flink://127.0.0.1:$(cat "$DIR/rest-port")" ;;
  *) echo "usage: $0 start|stop|target" >&2; exit 2 ;;
esac
