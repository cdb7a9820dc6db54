#!/usr/bin/env bash
# promtool, the oracle for cos-pdp's /metrics (`promtool check metrics`):
# Debian's `prometheus` package (2.42 on these machines), installed once with
# apt when promtool is missing. Prints promtool's path as its last line of
# standard output; everything else goes to standard error. The package
# starts no service here (no systemd); nothing listens after the install.
#
# Cost, measured on the 2-core machine: about 20 s with apt's lists present,
# nothing when promtool is already on PATH.
set -euo pipefail
if p=$(command -v promtool); then
  echo "$p"
  exit 0
fi
sudo=()
[[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
install() { "${sudo[@]}" apt-get install -y --no-install-recommends prometheus >&2; }
install || { "${sudo[@]}" apt-get update >&2 && install; } || {
  echo "promtool.sh: cannot install Debian's prometheus package (apt-get install prometheus); install promtool and put it on PATH" >&2
  exit 1
}
command -v promtool
