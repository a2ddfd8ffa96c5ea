//! The "better than clang 22" behaviour, run: GNU-mode executables (MinGW headers and
//! CRT, lld-22) executed under wine. Native clang 22's build of the same program is run
//! too, so each test shows what goes wrong without hotpatch-cl.
//!
//! The build is hotpatch-cl's pipeline by hand: clang 19 emits optimised IR, the engine
//! rewrites it, clang 19 generates code from it without optimising again.

use crate::support::{self, Dir};

use std::path::Path;

const GNU: [&str; 2] = ["--target=x86_64-w64-windows-gnu", "--sysroot=/usr"];

/// Runs `exe` in `dir` under Wine (the tests' shared private prefix); returns its stdout.
fn wine(dir: &Path, exe: &str) -> String {
    let out = support::e2e::wine(dir, &dir.join(exe), &[]);
    assert!(
        out.status.success(),
        "wine {exe} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).replace('\r', "")
}

/// Builds `sources` into `exe` the hotpatch-cl way, hot-patching `functions`.
fn build_ours(dir: &Path, sources: &[&str], functions: &str, exe: &str) {
    let hp = support::our_bin("hotpatch");
    let mut objs = Vec::new();
    for src in sources {
        let stem = Path::new(src).file_stem().unwrap().to_str().unwrap();
        let (ll, ours, obj) = (
            format!("{stem}.ll"),
            format!("{stem}.ours.ll"),
            format!("{stem}.o"),
        );
        let mut a = GNU.to_vec();
        a.extend(["-O2", "-S", "-emit-llvm", src, "-o", &ll]);
        support::run_ok(dir, "clang-19", &a);
        let list = format!("--ms-hotpatch-functions-list={functions}");
        support::run_ok(
            dir,
            hp.to_str().unwrap(),
            &["rewrite", &ll, "-o", &ours, &list],
        );
        let mut a = GNU.to_vec();
        a.extend([
            "-c",
            "-O2",
            "-Xclang",
            "-disable-llvm-optzns",
            "-x",
            "ir",
            &ours,
            "-o",
            &obj,
        ]);
        support::run_ok(dir, "clang-19", &a);
        objs.push(obj);
    }
    let mut a = GNU.to_vec();
    a.push("-fuse-ld=lld-22");
    a.extend(objs.iter().map(String::as_str));
    a.extend(["-o", exe]);
    support::run_ok(dir, "clang-19", &a);
}

/// Builds `sources` into `exe` with clang 22's own hot-patching; returns the link result.
fn build_native(dir: &Path, sources: &[&str], functions: &str, exe: &str) -> std::process::Output {
    let list = format!("-fms-secure-hotpatch-functions-list={functions}");
    let mut a = GNU.to_vec();
    a.extend(["-O2", "-fuse-ld=lld-22", &list]);
    a.extend_from_slice(sources);
    a.extend(["-o", exe]);
    support::run(dir, "clang-22", &a)
}

const TLS_C: &str = r#"#include <windows.h>
#include <stdio.h>
_Thread_local int tls_value = 1;
/* Hot-patched; kept out of line so every caller runs the patched code. */
__attribute__((noinline)) int read_tls(void) { return tls_value; }
static DWORD WINAPI worker(LPVOID arg) {
  tls_value = (int)(INT_PTR)arg;
  Sleep(20); /* both threads have stored their value before either reads */
  return (DWORD)read_tls();
}
int main(void) {
  tls_value = 7;
  HANDLE t[2];
  for (int i = 0; i < 2; i++)
    t[i] = CreateThread(NULL, 0, worker, (LPVOID)(INT_PTR)(100 * (i + 1)), 0, NULL);
  WaitForMultipleObjects(2, t, TRUE, INFINITE);
  DWORD a = 0, b = 0;
  GetExitCodeThread(t[0], &a);
  GetExitCodeThread(t[1], &b);
  printf("main=%d t1=%lu t2=%lu\n", read_tls(), a, b);
  return 0;
}
"#;

#[test]
fn hot_patched_function_reads_each_threads_own_thread_local() {
    let dir = Dir::new(&[("tls.c", TLS_C)]);
    let d = dir.root();

    // clang 22: the hot-patched function reads the TLS template (the initial value 1).
    let native = build_native(d, &["tls.c"], "read_tls", "native.exe");
    assert!(native.status.success(), "{native:?}");
    assert_eq!(wine(d, "native.exe"), "main=1 t1=1 t2=1\n");

    build_ours(d, &["tls.c"], "read_tls", "ours.exe");
    assert_eq!(wine(d, "ours.exe"), "main=7 t1=100 t2=200\n");
}

const T1_C: &str = "static int s_counter = 10;\nint bump1(void) { return ++s_counter; }\n";
const T2_C: &str = r#"#include <stdio.h>
static int s_counter = 100;
__attribute__((noinline)) int bump2(void) { return ++s_counter; }
int bump1(void);
int main(void) {
  int a = bump1();
  int b = bump2();
  int c = bump1();
  printf("%d %d %d\n", a, b, c);
  return 0;
}
"#;

#[test]
fn same_named_statics_link_and_stay_separate() {
    let dir = Dir::new(&[("t1.c", T1_C), ("t2.c", T2_C)]);
    let d = dir.root();

    // clang 22 in GNU mode: lld (MinGW mode) links the two weak `__ref_s_counter`s into
    // one, so bump2's patch-ready code uses t1.c's variable (in MSVC mode lld-link stops
    // with a duplicate symbol instead: tests/better.rs).
    let native = build_native(d, &["t1.c", "t2.c"], "bump1,bump2", "native.exe");
    assert!(native.status.success(), "{native:?}");
    assert_eq!(wine(d, "native.exe"), "11 12 13\n");

    build_ours(d, &["t1.c", "t2.c"], "bump1,bump2", "ours.exe");
    assert_eq!(wine(d, "ours.exe"), "11 101 12\n");
}
