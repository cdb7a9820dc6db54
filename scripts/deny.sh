#!/usr/bin/env bash
# cargo-deny over Cargo.lock with deny.toml (licences, advisories, bans,
# sources), offline. Installs cargo-deny at a pinned version into
# $COS_ORACLES_DIR/bin (default .oracles/, as the other oracles) when it is
# missing, and makes vendor/advisory-db the git checkout cargo-deny reads
# (see vendor/advisory-db/VENDORED.md: these machines do not reach GitHub).
#
# Cost, measured on the 2-core machine: installing cargo-deny is a cargo
# build of about 4 minutes, once; a check takes a few seconds.
set -euo pipefail
DENY_VERSION="${DENY_VERSION:-0.20.2}"
DB_COMMIT=bf5c0d245a92671908518d7e765914d437954ed6
DB_DATE=2026-08-21T08:28:40+02:00
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${COS_ORACLES_DIR:-$root/.oracles}"
bin="$dir/bin/cargo-deny"
install_only=false
[[ "${1:-}" == --install ]] && install_only=true

have=""
[[ -x "$bin" ]] && have=$("$bin" --version 2>/dev/null || true)
if [[ "$have" != "cargo-deny $DENY_VERSION" ]]; then
  echo "deny.sh: installing cargo-deny $DENY_VERSION into $dir (cargo install --locked, about 4 minutes on 2 cores)" >&2
  # Its own target dir, removed after: nothing of it is reused.
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  CARGO_TARGET_DIR="$tmp/target" cargo install --quiet --locked --root "$dir" "cargo-deny@$DENY_VERSION" >&2
fi
if $install_only; then
  echo "$bin"
  exit 0
fi

# The checkout cargo-deny opens for db-urls' URL under deny.toml's db-path.
db="$root/target/advisory-dbs/advisory-db-3157b0e258782691"
stamp="$db/.cos-snapshot"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$DB_COMMIT" ]]; then
  rm -rf "$db"
  mkdir -p "$db"
  cp -R "$root/vendor/advisory-db/." "$db/"
  git -C "$db" init --quiet
  git -C "$db" add --all
  GIT_AUTHOR_DATE="$DB_DATE" GIT_COMMITTER_DATE="$DB_DATE" \
    git -C "$db" -c user.name=cos -c user.email=cos@localhost -c commit.gpgsign=false \
    commit --quiet -m "RustSec advisory-db $DB_COMMIT (vendored snapshot)"
  echo "$DB_COMMIT" > "$stamp"
fi
cd "$root"
"$bin" --offline check --show-stats 2>&1
