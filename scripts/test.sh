#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit, golden and end-to-end tests.
# Nothing is skipped: a test whose tool is missing fails and names the package to install.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all -- --check
# No function in src/ longer than a screen (80 lines), tests left out.
scripts/long-functions.sh >/dev/null || { scripts/long-functions.sh; exit 1; }
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
