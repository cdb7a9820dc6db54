//! Text parsers: none panics on any UTF-8 input, and every value that parses
//! prints (Display) as text that parses back to an equal value.

#![no_main]

use std::fmt::{Debug, Display};
use std::str::FromStr;

use cos_core::statement::Statement;
use cos_core::{
    Classification, Digest, DigestAlgorithm, KeyAlgorithm, PrivateKey, PublicKey, Region,
    ReleaseId, Residency, TenantId,
};
use libfuzzer_sys::fuzz_target;

fn roundtrip<T>(s: &str)
where
    T: FromStr + Display + PartialEq + Debug,
    T::Err: Display,
{
    let Ok(v) = s.parse::<T>() else {
        return;
    };
    let printed = v.to_string();
    match printed.parse::<T>() {
        Ok(back) => assert_eq!(
            back,
            v,
            "{} {s:?} printed as {printed:?} parses to a different value",
            std::any::type_name::<T>()
        ),
        Err(e) => panic!(
            "{} {s:?} printed as {printed:?}, which does not parse: {e}",
            std::any::type_name::<T>()
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };

    roundtrip::<Digest>(s);
    roundtrip::<DigestAlgorithm>(s);
    roundtrip::<Region>(s);
    roundtrip::<Residency>(s);
    roundtrip::<TenantId>(s);
    roundtrip::<ReleaseId>(s);
    roundtrip::<Classification>(s);
    roundtrip::<KeyAlgorithm>(s);

    if let Ok(k) = PublicKey::from_pem(s) {
        let again = PublicKey::from_pem(&k.to_pem());
        assert!(
            again.is_ok_and(|a| a == k),
            "PublicKey PEM round trip failed for {s:?}"
        );
    }
    let _ = PrivateKey::from_pem(s);

    let _ = Statement::from_json(data);
});
