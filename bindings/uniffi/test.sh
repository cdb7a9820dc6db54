#!/usr/bin/env bash
# Builds the uniffi cdylib, generates the Kotlin, Swift and Python bindings
# (library mode) into target/uniffi/{kotlin,swift,python}, and runs the JVM
# (Maven) and Python (unittest) tests of the generated code.
#
#   bindings/uniffi/test.sh
#
# Needs: cargo, Java 17 + Maven 3.8 (Maven Central reachable the first time),
# python3. Swift is generated only (checked to exist and be non-empty).
# Environment: CARGO_TARGET_DIR (default <repo>/target), MVN_ARGS (extra
# Maven arguments, e.g. "-o" offline). Exits non-zero on any failure; the
# last line is a summary.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
out="$target/uniffi"
start=$SECONDS

die() {
    echo "test.sh: $*" >&2
    echo "uniffi: FAILED ($*)"
    exit 1
}

case "$(uname -s)" in
    Darwin) lib_file=libcos_uniffi.dylib ;;
    *) lib_file=libcos_uniffi.so ;;
esac

cd "$root" || die "cannot cd to $root"

echo "==> cargo build (cdylib and uniffi-bindgen)"
# The generator first: it builds the library with uniffi's `cli` feature,
# which would replace the cdylib in target/debug; the plain build after it
# puts back the one built exactly as users build it.
cargo build -p companyos-uniffi --locked --features cli --bin uniffi-bindgen ||
    die "cargo build of uniffi-bindgen failed"
cargo build -p companyos-uniffi --locked || die "cargo build of the cdylib failed"

# A private copy of the cdylib: other builds share target/debug.
rm -rf "$out"
mkdir -p "$out/lib" "$out/kotlin" "$out/swift" "$out/python" || die "cannot create $out"
cp "$target/debug/$lib_file" "$out/lib/$lib_file" || die "no $lib_file in $target/debug"

echo "==> uniffi-bindgen generate (kotlin, swift, python)"
for lang in kotlin swift python; do
    "$target/debug/uniffi-bindgen" generate --no-format \
        --config "$here/bindgen.toml" \
        --language "$lang" --out-dir "$out/$lang" "$out/lib/$lib_file" ||
        die "generating $lang failed"
done
cp "$out/lib/$lib_file" "$out/python/$lib_file" || die "cannot copy the cdylib for Python"

kt_file="$out/kotlin/com/companyos/cos/cos_uniffi.kt"
swift_file="$out/swift/CompanyOS.swift"
py_file="$out/python/cos_uniffi.py"
for f in "$kt_file" "$swift_file" "$out/swift/CompanyOSFFI.h" "$py_file"; do
    [ -s "$f" ] || die "generated file $f is missing or empty"
done
swift_bytes=$(wc -c <"$swift_file")
echo "generated: $kt_file, $swift_file ($swift_bytes bytes), $py_file"

status=0

echo "==> Kotlin (mvn test)"
kotlin_dir="$here/tests/kotlin"
reports="$kotlin_dir/target/surefire-reports"
rm -rf "$reports"
t0=$SECONDS
# (Debian's Maven 3.8.7 prints stray ANSI resets even in batch mode: dropped.)
# shellcheck disable=SC2086 # MVN_ARGS is split on purpose
(cd "$kotlin_dir" && mvn -q -B -Dstyle.color=never ${MVN_ARGS:-} test \
    -Duniffi.kotlin.dir="$out/kotlin" -Duniffi.lib.dir="$out/lib" -Dcos.root="$root") 2>&1 |
    sed 's/\x1b\[0m//g'
kotlin_rc=$?
kotlin_s=$((SECONDS - t0))
# Counts from surefire's XML reports (Maven runs quietly).
read -r kt_tests kt_failed < <(python3 - "$reports" <<'EOF'
import pathlib, sys, xml.etree.ElementTree as ET
tests = failed = 0
for f in pathlib.Path(sys.argv[1]).glob("TEST-*.xml"):
    s = ET.parse(f).getroot()
    tests += int(s.get("tests", 0)) - int(s.get("skipped", 0))
    failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
print(tests, failed)
EOF
) || { kt_tests=0; kt_failed=0; }
kt_passed=$((kt_tests - kt_failed))
if [ "$kotlin_rc" -ne 0 ] || [ "$kt_tests" -eq 0 ]; then
    echo "Kotlin tests FAILED (mvn exit $kotlin_rc)" >&2
    status=1
fi

echo "==> Python (unittest)"
py_counts="$out/python-counts"
t0=$SECONDS
COS_UNIFFI_PYTHON_DIR="$out/python" python3 - "$here/tests/python" "$py_counts" <<'EOF'
import sys, unittest
tests_dir, counts = sys.argv[1], sys.argv[2]
suite = unittest.defaultTestLoader.discover(tests_dir, pattern="test_*.py", top_level_dir=tests_dir)
r = unittest.TextTestRunner(verbosity=2).run(suite)
with open(counts, "w") as f:
    f.write(f"{r.testsRun} {len(r.failures) + len(r.errors)}\n")
sys.exit(0 if r.wasSuccessful() and r.testsRun > 0 else 1)
EOF
python_rc=$?
python_s=$((SECONDS - t0))
read -r py_tests py_failed <"$py_counts" 2>/dev/null || { py_tests=0; py_failed=0; }
py_passed=$((py_tests - py_failed))
if [ "$python_rc" -ne 0 ]; then
    echo "Python tests FAILED" >&2
    status=1
fi

result=$([ "$status" -eq 0 ] && echo ok || echo FAILED)
echo "uniffi: $result: kotlin $kt_passed passed, $kt_failed failed (${kotlin_s}s); python $py_passed passed, $py_failed failed (${python_s}s); swift generated ($swift_bytes bytes); total $((SECONDS - start))s"
exit "$status"
