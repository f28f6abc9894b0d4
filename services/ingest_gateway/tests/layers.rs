//! The module graph stays a stack: every `crate::<module>` reference in a
//! module's source points to a module below it in [`LAYERS`]. A new upward
//! import (and with it any cycle) fails this test, naming the file and line.
//! Unit tests (`tests.rs`, `*_tests.rs`, `tests/` directories, and what
//! follows `#[cfg(test)]` in a file) may check a stage's output with a later
//! stage; they are not part of the shipped graph.

use std::path::Path;

/// Top to bottom; a module may use only modules after it in this list.
const LAYERS: &[&str] = &[
    "app",
    "config",
    "http",
    "syslog",
    "auth",
    "read",
    "ingest",
    "pipeline",
    "encode",
    "normalize",
    "decode",
    "pii",
    "housekeeping",
    "forward",
    "sink",
    "chain",
    "metrics",
    "status",
    "watermark",
    "dayfile",
    "quota",
    "secret",
    "schema",
];

fn rank(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|m| *m == module)
        .unwrap_or_else(|| panic!("module `{module}` is not in LAYERS: place it in the stack"))
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_imports_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut violations = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs");
        if matches!(module, "lib" | "main") {
            continue;
        }
        let own = rank(module);
        let name = rel.file_name().unwrap().to_string_lossy();
        let in_tests_dir = rel.components().any(|c| c.as_os_str() == "tests");
        if name == "tests.rs" || name.ends_with("_tests.rs") || in_tests_dir {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let shipped = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in shipped.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (i, _) in code.match_indices("crate::") {
                let rest = &code[i + "crate::".len()..];
                let used: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    !used.is_empty(),
                    "{}:{}: write `crate::<module>::…` paths, not `crate::{{…}}`",
                    rel.display(),
                    n + 1
                );
                if used == module || used == "VERSION" {
                    continue;
                }
                if rank(&used) <= own {
                    violations.push(format!("{}:{}: {module} uses {used}", rel.display(), n + 1));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "upward imports:\n{}",
        violations.join("\n")
    );
}
