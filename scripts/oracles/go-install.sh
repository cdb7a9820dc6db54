# Sourced by the oracle scripts: `go_install_oracle NAME MODULE@VERSION DIR COST`
# builds one Go command with `go install` into DIR/bin and prints its path
# as the last line of standard output (everything else on standard error).
# GOFLAGS=-mod=mod, CGO_ENABLED=0; Go's own caches (GOMODCACHE, GOCACHE).
go_install_oracle() {
  local name=$1 module=$2 dir=$3 cost=$4
  local go_bin start
  go_bin=$(command -v go || true)
  [[ -z "$go_bin" && -x /usr/local/go/bin/go ]] && go_bin=/usr/local/go/bin/go
  if [[ -z "$go_bin" ]]; then
    echo "$name: no Go toolchain (go not on PATH, no /usr/local/go/bin/go)" >&2
    return 1
  fi
  mkdir -p "$dir/bin"
  echo "building $module with $("$go_bin" version) ($cost)" >&2
  start=$(date +%s)
  GOBIN="$dir/bin" GOFLAGS=-mod=mod CGO_ENABLED=0 "$go_bin" install "$module" >&2
  echo "built $name in $(( $(date +%s) - start )) s" >&2
  "$dir/bin/$name" version >&2 || true
  echo "$dir/bin/$name"
}
