//! The `uniffi-bindgen` command line, pinned to this crate's uniffi version
//! so the generated sources match the scaffolding in the cdylib.
//!
//! ```text
//! cargo run -p companyos-uniffi --features cli --bin uniffi-bindgen -- \
//!     generate --library target/debug/libcos_uniffi.so --language kotlin --out-dir target/uniffi/kotlin
//! ```

fn main() {
    uniffi::uniffi_bindgen_main()
}
