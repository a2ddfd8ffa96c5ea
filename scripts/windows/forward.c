/* A Windows program that stands for one of the tools inside zig.exe: `clang-cl.exe` runs
 * `zig.exe clang --driver-mode=cl ARGS…`, `lld-link.exe` runs `zig.exe lld-link ARGS…`,
 * `llvm-lib.exe` runs `zig.exe lib ARGS…` (zig dispatches on its first argument, not on the
 * name it was started as, so a renamed copy of zig.exe does not do). scripts/windows.sh
 * builds one per tool and per zig (`-DSUBCOMMAND=L"clang --driver-mode=cl"`) into
 * target/windows-tools/zig-VERSION/bin/, next to ../ziglang/zig.exe, which it finds from its
 * own path. The rest of the command line is passed on byte for byte (no re-quoting), the
 * standard handles are inherited, and the exit code is zig's. */
#include <windows.h>
#include <stdio.h>
#include <wchar.h>

#ifndef SUBCOMMAND
#error "build with -DSUBCOMMAND=L\"…\""
#endif

/* The command line after argv[0], as CommandLineToArgvW reads argv[0]: quoted up to the next
 * quote, else up to the first space or tab. */
static const wchar_t *rest_of(const wchar_t *cmd) {
  if (*cmd == L'"') {
    cmd++;
    while (*cmd && *cmd != L'"') cmd++;
    if (*cmd) cmd++;
  } else {
    while (*cmd && *cmd != L' ' && *cmd != L'\t') cmd++;
  }
  while (*cmd == L' ' || *cmd == L'\t') cmd++;
  return cmd;
}

int wmain(void) {
  static wchar_t self[32768], zig[32768];
  DWORD n = GetModuleFileNameW(NULL, self, 32768);
  if (n == 0 || n >= 32768) return 126;
  wchar_t *slash = wcsrchr(self, L'\\');
  if (!slash) return 126;
  *slash = 0; /* self is now …\bin */
  slash = wcsrchr(self, L'\\');
  if (!slash) return 126;
  *slash = 0; /* …\zig-VERSION */
  swprintf(zig, 32768, L"%ls\\ziglang\\zig.exe", self);

  const wchar_t *rest = rest_of(GetCommandLineW());
  size_t len = wcslen(zig) + wcslen(SUBCOMMAND) + wcslen(rest) + 8;
  wchar_t *line = HeapAlloc(GetProcessHeap(), 0, len * sizeof(wchar_t));
  if (!line) return 126;
  swprintf(line, len, L"\"%ls\" %ls %ls", zig, SUBCOMMAND, rest);

  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  ZeroMemory(&si, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
  si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  /* Wine under heavy load once answered ERROR_INTERNAL_ERROR (1359) here; a second try
   * started zig. Other errors (a missing zig.exe) are final. */
  int tries = 0;
  while (!CreateProcessW(zig, line, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
    DWORD err = GetLastError();
    if (err != ERROR_INTERNAL_ERROR || ++tries == 3) {
      fwprintf(stderr, L"%ls: cannot start: error %lu\n", zig, err);
      return 127;
    }
    Sleep(200);
  }
  WaitForSingleObject(pi.hProcess, INFINITE);
  DWORD code = 1;
  GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  return (int)code;
}
