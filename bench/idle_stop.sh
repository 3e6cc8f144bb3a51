#!/usr/bin/env bash
# An idle capture's CPU and the time from a stop signal to exit (issue 18,
# goal 4; docs/PERFORMANCE.md, "Idle and stop").
#
#   sudo bench/idle_stop.sh [OUT.md]        (default bench/results/idle_stop.md)
#
# On a veth pair of its own (bench/lib/live.sh), default flags (no ports:
# no --control_port, --metrics_port, --query_port):
#   idle: each capturer (ours and Google's stenotype; CAPTURERS) started,
#         left without traffic for IDLE_SECS (default 30) s: CPU ms per
#         second, from the kernel's per-thread run time
#         (/proc/PID/task/*/schedstat, nanoseconds); ours also per thread.
#   stop: STOPS (default 5) times: start ours, send BURST (default 1000)
#         frames at 10,000/s, SIGINT 0.2 s after the last one, time until the
#         process has exited; the packets on disk after exit against those
#         sent (all arrived before the signal). Default --blockage_sec=10:
#         the kernel would retire the last, partly filled block only after
#         10 s.
# Also writes OUT.tsv (key, value) for bench/goals.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results/idle_stop.md}
[[ $(id -u) == 0 ]] || { echo "idle_stop.sh: run as root (veth pairs)" >&2; exit 2; }
bin=$PWD/build
work=${WORK:-/tmp/stenotype-idle-stop}
google=${GOOGLE_STENOTYPE:-/usr/sbin/stenotype}
ring_mb=""
ns=isbench gen=isbg cap=isbc
idle_secs=${IDLE_SECS:-30} stops=${STOPS:-5} burst=${BURST:-1000}
# shellcheck source=bench/lib/live.sh
source bench/lib/live.sh
mkdir -p "$(dirname "$out")"
capturers=${CAPTURERS:-"stenotype$([[ -x $google ]] && echo " google-stenotype")"}
cleanup() { [[ -n ${pid:-} ]] && kill -9 "$pid" 2>/dev/null || true; live_cleanup; }
trap cleanup EXIT
live_setup

# Run time of every thread of PID, ns ("NAME NS" lines with --threads).
run_ns() {
  local t
  for t in /proc/"$1"/task/*; do
    if [[ ${2:-} == --threads ]]; then
      echo "$(cat "$t/comm" 2>/dev/null) $(cut -d' ' -f1 "$t/schedstat" 2>/dev/null || echo 0)"
    else
      cut -d' ' -f1 "$t/schedstat" 2>/dev/null || echo 0
    fi
  done | if [[ ${2:-} == --threads ]]; then cat; else awk '{ s += $1 } END { print s + 0 }'; fi
}

start() { # NAME
  live_fresh_out "$1"
  # shellcheck disable=SC2046
  taskset -c 1 $(live_capture_cmd "$1") > "$work/err" 2>&1 &
  pid=$!
  live_wait_ready "$pid" "$work/err" "$1" || { echo "idle_stop.sh: $1 did not start" >&2; tail -5 "$work/err" >&2; exit 1; }
}

: > "$out.tsv"
{
  echo "Idle: CPU while capturing on an interface with no traffic, default flags, no ports; $idle_secs s."
  echo
  echo "| capturer | idle CPU ms / s |"
  echo "| --- | --- |"
} > "$out"
threads_table=""
for name in $capturers; do
  start "$name"
  a=$(run_ns "$pid"); [[ $name == stenotype ]] && run_ns "$pid" --threads > "$work/threads0"
  sleep "$idle_secs"
  b=$(run_ns "$pid"); [[ $name == stenotype ]] && run_ns "$pid" --threads > "$work/threads1"
  live_stop "$pid" 5; pid=""
  ms=$(awk -v a="$a" -v b="$b" -v s="$idle_secs" 'BEGIN { printf "%.2f", (b - a) / 1e6 / s }')
  echo "| $name | $ms |" >> "$out"
  printf 'idle_ms_per_s\t%s\t%s\n' "$name" "$ms" >> "$out.tsv"
  if [[ $name == stenotype ]]; then
    # Per thread (threads of one name summed), from the same two readings.
    threads_table=$(awk -v s="$idle_secs" 'NR == FNR { a[FNR] = $2; next } { t[$1] += ($2 - a[FNR]) }
      END { for (n in t) printf "| %s | %.3f |\n", n, t[n] / 1e6 / s }' "$work/threads0" "$work/threads1" | sort -t'|' -k3 -rn)
  fi
done
if [[ -n $threads_table ]]; then
  { echo; echo "Ours per thread (ms / s):"; echo; echo "| thread | ms / s |"; echo "| --- | --- |"; echo "$threads_table"; } >> "$out"
fi

# Stops: ours only (Google's stenotype does not exit after SIGINT when no
# write is outstanding: docs/OPERATIONS.md).
times=() kept_all=0 sent_all=0
for ((i = 0; i < stops; i++)); do
  start stenotype
  live_send 64 "$burst" 10000
  sleep 0.2
  s=$(date +%s.%N)
  kill -INT "$pid"
  wait "$pid" || true
  e=$(date +%s.%N)
  pid=""
  t=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')
  times+=("$t")
  kept=$(live_count_on_disk stenotype) sent=$(live_sent)
  kept_all=$((kept_all + kept)) sent_all=$((sent_all + sent))
  printf '  stop %d: %.3f s, kept %s of %s\n' "$((i + 1))" "$t" "$kept" "$sent" >&2
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
min=$(echo "$sorted" | head -1) max=$(echo "$sorted" | tail -1)
{
  echo
  echo "Stop: SIGINT 0.2 s after a burst of $burst 60 B frames, default --blockage_sec=10; $stops stops;" \
       "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| | signal to exit, s: median (min-max) | packets sent before the signal | on disk after exit |"
  echo "| --- | --- | --- | --- |"
  printf '| stenotype | %.3f (%.3f-%.3f) | %s | %s |\n' "$median" "$min" "$max" "$sent_all" "$kept_all"
} >> "$out"
printf 'stop_s_median\tstenotype\t%s\nstop_s_max\tstenotype\t%s\nstop_sent\tstenotype\t%s\nstop_kept\tstenotype\t%s\n' \
  "$median" "$max" "$sent_all" "$kept_all" >> "$out.tsv"
cat "$out"
