#!/usr/bin/env bash
# SBOM generation beside @cyclonedx/cdxgen on the same npm lockfile: time and
# the component set (purls) each finds. Writes nothing into the repository;
# prints a Markdown table for docs/benchmarks.md.
#
#   benches/sbom/run.sh [package-lock.json]
#   COS_BIN=target/release/cos CDXGEN_PREFIX=/tmp/cdxgen RUNS=5 benches/sbom/run.sh lock.json
#
# Without an argument it makes a lockfile of a few hundred popular packages
# (about 1,000 installed packages) with `npm install --package-lock-only`
# (npm registry access needed, no install scripts run). cdxgen is installed
# with npm into a temporary prefix at the version pinned below.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
CDXGEN_VERSION=${CDXGEN_VERSION:-12.8.4}
RUNS=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# COS_BIN: a cos binary already built (e.g. a release build); else one is built.
if [[ -n "${COS_BIN:-}" ]]; then
  cos=$COS_BIN
else
  cargo build --release -p cos-cli --locked --quiet
  cos="$root/target/release/cos"
fi

if [[ $# -ge 1 ]]; then
  mkdir -p "$work/project"
  cp "$1" "$work/project/package-lock.json"
  lock_src="$1"
else
  mkdir -p "$work/project"
  cd "$work/project"
  pkgs=(express react react-dom next webpack typescript eslint jest @babel/core @babel/preset-env
        lodash axios moment dayjs chalk commander yargs inquirer debug uuid
        mongoose sequelize pg mysql2 redis ioredis socket.io ws graphql @apollo/server
        aws-sdk @aws-sdk/client-s3 firebase-admin stripe nodemailer passport jsonwebtoken bcryptjs
        winston pino morgan helmet cors dotenv rxjs zod joi yup
        vue @vue/compiler-sfc @angular/core svelte vite rollup esbuild prettier
        sass postcss tailwindcss autoprefixer styled-components @mui/material @emotion/react
        puppeteer-core cheerio jsdom sharp canvas-confetti date-fns luxon ramda immutable)
  npm init -y >/dev/null
  npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error "${pkgs[@]}" >/dev/null
  lock_src="generated: npm install --package-lock-only of ${#pkgs[@]} popular packages"
  cd "$root"
fi
lock="$work/project/package-lock.json"
installed=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for k in d["packages"] if k))' "$lock")

# CDXGEN_PREFIX: an npm prefix where that cdxgen version is already installed.
prefix=${CDXGEN_PREFIX:-$work/cdxgen}
if [[ ! -x "$prefix/node_modules/.bin/cdxgen" ]]; then
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "@cyclonedx/cdxgen@$CDXGEN_VERSION" >/dev/null
fi
cdxgen="$prefix/node_modules/.bin/cdxgen"

# median TIME_CMD...: median wall time in ms of RUNS runs.
median() {
  local times=()
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

export SOURCE_DATE_EPOCH=1700000000
t_cos=$(median "$cos" sbom --npm "$lock" -o "$work/cos.json")
t_cos_dev=$(median "$cos" sbom --npm "$lock" --include-dev -o "$work/cos-dev.json")
t_cdx=$(median env FETCH_LICENSE=false "$cdxgen" -t npm --no-recurse --no-install-deps -o "$work/cdxgen.json" "$work/project")

purls() { python3 - "$1" <<'PY'
import json, sys, urllib.parse
d = json.load(open(sys.argv[1]))
def norm(p):
    p = p.split("?")[0].split("#")[0]
    return urllib.parse.unquote(p)
print("\n".join(sorted({norm(c["purl"]) for c in d.get("components", []) if c.get("purl")})))
PY
}
purls "$work/cos-dev.json" > "$work/cos.purls"
purls "$work/cdxgen.json" > "$work/cdx.purls"
both=$(comm -12 "$work/cos.purls" "$work/cdx.purls" | wc -l)
only_cos=$(comm -23 "$work/cos.purls" "$work/cdx.purls" | wc -l)
only_cdx=$(comm -13 "$work/cos.purls" "$work/cdx.purls" | wc -l)
n_cos=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["components"]))' "$work/cos.json")
n_cos_dev=$(wc -l < "$work/cos.purls")
n_cdx=$(wc -l < "$work/cdx.purls")

echo "lockfile: $lock_src ($installed entries in packages)"
echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d)"
echo
echo "| tool | command | median of $RUNS (ms) | components |"
echo "|---|---|---|---|"
echo "| cos $("$cos" --version | cut -d' ' -f2) | \`cos sbom --npm package-lock.json\` (dev left out) | $t_cos | $n_cos |"
echo "| cos | \`cos sbom --npm package-lock.json --include-dev\` | $t_cos_dev | $n_cos_dev purls |"
echo "| cdxgen $CDXGEN_VERSION | \`cdxgen -t npm --no-recurse --no-install-deps\` (FETCH_LICENSE=false) | $t_cdx | $n_cdx purls |"
echo
echo "same component set (purls without qualifiers, cos --include-dev vs cdxgen): $both in both, $only_cos only in cos, $only_cdx only in cdxgen"
if (( only_cos + only_cdx > 0 )); then
  echo "only in cos:";    comm -23 "$work/cos.purls" "$work/cdx.purls" | head -n 10
  echo "only in cdxgen:"; comm -13 "$work/cos.purls" "$work/cdx.purls" | head -n 10
fi
