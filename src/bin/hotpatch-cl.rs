//! `hotpatch-cl`: the compiler wrapper (see issue 4; not built yet).

fn main() -> std::process::ExitCode {
    eprintln!("hotpatch-cl: error: the compiler wrapper is not built yet");
    std::process::ExitCode::from(1)
}
