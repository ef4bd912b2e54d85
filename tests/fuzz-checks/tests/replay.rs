//! Replays every committed fuzz input on stable: each file of `fuzz/corpus/<target>/` and
//! `fuzz/artifacts/<target>/` (crashes kept as regressions) goes through its target's check,
//! so a defect the fuzzer found once stays fixed in CI. A folder without a check, or a target
//! without a corpus, fails the test: a new target cannot be forgotten on either side.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use tower_vigil_fuzz_checks::{TARGETS, check_named};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The sub-folders of `dir` (none when it does not exist).
fn folders(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.expect("readable folder").path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

fn name(path: &Path) -> String {
    path.file_name()
        .expect("a named folder")
        .to_string_lossy()
        .into_owned()
}

/// Runs every file of every folder of `dir` through its check; how many files ran, and the
/// files that failed.
fn replay(dir: &Path, failed: &mut Vec<String>) -> usize {
    let mut ran = 0;
    for folder in folders(dir) {
        let target = name(&folder);
        let check = check_named(&target).unwrap_or_else(|| {
            panic!(
                "{} has no check in tower-vigil-fuzz-checks",
                folder.display()
            )
        });
        let mut files: Vec<PathBuf> = fs::read_dir(&folder)
            .expect("readable folder")
            .map(|e| e.expect("readable entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in files {
            let data = fs::read(&file).expect("readable input");
            let outcome = std::panic::catch_unwind(|| check(&data));
            if outcome.is_err() {
                failed.push(format!("{target}: {}", file.display()));
            }
            ran += 1;
        }
    }
    ran
}

#[test]
fn every_corpus_and_kept_crash_passes_its_check() {
    let corpus = fuzz_dir().join("corpus");
    let mut failed = Vec::new();
    let ran = replay(&corpus, &mut failed) + replay(&fuzz_dir().join("artifacts"), &mut failed);
    assert!(ran > 0, "no corpus under {}", corpus.display());
    assert!(
        failed.is_empty(),
        "inputs failing their check:\n{}",
        failed.join("\n")
    );
}

#[test]
fn every_target_has_a_corpus_a_fuzz_target_and_a_check() {
    let with_corpus: BTreeSet<String> = folders(&fuzz_dir().join("corpus"))
        .iter()
        .map(|p| name(p))
        .collect();
    let checks: BTreeSet<String> = TARGETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    assert_eq!(with_corpus, checks, "corpus folders and checks differ");
    for target in &checks {
        let file = fuzz_dir().join("fuzz_targets").join(format!("{target}.rs"));
        assert!(file.is_file(), "{} is missing", file.display());
        let source = fs::read_to_string(&file).expect("readable target");
        assert!(
            source.contains(&format!("tower_vigil_fuzz_checks::{target}::check")),
            "{} does not call its check",
            file.display()
        );
        let manifest = fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
        assert!(
            manifest.contains(&format!("name = \"{target}\"")),
            "fuzz/Cargo.toml lacks [[bin]] {target}"
        );
    }
}
