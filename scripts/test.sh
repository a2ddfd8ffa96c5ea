#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit, golden and end-to-end tests.
# Nothing is skipped: HOTPATCH_REQUIRE_TOOLS=1 turns a missing tool into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export HOTPATCH_REQUIRE_TOOLS=1
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
