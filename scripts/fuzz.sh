#!/usr/bin/env bash
# The libFuzzer targets of fuzz/ (docs/FUZZING.md).
#   scripts/fuzz.sh smoke [SECONDS]            every target for SECONDS (default 30) each
#   scripts/fuzz.sh run TARGET [LIBFUZZER_ARG…] one target, e.g. -max_total_time=3600
# `run` reads the committed seeds (fuzz/seeds/TARGET) and grows the working corpus in
# fuzz/corpus/TARGET (not committed); `smoke` starts each target from the seeds alone with
# libFuzzer's -seed=1, the same on every machine. A crash leaves its input in
# fuzz/artifacts/TARGET/ and makes the script fail. Needs a nightly toolchain if one is installed, otherwise the stable
# one with RUSTC_BOOTSTRAP=1 (cargo-fuzz passes -Z flags), a C++ compiler for libFuzzer, and
# cargo-fuzz (installed here, pinned, when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.1
toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly)
else
  export RUSTC_BOOTSTRAP=1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

# No sanitizer: the crate forbids unsafe code, so ASan would only halve the executions;
# panics, overflow checks (debug assertions are on) and libFuzzer's own OOM and timeout
# detection find what there is. `FUZZ_SANITIZER=address` turns it back on.
sanitizer="${FUZZ_SANITIZER:-none}"

dict_of() {
  case "$1" in
    ir_*) echo fuzz/dicts/ir.dict ;;
    rsp_* | driver_*) echo fuzz/dicts/cmdline.dict ;;
    source_*) echo fuzz/dicts/c.dict ;;
    *) echo fuzz/dicts/codeview.dict ;;
  esac
}

run_target() { # target corpus-dir libfuzzer-args…
  local t="$1" corpus="$2"; shift 2
  mkdir -p "$corpus"
  cargo "${toolchain[@]}" fuzz run --fuzz-dir fuzz -s "$sanitizer" "$t" \
    "$corpus" "fuzz/seeds/$t" -- \
    -dict="$(dict_of "$t")" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$@"
}

case "${1:-smoke}" in
  smoke)
    seconds="${2:-30}"
    cargo "${toolchain[@]}" fuzz build --fuzz-dir fuzz -s "$sanitizer"
    summary=()
    for t in $(cargo "${toolchain[@]}" fuzz list --fuzz-dir fuzz); do
      log="$(mktemp)"
      # The committed seeds alone (a fresh corpus directory) and a fixed libFuzzer seed: the
      # smoke run mutates the same way on every machine, whatever corpus earlier campaigns
      # grew here, so what CI finds is found again with the same command.
      corpus="$(mktemp -d)"
      if ! run_target "$t" "$corpus" -seed=1 -max_total_time="$seconds" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz: $t FAILED (input in fuzz/artifacts/$t/)" >&2
        exit 1
      fi
      runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
      cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1 || true)
      summary+=("$(printf '%-14s %10s runs in %ss  %s' "$t" "$runs" "$seconds" "$cov")")
      rm -rf "$log" "$corpus"
    done
    printf 'fuzz: %s\n' "${summary[@]}"
    echo "fuzz-smoke: ${#summary[@]} passed, 0 failed"
    ;;
  run)
    shift
    [ $# -ge 1 ] || { echo "usage: scripts/fuzz.sh run TARGET [LIBFUZZER_ARG…]" >&2; exit 2; }
    t="$1"; shift
    run_target "$t" "fuzz/corpus/$t" "$@"
    ;;
  *)
    echo "usage: scripts/fuzz.sh smoke [SECONDS] | run TARGET [LIBFUZZER_ARG…]" >&2
    exit 2
    ;;
esac
