//! The README's catalogue is `brhook checks --format markdown`, so docs never drift from code.

#[test]
fn readme_catalogue_matches_the_code() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme
        .find("<!-- catalogue:start")
        .expect("catalogue start marker");
    let start = readme[start..].find('\n').unwrap() + start + 1;
    let end = readme
        .find("<!-- catalogue:end -->")
        .expect("catalogue end marker");
    assert_eq!(
        readme[start..end].trim_end(),
        brhook::testkit::catalog::markdown().trim_end(),
        "README catalogue is stale: paste the output of `brhook checks --format markdown`"
    );
}
