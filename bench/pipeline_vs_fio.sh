#!/usr/bin/env bash
# The offline pipeline (pre-built blocks from memory -> index + O_DIRECT
# write, the real writer and indexer actors, no NIC) next to the disk's own
# sequential O_DIRECT write bandwidth measured by fio, same directory, same
# amount, interleaved run by run (docs/PERFORMANCE.md).
#   bench/pipeline_vs_fio.sh [GIB] [REPS] [OUT.md] [DIR]
# defaults: 2 GiB a run, 3 repetitions, bench/results/pipeline.md, /var/tmp/stenotype-pipeline-bench
set -euo pipefail
cd "$(dirname "$0")/.."
gib=${1:-2}
reps=${2:-3}
out=${3:-bench/results/pipeline.md}
dir=${4:-/var/tmp/stenotype-pipeline-bench}
bin=$PWD/build/bench
mkdir -p "$dir" "$(dirname "$out")"
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
fio_mbps() {
  rm -rf "${dir:?}"/*
  fio --name=seqwrite --directory="$dir" --rw=write --bs=1M --size="${gib}G" --direct=1 \
      --ioengine=libaio --iodepth=32 --end_fsync=1 --output-format=json 2>/dev/null |
    python3 -c 'import json, sys; print(round(json.load(sys.stdin)["jobs"][0]["write"]["bw_bytes"] / 1e6))'
}
# -> "| mix | index | packets | GiB | s | Mpkt/s | MB/s | writer CPU s | indexer CPU s | process CPU s |"
pipeline() { rm -rf "${dir:?}"/*; "$bin/pipeline_bench" --dir "$dir" --gib "$gib" --mix "$1" $2; }

{
  echo "| frames | fio O_DIRECT write MB/s | pipeline, index on: MB/s (% of fio) | Mpkt/s | CPU s / Mpkt (writer + indexer) | pipeline, --no_index: MB/s (% of fio) | Mpkt/s |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
} > "$out"
for mix in 1514 imix 64; do
  fios=() ons=() offs=()
  for ((r = 0; r < reps; r++)); do
    fios+=("$(fio_mbps)")
    ons+=("$(pipeline "$mix" "")")
    offs+=("$(pipeline "$mix" --no_index)")
  done
  col() { local c=$1; shift; printf '%s\n' "$@" | awk -F'|' -v c="$c" '{ gsub(/ /, "", $c); print $c }'; }
  f=$(printf '%s\n' "${fios[@]}" | median)
  on_mb=$(col 8 "${ons[@]}" | median) on_pps=$(col 7 "${ons[@]}" | median)
  off_mb=$(col 8 "${offs[@]}" | median) off_pps=$(col 7 "${offs[@]}" | median)
  # CPU per million packets of the writer and indexer threads, median run.
  on_cpu=$(printf '%s\n' "${ons[@]}" | awk -F'|' '{ gsub(/ /, ""); print ($9 + $10) / ($4 / 1e6) }' | median)
  printf "| %s | %s | %s (%.0f%%) | %s | %.3f | %s (%.0f%%) | %s |\n" "$mix" "$f" "$on_mb" \
    "$(echo "100 * $on_mb / $f" | bc -l)" "$on_pps" "$on_cpu" "$off_mb" "$(echo "100 * $off_mb / $f" | bc -l)" \
    "$off_pps" | tee -a "$out"
done
rm -rf "${dir:?}"
echo "fio: --rw=write --bs=1M --direct=1 --ioengine=libaio --iodepth=32 --end_fsync=1, ${gib} GiB; pipeline: ${gib} GiB of 1 MiB blocks, ring of 256 blocks, aiops 128; medians of $reps interleaved runs" >> "$out"
echo "written to $out"
