//! Opening an import file beneath one of the allowed import directories, once: each
//! directory on the way is opened relative to the one before without following a symlink,
//! and so is the file, so nothing can swap a path component for a link between a check and
//! the open (there is no check: the open is the check). Built on `cap-std`'s `Dir`.

use std::path::{Component, Path, PathBuf};

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};

/// Why a file could not be opened beneath the directories.
#[derive(Debug)]
pub enum Refused {
    /// `..`, an absolute path elsewhere, or a symlink on the way.
    Outside(String),
    /// No such file beneath any of them (or not a regular file).
    Missing(String),
}

/// The relative path of `given` beneath `dir`: `Err` for `..`, a root or an absolute path
/// that is not under `dir`.
fn relative(dir: &Path, given: &Path) -> Option<Vec<PathBuf>> {
    let rel = if given.is_absolute() {
        given.strip_prefix(dir).ok()?
    } else {
        given
    };
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(p) => parts.push(PathBuf::from(p)),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!parts.is_empty()).then_some(parts)
}

/// Opens `given` for reading beneath the first of `dirs` that holds it, refusing symlinks
/// at every step. Returns the open file and its path (for the report).
pub fn open_beneath(dirs: &[PathBuf], given: &str) -> Result<(std::fs::File, PathBuf), Refused> {
    let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let outside = |why: &str| {
        Refused::Outside(format!(
            "`{given}` is outside the allowed import directories ({}): {why}; only files under them can be imported, and `..`, absolute paths elsewhere and symlinks are refused",
            shown.join(", ")
        ))
    };
    let raw = Path::new(given);
    let mut symlink = false;
    let mut any = false;
    for d in dirs {
        let Some(parts) = relative(d, raw) else {
            continue;
        };
        any = true;
        let Ok(mut dir) = Dir::open_ambient_dir(d, ambient_authority()) else {
            continue;
        };
        let Some((last, within)) = parts.split_last() else {
            continue;
        };
        let mut reached = true;
        for p in within {
            match dir.open_dir_nofollow(p) {
                Ok(next) => dir = next,
                Err(e) => {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        symlink = true;
                    }
                    reached = false;
                    break;
                }
            }
        }
        if !reached {
            continue;
        }
        let mut opts = OpenOptions::new();
        opts.read(true).follow(FollowSymlinks::No);
        match dir.open_with(last, &opts) {
            Ok(f) => {
                let f = f.into_std();
                match f.metadata() {
                    Ok(m) if m.is_file() => {
                        return Ok((f, d.join(parts.iter().collect::<PathBuf>())));
                    }
                    _ => continue,
                }
            }
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    symlink = true;
                }
            }
        }
    }
    if !any {
        return Err(outside("the path leads out of them"));
    }
    if symlink {
        return Err(outside(
            "a symlink (or something that is not a directory) is on the way",
        ));
    }
    Err(Refused::Missing(format!(
        "`{given}` is not a file in the allowed import directories ({})",
        shown.join(", ")
    )))
}
