//! In-process timing of `codeview::inject` (no process start, no file I/O), to separate the
//! injection itself from what `hotpatch inject` adds around it. Run by benches/inject.sh:
//! `cargo bench --bench inject_inproc -- OBJ NAME,NAME,...`.

use hotpatch_cl::codeview::inject;
use hotpatch_cl::hotlist::HotList;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (Some(obj), Some(names)) = (args.first(), args.get(1)) else {
        eprintln!("usage: inject_inproc OBJ NAME,NAME,...");
        return;
    };
    let data = std::fs::read(obj).expect("read OBJ");
    let mut list = HotList::new();
    list.add_list(names);
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let out = inject(&data, &list).expect("inject");
        times.push(t.elapsed());
        std::hint::black_box(out);
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "in-process inject of {} bytes, {} names: mean {:.2} ms, median {:.2} ms, min {:.2} ms (50 runs)",
        data.len(),
        list.len(),
        mean.as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    );
}
