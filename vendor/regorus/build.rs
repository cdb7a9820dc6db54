// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.
//
// cos: upstream's build script installs git hooks when the crate has its own
// `.git` and reads the commit with `git rev-parse HEAD`; vendored inside the
// cos repository that would embed cos's commit. The hash is fixed instead.

fn main() {
    #[cfg(feature = "opa-runtime")]
    {
        let hash = std::env::var("GIT_HASH").unwrap_or_else(|_| "regorus-0.14.1+cos".into());
        println!("cargo:rustc-env=GIT_HASH={hash}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=GIT_HASH");
}
