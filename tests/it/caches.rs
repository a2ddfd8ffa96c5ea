//! hotpatch-cl with the real ccache, sccache and distcc, behind it (`HOTPATCH_LAUNCHER`,
//! `hotpatch-cl ccache clang-19 …`) and in front of it (the cache calls hotpatch-cl installed
//! as `clang`/`clang-cl`).
//!
//! Every cache gets a private directory, the sccache server a private port (stopped at the
//! end, also on failure), distccd listens on 127.0.0.1 only, on a private port, and is
//! stopped at the end. What is asserted comes from the tools themselves
//! (`ccache --print-stats`, `sccache --show-stats`, distccd's log) and from the objects
//! (llvm-readobj-22: the S_HOTPATCHFUNC records).

use crate::support::{self, objects};
use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime};

const GNU: &str = "--target=x86_64-w64-windows-gnu";

const SOURCE: &str = "int counter;\n\
int first(int x) { counter += x; return counter; }\n\
int second(int x) { counter -= x; return counter * 3; }\n";

/// A scratch directory with `a.c`, `plain.c`, `hot.txt` naming `first`, and private cache
/// directories.
struct Scratch {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.c"), SOURCE).unwrap();
        std::fs::write(
            dir.path().join("plain.c"),
            "int twice(int x) { return 2 * x; }\n",
        )
        .unwrap();
        let s = Scratch {
            env: vec![
                (
                    "CCACHE_DIR".into(),
                    dir.path().join("ccache").display().to_string(),
                ),
                (
                    "SCCACHE_DIR".into(),
                    dir.path().join("sccache").display().to_string(),
                ),
                (
                    "DISTCC_DIR".into(),
                    dir.path().join("distcc").display().to_string(),
                ),
            ],
            dir,
        };
        std::fs::create_dir(s.path("distcc")).unwrap();
        s.set_list("first\n");
        s
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Rewrites `hot.txt` in place, dated in the past: ccache's direct mode does not trust a
    /// file modified in the last second, which would change which counter a run moves.
    fn set_list(&self, text: &str) {
        let f = self.path("hot.txt");
        std::fs::write(&f, text).unwrap();
        let file = std::fs::File::options().write(true).open(&f).unwrap();
        let mtime = SystemTime::now() - Duration::from_secs(10);
        file.set_modified(mtime).unwrap();
    }

