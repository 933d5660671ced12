//! The committed C header must equal what cbindgen generates from the sources.
//! Update it with: `KY_UPDATE_HEADER=1 cargo test --test header`. The enums `ky_status` and
//! `ky_log_level` are rendered from their `c_enum!` tables (src/error.rs, src/log.rs).

use std::path::Path;

use ky_access_token::{Level, Status};

#[test]
fn committed_header_matches_the_sources() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    // The two enums come from their c_enum! tables (cbindgen does not expand macros).
    config.after_includes = Some(format!(
        "\n{}\n{}",
        Status::C_TABLE.c_declaration(),
        Level::C_TABLE.c_declaration()
    ));
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("header is UTF-8");
    let path = root.join("include/ky_access_token.h");
    if std::env::var_os("KY_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write header");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first_difference = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "include/ky_access_token.h is out of date (first difference at line {}).\n\
             Regenerate it with: KY_UPDATE_HEADER=1 cargo test --test header",
            first_difference + 1
        );
    }
}
