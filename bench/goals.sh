#!/usr/bin/env bash
# Issue 18's goals, each with ours against the peers, the ratio and a
# verdict, from the results files the benchmarks wrote (bench/run.sh runs
# them all, then this):
#
#   bench/goals.sh [RESULTS_DIR]         (default bench/results; prints, and writes RESULTS_DIR/goals.md)
#
#   1. live.md (bench/live_bench.sh): CPU s per million 64 B packets, index
#      on, ours vs Google's stenotype (<= 0.25x) and tcpdump (stretch: <=);
#      index.md (index_bench): memory B/packet with 400k distinct flows (<= 12).
#   2. quota_sweep.md.tsv (bench/quota_sweep.sh): the smallest lossless CPU
#      quota, ours <= 1/4 of Google's and <= every peer's, 60 B and 1514 B.
#   3. query.md (bench/query_bench.sh): 'host H and port P' >= 50x tcpdump -r,
#      'tcp' >= 1x, export >= 90% of the disk's sequential read.
#   4. idle_stop.md.tsv (bench/idle_stop.sh): idle <= 1 ms CPU/s, stop -> exit
#      <= 1 s, every packet sent before the signal on disk.
#   5. quota_sweep.md.tsv: ours with 4 queries running, the same quota as
#      without (within the sweep's resolution: +1 point, or +10% above 10%).
# A file that is missing or does not parse gives "not measured" (the
# parsing is tolerant: the tables' columns are found by their headings).
set -uo pipefail
cd "$(dirname "$0")/.."
r=${1:-bench/results}
out=$r/goals.md

row() { printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5"; }
verdict() { if [[ $1 == 1 ]]; then echo "**MET**"; elif [[ $1 == 0 ]]; then echo "**NOT MET**"; else echo "not measured"; fi; }
num() { [[ ${1:-} =~ ^[0-9]+([.][0-9]+)?$ ]]; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; } # a <= b
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

# A markdown table cell by column heading: cell FILE ROW_REGEX COLUMN_REGEX
# (first row whose cells match ROW_REGEX, in the first table with that column).
cell() {
  awk -F'|' -v rowre="$2" -v colre="$3" '
    /^\|/ {
      if (!col) { for (i = 2; i < NF; i++) if ($i ~ colre) col = i; next }
      line = $0
      if (line ~ rowre) { v = $col; gsub(/^ +| +$/, "", v); gsub(/\*/, "", v); print v; exit }
      next
    }
    !/^\|/ { if (col && seen) col = 0; seen = col ? 1 : 0 }' "$1" 2>/dev/null
}
first_number() { grep -oE '[0-9]+([.][0-9]+)?' | head -1; }

{
  echo "Issue 18 goals, from $(realpath "$r") ($(date -u +%Y-%m-%dT%H:%MZ); $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  echo
  echo "| goal | ours | peers | ratio | verdict |"
  echo "| --- | --- | --- | --- | --- |"

  # --- 1. CPU per 64 B packet, index on
  live=$r/live.md
  ours=$(cell "$live" '\| 64 B[^|]*\| stenotype \|' 'CPU s / Mpkt' | first_number)
  goog=$(cell "$live" '\| 64 B[^|]*\| google-stenotype \|' 'CPU s / Mpkt' | first_number)
  tcpd=$(cell "$live" '\| 64 B[^|]*\| tcpdump \|' 'CPU s / Mpkt' | first_number)
  if num "$ours" && num "$goog"; then
    v=$(le "$ours" "$(awk -v g="$goog" 'BEGIN { print 0.25 * g }')" && echo 1 || echo 0)
    s=""; num "$tcpd" && s="; stretch (<= tcpdump $tcpd): $(le "$ours" "$tcpd" && echo met || echo not met)"
    row "1. CPU s per M 64 B packets, index on (<= 0.25x Google's)" "$ours" "Google's $goog, tcpdump ${tcpd:--}" "$(ratio "$ours" "$goog")" "$(verdict "$v")$s"
  else
    row "1. CPU s per M 64 B packets, index on (<= 0.25x Google's)" "-" "-" "-" "not measured ($live)"
  fi
  # Index memory with 400k distinct flows: index_bench's "stenotype (this)" row
  # before a "unique frames=N" line with N >= 400000.
  mem=$(awk -F'|' '/^\| stenotype \(this\)/ { m = $(NF - 1); gsub(/ /, "", m) }
                   /unique frames=/ { if (match($0, /unique frames=[0-9]+/)) { n = substr($0, RSTART + 14, RLENGTH - 14) + 0; if (n >= 400000 && m != "") { print m; exit } } }' "$r/index.md" 2>/dev/null)
  base=$(awk -F'|' '/^\| baseline/ { m = $(NF - 1); gsub(/ /, "", m) }
                   /unique frames=/ { if (match($0, /unique frames=[0-9]+/)) { n = substr($0, RSTART + 14, RLENGTH - 14) + 0; if (n >= 400000 && m != "") { print m; exit } } }' "$r/index.md" 2>/dev/null)
  if num "$mem"; then
    row "1. index memory B/packet, 400k distinct flows (<= 12)" "$mem" "std::map baseline ${base:--}" "-" "$(verdict "$(le "$mem" 12 && echo 1 || echo 0)")"
  else
    row "1. index memory B/packet, 400k distinct flows (<= 12)" "-" "-" "-" "not measured ($r/index.md: no 400k-flow run)"
  fi

  # --- 2. and 5. the quota sweep
  qs=$r/quota_sweep.md.tsv
  quota() { awk -F'\t' -v c="$1" -v m="$2" '$1 == c && $2 == m { print $3 }' "$qs" 2>/dev/null | tail -1; }
  for mix in 64 1514; do
    label="2. smallest lossless CPU quota, $((mix == 64 ? 60 : mix)) B (<= 1/4 Google's, <= every peer's)"
    o=$(quota stenotype "$mix")
    if [[ -z $o ]]; then row "$label" "-" "-" "-" "not measured ($qs)"; continue; fi
    peers="" ok=1 gr="-"
    for p in google-stenotype tcpdump netsniff-ng; do
      q=$(quota "$p" "$mix")
      [[ -z $q ]] && continue
      peers+="${peers:+, }$p ${q}%"
      # A peer lossless at no quota (">100") is beaten by any figure of ours.
      if num "$o"; then
        if num "$q"; then
          le "$o" "$q" || ok=0
          [[ $p == google-stenotype ]] && { gr=$(ratio "$o" "$q"); le "$(awk -v o="$o" 'BEGIN { print 4 * o }')" "$q" || ok=0; }
        fi
      else
        ok=0
      fi
    done
    [[ $(quota google-stenotype "$mix") == "" ]] && ok=x
    ni=$(quota stenotype-noindex "$mix")
    row "$label" "${o}%${ni:+ (--no_index: ${ni}%)}" "${peers:--}" "$gr vs Google's" "$(verdict "$ok")"
  done

  # --- 3. queries
  qf=$r/query.md
  sel=$(awk -F'|' '/^\| *host [^|]* and port/ { print $(NF - 1); exit }' "$qf" 2>/dev/null | first_number)
  brd=$(awk -F'|' '/^\| *tcp *\|/ { print $(NF - 1); exit }' "$qf" 2>/dev/null | first_number)
  exp=$(grep -oE 'export / the faster: [0-9]+([.][0-9]+)?%' "$qf" 2>/dev/null | head -1 | first_number)
  size=$(grep -oE '[0-9]+ MiB pcap' "$qf" 2>/dev/null | head -1)
  if num "$sel"; then row "3. 'host H and port P' vs tcpdump -r, cold (>= 50x at 10 GB)" "${sel}x faster" "tcpdump -r" "${sel}x" "$(verdict "$(le 50 "$sel" && echo 1 || echo 0)")${size:+ (data: $size)}"
  else row "3. 'host H and port P' vs tcpdump -r, cold (>= 50x at 10 GB)" "-" "-" "-" "not measured ($qf)"; fi
  if num "$brd"; then row "3. broad 'tcp' vs tcpdump -r (never slower)" "${brd}x" "tcpdump -r" "${brd}x" "$(verdict "$(le 1 "$brd" && echo 1 || echo 0)")"
  else row "3. broad 'tcp' vs tcpdump -r (never slower)" "-" "-" "-" "not measured ($qf)"; fi
  if num "$exp"; then row "3. export vs the disk's sequential read (>= 90%)" "${exp}%" "the faster of dd and fio (O_DIRECT, depth 16)" "-" "$(verdict "$(le 90 "$exp" && echo 1 || echo 0)")"
  else row "3. export vs the disk's sequential read (>= 90%)" "-" "-" "-" "not measured ($qf)"; fi

  # --- 4. idle and stop
  is=$r/idle_stop.md.tsv
  val() { awk -F'\t' -v k="$1" -v c="$2" '$1 == k && $2 == c { print $3 }' "$is" 2>/dev/null | tail -1; }
  idle=$(val idle_ms_per_s stenotype) gidle=$(val idle_ms_per_s google-stenotype)
  if num "$idle"; then row "4. idle CPU, no ports (<= 1 ms/s)" "$idle ms/s" "Google's ${gidle:--} ms/s" "$(num "$gidle" && ratio "$idle" "$gidle" || echo -)" "$(verdict "$(le "$idle" 1 && echo 1 || echo 0)")"
  else row "4. idle CPU, no ports (<= 1 ms/s)" "-" "-" "-" "not measured ($is)"; fi
  smax=$(val stop_s_max stenotype) smed=$(val stop_s_median stenotype) sent=$(val stop_sent stenotype) kept=$(val stop_kept stenotype)
  if num "$smax"; then
    v=$(le "$smax" 1 && [[ $sent == "$kept" && ${sent:-0} -gt 0 ]] && echo 1 || echo 0)
    row "4. stop -> exit at default flags (<= 1 s, every packet kept)" "max $(printf '%.2f' "$smax") s (median $(printf '%.2f' "$smed")); kept $kept of $sent" "Google's: does not exit after SIGINT" "-" "$(verdict "$v")"
  else row "4. stop -> exit at default flags (<= 1 s, every packet kept)" "-" "-" "-" "not measured ($is)"; fi

  # --- 5. quota sweep with 4 queries running
  for kind in stenoread service; do
    for mix in 64 1514; do
      label="5. lossless quota with 4 $kind queries running, $((mix == 64 ? 60 : mix)) B (the same as without)"
      o=$(quota stenotype "$mix") w=$(quota "stenotype + 4 $kind queries" "$mix")
      if num "$o" && num "$w"; then
        tol=$(awk -v o="$o" 'BEGIN { t = o >= 10 ? o * 1.1 : o + 1; print t }')
        row "$label" "${w}%" "without queries ${o}%" "$(ratio "$w" "$o")" "$(verdict "$(le "$w" "$tol" && echo 1 || echo 0)")"
      else
        row "$label" "${w:--}" "without queries ${o:--}" "-" "not measured ($qs)"
      fi
    done
  done
} > "$out"
cat "$out"