    fn command(&self, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut c = Command::new(program);
        c.current_dir(self.dir.path()).args(args);
        for k in [
            "HOTPATCH_MODE",
            "HOTPATCH_VERBOSE",
            "HOTPATCH_LAUNCHER",
            "HOTPATCH_COMPILER",
            "CCACHE_NODIRECT",
            "CCACHE_DEPEND",
            "CCACHE_COMPILERTYPE",
            "CCACHE_DISABLE",
            "CCACHE_RECACHE",
        ] {
            c.env_remove(k);
        }
        // No user configuration may change what is measured.
        c.env("CCACHE_CONFIGPATH", self.path("ccache.conf"));
        for (k, v) in &self.env {
            c.env(k, v);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        c
    }

    #[track_caller]
    fn run_ok(&self, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let out = self.command(program, args, env).output().unwrap();
        assert!(
            out.status.success(),
            "{} {args:?} failed ({}):\n{}{}",
            program.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// `hotpatch-cl ARGS…`.
    #[track_caller]
    fn wrap(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.run_ok(&support::our_bin("hotpatch-cl"), args, env)
    }

    /// A directory holding hotpatch-cl linked as `name` (what a cache in front calls).
    fn shim(&self, name: &str) -> PathBuf {
        let dir = self.path("shim");
        let _ = std::fs::create_dir(&dir);
        let link = dir.join(name);
        std::os::unix::fs::symlink(support::our_bin("hotpatch-cl"), &link).unwrap();
        link
    }

    /// `ccache --print-stats` as counters (zeroed before each run by the callers).
    fn ccache_stats(&self) -> BTreeMap<String, u64> {
        let out = self.run_ok(&support::tool("ccache"), &["--print-stats"], &[]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once('\t')?;
                Some((k.to_owned(), v.trim().parse().ok()?))
            })
            .collect()
    }

    fn ccache_zero(&self) {
        self.run_ok(&support::tool("ccache"), &["-z"], &[]);
    }

    fn records(&self, obj: &str) -> Vec<String> {
        objects::hotpatch_records(&self.path(obj))
            .into_iter()
            .map(|(f, _)| f)
            .collect()
    }

    fn bytes(&self, f: &str) -> Vec<u8> {
        std::fs::read(self.path(f)).unwrap()
    }
}

/// The counters of `stats` that are not zero, for messages.
fn nonzero(stats: &BTreeMap<String, u64>) -> String {
    stats
        .iter()
        .filter(|(k, v)| {
            **v != 0 && !k.contains("timestamp") && !k.contains("size") && *k != "files_in_cache"
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn stat(stats: &BTreeMap<String, u64>, key: &str) -> u64 {
    stats.get(key).copied().unwrap_or(0)
}

/// A hit of either kind.
fn hits(stats: &BTreeMap<String, u64>) -> u64 {
    stat(stats, "direct_cache_hit") + stat(stats, "preprocessed_cache_hit")
}

/// A hot-patched GNU-mode compile of `a.c` to `obj` by `compiler` (debug info, the list in
/// `hot.txt`): the command line every cache below is asked to cache.
fn hot_gnu<'a>(compiler: &'a str, obj: &'a str) -> [&'a str; 11] {
    [
        compiler,
        GNU,
        "-O2",
        "-g",
        "-gcodeview",
        "-fms-hotpatch",
        "-fms-hotpatch-functions-file=hot.txt",
        "-c",
        "a.c",
        "-o",
        obj,
    ]
}

/// The clang-cl spelling of [`hot_gnu`]: `a.c` to `a.obj`.
fn hot_cl(compiler: &str) -> [&str; 8] {
    [
        compiler,
        "/c",
        "/O2",
        "/Z7",
        "/hotpatch",
        "-fms-hotpatch-functions-file=hot.txt",
        "a.c",
        "/Foa.obj",
    ]
}

/// A plain GNU-mode compile (no hot-patch flags) of `plain.c`.
const PLAIN_GNU: [&str; 7] = ["clang-19", GNU, "-O2", "-c", "plain.c", "-o", "plain.o"];

fn is_coff_x64(bytes: &[u8]) -> bool {
    bytes.get(..2) == Some(&[0x64, 0x86])
}

#[test]
fn ccache_behind_the_wrapper_serves_warm_rebuilds() {
    let s = Scratch::new();
    // Every run writes a.o (an object names itself), copied to `obj` afterwards.
    let compile = |obj: &str, spelling_ccache: bool| {
        let mut args = vec![];
        if spelling_ccache {
            args.push("ccache");
        }
        args.extend(hot_gnu("clang-19", "a.o"));
        let env: &[(&str, &str)] = if spelling_ccache {
            &[]
        } else {
            &[("HOTPATCH_LAUNCHER", "ccache")]
        };
        s.wrap(&args, env);
        std::fs::copy(s.path("a.o"), s.path(obj)).unwrap();
    };
    s.ccache_zero();
    compile("cold.o", false);
    let cold = s.ccache_stats();
    assert_eq!(
        stat(&cold, "cache_miss"),
        1,
        "the IR step is cached: {}",
        nonzero(&cold)
    );
    assert_eq!(hits(&cold), 0, "{}", nonzero(&cold));
    // Code generation from IR is never sent to ccache: it would count it as unsupported.
    assert_eq!(
        stat(&cold, "unsupported_source_language"),
        0,
        "{}",
        nonzero(&cold)
    );
    for (obj, spelling) in [("warm.o", false), ("spelled.o", true)] {
        s.ccache_zero();
        compile(obj, spelling);
        let warm = s.ccache_stats();
        assert_eq!(
            stat(&warm, "direct_cache_hit"),
            1,
            "{obj}: {}",
            nonzero(&warm)
        );
        assert_eq!(stat(&warm, "cache_miss"), 0, "{obj}: {}", nonzero(&warm));
        let (w, c) = (s.bytes(obj), s.bytes("cold.o"));
        let at = w.iter().zip(&c).position(|(x, y)| x != y);
        assert!(
            w == c,
            "{obj}: same object from the cache (first difference at {at:?})"
        );
        assert_eq!(s.records(obj), ["first"]);
    }
    // A compile without hot-patch flags passes through, behind ccache too.
    for _ in 0..2 {
        s.wrap(&PLAIN_GNU, &[("HOTPATCH_LAUNCHER", "ccache")]);
    }
    s.ccache_zero();
    s.wrap(&PLAIN_GNU, &[("HOTPATCH_LAUNCHER", "ccache")]);
    let plain = s.ccache_stats();
    assert_eq!(stat(&plain, "direct_cache_hit"), 1, "{}", nonzero(&plain));
    // clang-cl: the passthrough is cached (hotpatch-cl tells ccache it is a clang-cl).
    let cl = ["clang-cl-19", "/c", "/O2", "plain.c", "/Foplain.obj"];
    s.wrap(&cl, &[("HOTPATCH_LAUNCHER", "ccache")]);
    s.ccache_zero();
    s.wrap(&cl, &[("HOTPATCH_LAUNCHER", "ccache")]);
    let cl_stats = s.ccache_stats();
    assert_eq!(
        stat(&cl_stats, "direct_cache_hit"),
        1,
        "{}",
        nonzero(&cl_stats)
    );
    // A hot-patched compile is cached whole (ccache runs it through the wrapper), in both
    // drivers: cold a miss, warm a hit with the same object; another mode is another key.
    let cl_hot = [
        "clang-cl-19",
        "/c",
        "/O2",
        "/Z7",
        "/hotpatch",
        "/Brepro",
        "-fms-hotpatch-functions-file=hot.txt",
        "a.c",
        "/Foa.obj",
    ];
    let mut objects = vec![];
    for (mode, want_hits, want_misses) in [("auto", 0, 1), ("auto", 1, 0), ("rewrite", 0, 1)] {
        s.ccache_zero();
        s.wrap(
            &cl_hot,
            &[("HOTPATCH_LAUNCHER", "ccache"), ("HOTPATCH_MODE", mode)],
        );
        let st = s.ccache_stats();
        assert_eq!(
            (hits(&st), stat(&st, "cache_miss")),
            (want_hits, want_misses),
            "clang-cl, {mode}: {}",
            nonzero(&st)
        );
        assert_eq!(s.records("a.obj"), ["first"]);
        objects.push(s.bytes("a.obj"));
    }
    assert!(
        objects[0] == objects[1],
        "the cached object is the cold one"
    );
    assert!(
        objects[0] == objects[2],
        "/Brepro: both modes make the same bytes"
    );
}

/// The sccache server of a test: private port and directory, stopped when dropped.
struct Sccache<'a> {
    s: &'a Scratch,
    port: String,
}

impl<'a> Sccache<'a> {
    fn start(s: &'a Scratch) -> Sccache<'a> {
        let port = free_port().to_string();
        let me = Sccache { s, port };
        me.run(&["--start-server"]);
        me
    }

    fn env(&self) -> [(&str, &str); 1] {
        [("SCCACHE_SERVER_PORT", self.port.as_str())]
    }

    #[track_caller]
    fn run(&self, args: &[&str]) -> Output {
        self.s.run_ok(&support::tool("sccache"), args, &self.env())
    }

    /// `(hits, misses)` since the last zeroing.
    fn hits_misses(&self) -> (u64, u64) {
        let out = self.run(&["--show-stats"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let get = |key: &str| {
            text.lines()
                .find_map(|l| {
                    let rest = l.strip_prefix(key)?;
                    rest.trim().parse().ok()
                })
                .unwrap_or_else(|| panic!("no '{key}' in sccache's stats:\n{text}"))
        };
        (get("Cache hits "), get("Cache misses "))
    }
}

impl Drop for Sccache<'_> {
    fn drop(&mut self) {
        let _ = self
            .s
            .command(&support::tool("sccache"), &["--stop-server"], &self.env())
            .output();
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn sccache_behind_the_wrapper_serves_warm_rebuilds() {
    let s = Scratch::new();
    let server = Sccache::start(&s);
    let mut env = server.env().to_vec();
    env.push(("HOTPATCH_LAUNCHER", "sccache"));
    let compile = |obj: &str| {
        s.wrap(&hot_gnu("clang-19", "a.o"), &env);
        std::fs::copy(s.path("a.o"), s.path(obj)).unwrap();
    };
    server.run(&["-z"]);
    compile("cold.o");
    assert_eq!(server.hits_misses(), (0, 1), "the IR step is cached");
    server.run(&["-z"]);
    compile("warm.o");
    assert_eq!(server.hits_misses(), (1, 0), "the warm IR step is a hit");
    assert!(
        s.bytes("warm.o") == s.bytes("cold.o"),
        "same object from the cache"
    );
    assert_eq!(s.records("warm.o"), ["first"]);
}

/// distccd on 127.0.0.1 and a private port, logging to a file; killed when dropped.
struct Distccd {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Distccd {
    fn start(s: &Scratch) -> Distccd {
        let port = free_port();
        let log = s.path("distccd.log");
        let err = std::fs::File::create(&log).unwrap();
        // `--enable-tcp-insecure`: accept any compiler name without the masquerade
        // directory a distro install may lack; safe on 127.0.0.1 with `--allow 127.0.0.1`.
        let child = s
            .command(
                &support::tool("distccd"),
                &[
                    "--no-detach",
                    "--daemon",
                    "--listen",
                    "127.0.0.1",
                    "--allow",
                    "127.0.0.1",
                    "--port",
                    &port.to_string(),
                    "--log-stderr",
                    "--log-level",
                    "info",
                    "--enable-tcp-insecure",
                ],
                &[],
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            // Its own process group: distccd forks workers, which must go with it.
            .process_group(0)
            .spawn()
            .unwrap();
        let d = Distccd { child, port, log };
        // Wait until it accepts connections.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return d;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("distccd did not start: {}", d.log_text());
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Distccd {
    fn drop(&mut self) {
        // SIGTERM to the whole group (the daemon and its workers), then reap the daemon.
        let group = format!("-{}", self.child.id());
        let stopped = Command::new("kill")
            .args(["-TERM", "--", &group])
            .status()
            .is_ok_and(|s| s.success());
        if !stopped {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

#[test]
fn distcc_behind_the_wrapper_compiles_on_the_daemon() {
    let s = Scratch::new();
    let daemon = Distccd::start(&s);
    let hosts = format!("127.0.0.1:{}/2", daemon.port);
    let env = [
        ("HOTPATCH_LAUNCHER", "distcc"),
        ("DISTCC_HOSTS", hosts.as_str()),
        // A failed remote compile must fail the test, not quietly run here.
        ("DISTCC_FALLBACK", "0"),
        ("DISTCC_SKIP_LOCAL_RETRY", "1"),
    ];
    s.wrap(&hot_gnu("clang-19", "a.o"), &env);
    s.wrap(&PLAIN_GNU, &env);
    // A worker logs its summary after sending the result back: wait for it a little.
    let ran = |log: &str, src: &str| {
        log.lines()
            .any(|l| l.contains("COMPILE_OK") && l.ends_with(&format!(" {src}")))
    };
    let mut log = daemon.log_text();
    for _ in 0..100 {
        if ran(&log, "a.c") && ran(&log, "plain.c") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        log = daemon.log_text();
    }
    assert!(
        ran(&log, "a.c") && ran(&log, "plain.c"),
        "the IR step of a.c and the plain compile of plain.c ran on the daemon:\n{log}"
    );
    // distcc would add `-target x86_64-pc-linux-gnu` to a `--target=` line: Windows objects.
    assert!(is_coff_x64(&s.bytes("a.o")) && is_coff_x64(&s.bytes("plain.o")));
    assert_eq!(s.records("a.o"), ["first"]);
    // The rewritten object is what a local build makes, but for the debug info's build
    // directory (distccd compiles in its own): same records, same __ref_ symbols.
    s.wrap(&hot_gnu("clang-19", "local.o"), &[]);
    let refs = |o: &str| -> Vec<String> {
        objects::symbols(&s.path(o))
            .into_keys()
            .filter(|n| n.starts_with("__ref_"))
            .collect()
    };
    assert_eq!(refs("a.o"), refs("local.o"));
    assert_eq!(refs("a.o"), ["__ref_counter"]);
}

/// The four runs of one cache in front: cold, warm, list edited in place, warm again. Each
/// closure call compiles `a.c` to `obj` through the cache and returns (hits, misses).
fn edit_in_place(s: &Scratch, what: &str, obj: &str, mut compile: impl FnMut() -> (u64, u64)) {
    s.set_list("first\n");
    assert_eq!(compile(), (0, 1), "{what}: cold");
    assert_eq!(s.records(obj), ["first"], "{what}");
    let first = s.bytes(obj);
    assert_eq!(compile(), (1, 0), "{what}: unchanged rebuild");
    assert!(s.bytes(obj) == first, "{what}: the cached object");
    s.set_list("second\n");
    assert_eq!(compile(), (0, 1), "{what}: list edited in place");
    assert_eq!(s.records(obj), ["second"], "{what}: a fresh object");
    let second = s.bytes(obj);
    assert!(second != first, "{what}: the objects differ");
    assert_eq!(
        compile(),
        (1, 0),
        "{what}: unchanged rebuild after the edit"
    );
    assert!(s.bytes(obj) == second, "{what}: the cached object");
    // Back to the first list: the first object again, from the cache.
    s.set_list("first\n");
    assert_eq!(compile(), (1, 0), "{what}: the first list again");
    assert!(s.bytes(obj) == first, "{what}: the cached object");
}

/// Behind the wrapper ccache caches the whole hot-patch compile (`Launcher::whole_job`), so
/// the list's content must be part of its key there too.
#[test]
fn ccache_behind_the_wrapper_never_serves_a_stale_list() {
    let s = Scratch::new();
    for (what, launcher) in [("HOTPATCH_LAUNCHER", true), ("hotpatch-cl ccache", false)] {
        let _ = std::fs::remove_dir_all(s.path("ccache"));
        edit_in_place(&s, what, "a.o", || {
            s.ccache_zero();
            let mut args = if launcher { vec![] } else { vec!["ccache"] };
            args.extend(hot_gnu("clang-19", "a.o"));
            let env: &[(&str, &str)] = if launcher {
                &[("HOTPATCH_LAUNCHER", "ccache")]
            } else {
                &[]
            };
            s.wrap(&args, env);
            let st = s.ccache_stats();
            (hits(&st), stat(&st, "cache_miss"))
        });
    }
}

#[test]
fn ccache_in_front_of_the_wrapper_never_serves_a_stale_list() {
    let s = Scratch::new();
    let clang = s.shim("clang");
    let clang = clang.to_str().unwrap();
    let ccache = support::tool("ccache");
    for (mode, extra_env, extra_args) in [
        ("direct mode", None, &[][..]),
        ("preprocessor mode", Some(("CCACHE_NODIRECT", "1")), &[][..]),
        ("depend mode", Some(("CCACHE_DEPEND", "1")), &["-MD"][..]),
    ] {
        let _ = std::fs::remove_dir_all(s.path("ccache"));
        let mut env = vec![("HOTPATCH_COMPILER", "clang-19")];
        env.extend(extra_env);
        edit_in_place(&s, mode, "a.o", || {
            s.ccache_zero();
            let mut args = hot_gnu(clang, "a.o").to_vec();
            args.extend(extra_args);
            s.run_ok(&ccache, &args, &env);
            let st = s.ccache_stats();
            (hits(&st), stat(&st, "cache_miss"))
        });
        if mode == "depend mode" {
            let d = std::fs::read_to_string(s.path("a.d")).unwrap();
            assert!(d.contains("hot.txt"), "the list is a dependency:\n{d}");
        }
    }
    // clang-cl in front of hotpatch-cl installed as clang-cl (ccache is told it is one).
    let _ = std::fs::remove_dir_all(s.path("ccache"));
    let cl = s.shim("clang-cl");
    let cl = cl.to_str().unwrap();
    edit_in_place(&s, "clang-cl, direct mode", "a.obj", || {
        s.ccache_zero();
        s.run_ok(
            &ccache,
            &hot_cl(cl),
            &[
                ("HOTPATCH_COMPILER", "clang-cl-19"),
                ("CCACHE_COMPILERTYPE", "clang-cl"),
            ],
        );
        let st = s.ccache_stats();
        (hits(&st), stat(&st, "cache_miss"))
    });
}

#[test]
fn sccache_in_front_of_the_wrapper_never_serves_a_stale_list() {
    let s = Scratch::new();
    let server = Sccache::start(&s);
    let clang = s.shim("clang");
    let clang = clang.to_str().unwrap();
    let mut env = server.env().to_vec();
    env.push(("HOTPATCH_COMPILER", "clang-19"));
    edit_in_place(&s, "sccache", "a.o", || {
        server.run(&["-z"]);
        s.run_ok(&support::tool("sccache"), &hot_gnu(clang, "a.o"), &env);
        server.hits_misses()
    });
}

#[test]
fn preprocessed_output_carries_the_list_key_and_compiles_the_same() {
    let s = Scratch::new();
    let e = |args: &[&str]| String::from_utf8(s.wrap(args, &[]).stdout).unwrap();
    let hot = "-fms-hotpatch-functions-file=hot.txt";
    let abs = s.path("hot.txt").display().to_string();
    // GNU clang rejects the hot-patch flags: they are gone from jobs that make no object.
    let gnu = e(&["clang-19", GNU, "-E", hot, "a.c"]);
    let lines: Vec<&str> = gnu.lines().take(4).collect();
    assert_eq!(lines[0], "# 1 \"a.c\"", "the main file is named first");
    assert_eq!(lines[1], format!("# 1 \"{abs}\""));
    assert!(lines[2].starts_with("# 1 \"<hotpatch-cl lists "), "{gnu}");
    assert_eq!(lines[3], "# 1 \"a.c\"");
    // The key follows the content.
    s.set_list("second\n");
    let edited = e(&["clang-19", GNU, "-E", hot, "a.c"]);
    assert_ne!(edited.lines().nth(2), gnu.lines().nth(2));
    assert_eq!(
        edited.lines().skip(3).collect::<Vec<_>>(),
        gnu.lines().skip(3).collect::<Vec<_>>()
    );
    // `-P` (what sccache runs): a comment instead of line markers.
    let p = e(&["clang-19", GNU, "-E", "-P", hot, "a.c"]);
    assert!(p.starts_with("/* hotpatch-cl lists "), "{p}");
    // clang-cl `/P` writes a.i, `/E` stdout; no warning about our flags.
    let out = s.wrap(&["clang-cl-19", "/P", hot, "a.c"], &[]);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("hotpatch"),
        "{out:?}"
    );
    let i = std::fs::read_to_string(s.path("a.i")).unwrap();
    assert!(
        i.starts_with(&format!(
            "# 1 \"a.c\"\n# 1 \"{abs}\"\n# 1 \"<hotpatch-cl lists "
        )),
        "{i}"
    );
    let cl = e(&["clang-cl-19", "/E", hot, "a.c"]);
    assert_eq!(cl.lines().nth(1), Some(format!("# 1 \"{abs}\"").as_str()));
    // `-fsyntax-only` and `-M` run without the flags too, and print no key.
    s.wrap(&["clang-19", GNU, "-fsyntax-only", hot, "a.c"], &[]);
    let m = e(&["clang-19", GNU, "-M", hot, "a.c"]);
    assert!(m.starts_with("a.o: a.c"), "{m}");
    // Compiling the marked output gives the object compiling the unmarked output gives.
    let compile_i = |text: &str| {
        std::fs::write(s.path("x.i"), text).unwrap();
        s.run_ok(
            &support::tool("clang-19"),
            &[GNU, "-O2", "-g", "-gcodeview", "-c", "x.i", "-o", "x.o"],
            &[],
        );
        s.bytes("x.o")
    };
    let unmarked = e(&["clang-19", GNU, "-E", "a.c"]);
    assert!(!unmarked.contains("hotpatch-cl"));
    assert!(
        compile_i(&gnu) == compile_i(&unmarked),
        "same object from both"
    );
}
