#!/usr/bin/env bash
# Brings the C sources that benchmarks and end-to-end tests compile (SQLite's amalgamation
# from the libsqlite3-sys crate, Lua 5.4 from lua-src) through cargo, and prints where
# they are as shell assignments:
#   SQLITE_DIR=…/libsqlite3-sys-0.30.1/sqlite3
#   LUA_DIR=…/lua-src-547.0.0/lua-5.4.7
# Usage: eval "$(scripts/fetch-sources.sh)"
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
meta=$(cargo metadata --quiet --format-version 1 --manifest-path "$here/sources/Cargo.toml")
python3 - "$meta" <<'PY'
import json, os, sys, glob
meta = json.loads(sys.argv[1])
for p in meta["packages"]:
    root = os.path.dirname(p["manifest_path"])
    if p["name"] == "libsqlite3-sys":
        print(f"SQLITE_DIR={root}/sqlite3")
    elif p["name"] == "lua-src":
        src = sorted(glob.glob(f"{root}/lua-5.4*"))
        if src:
            print(f"LUA_DIR={src[-1]}")
PY
