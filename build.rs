//! The engine's build identity, for the segment rows a PostgreSQL store keeps from import
//! (`store::postgres`, `engine::segment::row_fingerprint`): a row computed by one build is
//! reused only by a build whose engine is byte for byte the same source. The identity is a
//! hash of every file the engine's answers are made from (`src/engine`, `src/model`,
//! `src/markdown.rs`) and of `Cargo.lock` (the versions of jiff and of every other crate
//! they call), so any change to them, however small, makes every kept row stale.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    let mut paths = Vec::new();
    for dir in ["src/engine", "src/model"] {
        println!("cargo:rerun-if-changed={dir}");
        files(Path::new(dir), &mut paths);
    }
    for f in ["src/markdown.rs", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={f}");
        paths.push(PathBuf::from(f));
    }
    paths.sort();
    // FNV-1a, 64 bits: stable across Rust releases, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(env!("CARGO_PKG_VERSION").as_bytes());
    for p in &paths {
        eat(p.to_string_lossy().as_bytes());
        eat(&[0]);
        match std::fs::read(p) {
            Ok(bytes) => eat(&bytes),
            // A file that cannot be read still changes the identity (by its absence).
            Err(_) => eat(b"<unreadable>"),
        }
        eat(&[0]);
    }
    println!("cargo:rustc-env=EXPANSION_PLANNER_ENGINE_BUILD={h:016x}");
}
