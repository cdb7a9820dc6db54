#!/usr/bin/env bash
# Prints the difference between this vendored copy and the published crate.
#
#   curl -sSfL https://static.crates.io/crates/regorus/regorus-0.14.1.crate | tar xz -C /tmp
#   sha256sum of the .crate: ec9c3ac0d614c8f87448b86c8ddef36c8affce3d2c5deea81b7c28c812e4bfb8
#   vendor/regorus/diff-upstream.sh /tmp/regorus-0.14.1 | diff - vendor/regorus/cos.diff
#
# No output from the last command: the vendored tree is the published crate
# plus exactly the changes in cos.diff (COS-PATCHES.md says why).
set -euo pipefail
upstream=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
for f in $(cd "$upstream" && find src -type f | sort) $(find src -type f | sort); do echo "$f"; done | sort -u |
while read -r f; do
  if [[ ! -f "$upstream/$f" ]]; then echo "Only in cos: $f"
  elif [[ ! -f "$f" ]]; then echo "Only in upstream: $f"
  else diff -u --label "upstream/$f" --label "cos/$f" "$upstream/$f" "$f" || true
  fi
done
for f in Cargo.toml build.rs; do
  diff -u --label "upstream/$f" --label "cos/$f" "$upstream/$f" "$f" || true
done
