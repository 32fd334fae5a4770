#!/usr/bin/env bash
# Make sure the system packages exist: Graphviz's `dot` (pictures), bubblewrap (the sandbox
# workers run user code in), npm (installs the graph viewer's pinned library) and, with --test, what the
# test suite starts for real: Debian's chromium (browser tests) and PostgreSQL's server binaries
# (saved runs on PostgreSQL). Installs them with apt where we are root.
set -euo pipefail
need=()
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [[ "${1:-}" == "--test" ]]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
fi
[[ ${#need[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "error: missing system packages: ${need[*]}. Install them with your package manager" \
       "(Debian/Ubuntu: sudo apt-get install ${need[*]}), then run make again." >&2
  exit 1
fi
