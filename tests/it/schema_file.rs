//! `schema.graphql` must be what the code exports.

#[test]
fn schema_file_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let on_disk = std::fs::read_to_string(path).expect("schema.graphql at the repo root");
    let from_code = api::sdl();
    assert!(
        on_disk == from_code,
        "schema.graphql is stale: run `cargo run -- export-schema schema.graphql`"
    );
}

#[test]
fn every_schema_type_and_field_is_documented() {
    let sdl = api::sdl();
    // A field or type line in SDL is documented when the line before it closes a description.
    let lines: Vec<&str> = sdl.lines().collect();
    let mut undocumented = Vec::new();
    let mut in_schema_block = false;
    let mut in_description = false;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t == "\"\"\"" {
            in_description = !in_description;
            continue;
        }
        if in_description {
            continue;
        }
        if t.starts_with("schema {") {
            in_schema_block = true;
        }
        if in_schema_block {
            in_schema_block = t != "}";
            continue;
        }
        if t.starts_with(')') {
            continue; // the end of a multi-line argument list, documented above it
        }
        let is_decl = t.starts_with("type ")
            || t.starts_with("input ")
            || t.starts_with("enum ")
            || t.starts_with("interface ")
            || (line.starts_with('\t') || line.starts_with("  "))
                && t.contains(':')
                && !t.starts_with('"');
        let builtin = t.starts_with("type PageInfo")
            || t.contains("Connection")
            || t.contains("Edge")
            || t.starts_with("schema")
            || t.starts_with("directive");
        if is_decl && !builtin {
            let prev = lines[..i]
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim());
            if !prev.is_some_and(|p| p.ends_with('"')) {
                undocumented.push(t.to_owned());
            }
        }
    }
    assert!(undocumented.is_empty(), "undocumented: {undocumented:#?}");
}
