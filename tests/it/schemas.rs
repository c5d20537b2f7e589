//! The committed `schemas/` must equal what the server advertises; `UPDATE_SCHEMAS=1`
//! rewrites them.

use expansion_planner::schemas::all_files;

#[test]
fn committed_schemas_match_generated() {
    let dir = crate::root().join("schemas");
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    let files = all_files();
    assert!(
        files.len() >= 22,
        "10 tools x 2 + account + policy, got {}",
        files.len()
    );
    for (name, text) in &files {
        let path = dir.join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != *text {
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, text).unwrap();
            } else {
                stale.push(name.clone());
            }
        }
    }
    let mut extra: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".json") && !files.iter().any(|(f, _)| f == n))
                .collect()
        })
        .unwrap_or_default();
    extra.sort();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "schemas/ is out of date (stale: {stale:?}, extra: {extra:?}); run `UPDATE_SCHEMAS=1 cargo test schemas` or `expansion-planner schemas --out schemas`"
    );
}

#[test]
fn every_tool_schema_is_an_object_with_described_fields() {
    for t in expansion_planner::mcp::tools::DEFS {
        let input = (t.input)();
        assert_eq!(
            input.get("type").and_then(|v| v.as_str()),
            Some("object"),
            "{}",
            t.name
        );
        let props = input.get("properties").and_then(|p| p.as_object()).unwrap();
        for (k, v) in props {
            assert!(
                v.get("description").is_some(),
                "{}.{k} has no description",
                t.name
            );
        }
        let output = (t.output)();
        assert_eq!(
            output.get("type").and_then(|v| v.as_str()),
            Some("object"),
            "{}",
            t.name
        );
    }
}
