#!/bin/sh
# Installs the Debian packages contend needs, only those missing.
#   required: a C compiler, make, CMake, pkg-config, hwloc (libhwloc-dev), and the sanitizer
#             runtimes that `make test` uses (libtsan2, libasan8, libubsan1 with gcc 12)
#   optional: peers (Concurrency Kit libck-dev, moodycamel libconcurrentqueue-dev, Boost
#             libboost-dev, TBB libtbb-dev, liburcu-dev, clang + libomp-dev), hwloc (lstopo),
#             gnuplot (charts)
# As root it runs apt-get; otherwise it uses sudo when that works without a password; otherwise
# it prints the exact command, goes on without the optional packages, and fails only when a
# required one is missing.
set -u

required="gcc make cmake pkg-config libhwloc-dev"
# The sanitizer runtimes that match the default gcc, when we can tell which one that is.
gccv=$(gcc -dumpversion 2>/dev/null | cut -d. -f1)
case "$gccv" in
  12) required="$required libtsan2 libasan8 libubsan1" ;;
  13|14) required="$required libtsan2 libasan8 libubsan1" ;;
esac
optional="libck-dev libconcurrentqueue-dev libboost-dev libtbb-dev liburcu-dev libomp-dev clang hwloc gnuplot-nox python3"

missing() {
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || printf '%s ' "$p"
  done
}

need_req=$(missing $required)
need_opt=$(missing $optional)
[ -z "$need_req$need_opt" ] && exit 0

if [ "$(id -u)" = 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo="sudo -n"
else
  echo "bootstrap: not root and no password-less sudo; please run:" >&2
  echo "  sudo apt-get install -y $need_req$need_opt" >&2
  if [ -n "$need_req" ]; then
    echo "bootstrap: required packages missing: $need_req" >&2
    exit 1
  fi
  echo "bootstrap: going on without the optional packages: $need_opt" >&2
  exit 0
fi

echo "bootstrap: installing $need_req$need_opt" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null 2>&1 || true
if [ -n "$need_req" ]; then
  $sudo apt-get install -y -qq $need_req >/dev/null || {
    echo "bootstrap: could not install required packages: $need_req" >&2
    exit 1
  }
fi
for p in $need_opt; do
  $sudo apt-get install -y -qq "$p" >/dev/null 2>&1 ||
    echo "bootstrap: optional package $p not installed; going on without it" >&2
done
exit 0
