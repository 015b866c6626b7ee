//! The README's "Using it from Rust" example is the crate's doc-test, character for
//! character, so `cargo test` runs the code the README shows.

fn read(rel: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {}", p.display(), e))
}

#[test]
fn readme_example_is_the_doc_test() {
    let readme = read("../../README.md");
    let section = readme
        .split("## Using it from Rust")
        .nth(1)
        .expect("README.md has a \"Using it from Rust\" section");
    let start = section.find("```rust\n").expect("a ```rust block") + "```rust\n".len();
    let len = section[start..].find("```").expect("the block's end");
    let shown = &section[start..start + len];

    let lib = read("src/lib.rs");
    let doc: Vec<&str> = lib
        .lines()
        .filter(|l| l.starts_with("//!"))
        .map(|l| l.strip_prefix("//! ").unwrap_or(&l[3..]))
        .collect();
    let open = doc.iter().position(|l| *l == "```").expect("a doc-test");
    let close = open + 1 + doc[open + 1..].iter().position(|l| *l == "```").expect("its end");
    let mut tested = doc[open + 1..close].join("\n");
    tested.push('\n');
    assert_eq!(shown, tested, "README.md and src/lib.rs's doc-test differ");
}
