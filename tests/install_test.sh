#!/bin/bash
# cmake --install yields a usable package: programs, man pages, the systemd
# unit, and a library that a CAF application (the top-talkers example) finds
# with find_package(stenotype) and builds against -- nothing from the source
# tree but the example's own .cpp.
#   install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1") src=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
for f in bin/stenotype bin/stenoread bin/stenotype-ctl lib/systemd/system/stenotype.service \
         share/man/man1/stenotype.1 share/man/man1/stenoread.1 include/stenotype/pipeline.hpp \
         include/stenotype/block_handle.hpp; do
  [ -e "$tmp/prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
config=$(find "$tmp/prefix" -name stenotypeConfig.cmake)
[ -n "$config" ] || { echo "no stenotypeConfig.cmake installed"; exit 1; }
mkdir -p "$tmp/app"
cat > "$tmp/app/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.22)
project(embedding_app CXX)
set(CMAKE_CXX_STANDARD 20)
find_package(stenotype 0.1 REQUIRED)
add_executable(top_talkers "$src/docs/examples/top_talkers.cpp")
target_link_libraries(top_talkers PRIVATE stenotype::stenotype)
CMAKE
cmake -S "$tmp/app" -B "$tmp/app/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release > "$tmp/configure.log" \
  || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/app/build" -j2 > "$tmp/build.log" 2>&1 || { tail -40 "$tmp/build.log"; exit 1; }
# The program it built runs: without arguments it prints its usage, exit 2.
set +e
"$tmp/app/build/top_talkers" 2> "$tmp/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "usage: top_talkers IFACE DIR SECONDS" "$tmp/err" \
  || { echo "built program: exit $rc: $(cat "$tmp/err")"; exit 1; }
echo "installed and built an embedding application against $config"
