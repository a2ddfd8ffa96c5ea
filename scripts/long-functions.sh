#!/usr/bin/env bash
# Functions longer than a screen (80 lines, from `fn` to its closing brace) in src/, outside
# `#[cfg(test)]` modules: the count issue 24 wants at zero.
#   scripts/long-functions.sh [MAX_LINES] [DIR]   prints `lines file:line name`, longest first,
#                                                  then the count; exits 1 when any is found.
# Reads the text only (braces in strings, chars and comments are skipped), so it needs no build.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "${1:-80}" "${2:-src}" <<'PY'
import pathlib, re, sys

limit, root = int(sys.argv[1]), pathlib.Path(sys.argv[2])
fn_re = re.compile(r'^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?(?:extern\s+"[^"]*"\s+)?fn\s+(\w+)')

def code_only(text):
    """The text with comments, strings and char literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i)); i = j
        elif text.startswith('/*', i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith('/*', j): depth += 1; j += 2
                elif text.startswith('*/', j): depth -= 1; j += 2
                else: j += 1
            out.append(''.join(ch if ch == '\n' else ' ' for ch in text[i:j])); i = j
        elif c == 'r' and re.match(r'r#*"', text[i:i + 20]) and (i == 0 or not (text[i-1].isalnum() or text[i-1] == '_')):
            m = re.match(r'r(#*)"', text[i:]); end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append(''.join(ch if ch == '\n' else ' ' for ch in text[i:j])); i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == '\\' else 1
            j += 1
            out.append(''.join(ch if ch == '\n' else ' ' for ch in text[i:j])); i = j
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^'\\])'", text[i:])
            if m:
                out.append(' ' * len(m.group(0))); i += len(m.group(0))
            else:
                out.append(c); i += 1  # a lifetime
        else:
            out.append(c); i += 1
    return ''.join(out)

found = []
for path in sorted(root.rglob('*.rs')):
    lines = code_only(path.read_text()).split('\n')
    test_depth = None  # brace depth at which a #[cfg(test)] item opened
    depth, pending_test, open_fns = 0, False, []
    for no, line in enumerate(lines, 1):
        if test_depth is None and re.match(r'\s*#\[cfg\(test\)\]', line):
            pending_test = True
        m = fn_re.match(line)
        if m and test_depth is None and not pending_test:
            open_fns.append((m.group(1), no, depth))
        for ch in line:
            if ch == '{':
                if pending_test and test_depth is None:
                    test_depth, pending_test = depth, False
                depth += 1
            elif ch == '}':
                depth -= 1
                if test_depth is not None and depth == test_depth:
                    test_depth = None
                while open_fns and open_fns[-1][2] == depth and depth >= 0:
                    name, start, _ = open_fns.pop()
                    if no - start + 1 > limit:
                        found.append((no - start + 1, f'{path}:{start}', name))
            elif ch == ';' and open_fns and open_fns[-1][2] == depth and open_fns[-1][1] <= no:
                # a declaration without a body (trait method)
                if not any(c == '{' for c in ''.join(lines[open_fns[-1][1]-1:no])):
                    open_fns.pop()
for n, where, name in sorted(found, key=lambda f: (-f[0], f[1])):
    print(f'{n:4} {where} {name}')
print(f'{len(found)} functions longer than {limit} lines')
sys.exit(1 if found else 0)
PY
