//! Hot reload, last known good, rollback, cohorts and shadow evaluation
//! (`cos_policy::store`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure should panic with context"
)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cos_core::{KeyAlgorithm, PrivateKey, TenantId, sigstore};
use cos_policy::store::{
    Activation, Candidate, PolicyStore, ShadowDifference, StoreOptions, TestPolicy, in_cohort,
    tenant_bucket,
};
use cos_policy::{Pack, SignatureOptions};
use serde_json::json;

const ALLOW_ALICE: &str = r#"package demo
import rego.v1
default decision := {"allow": false, "reasons": [{"code": "DENY", "message": "not alice"}], "obligations": []}
decision := {"allow": true, "reasons": [], "obligations": []} if input.user == "alice"
"#;

const ALLOW_ALICE_AND_BOB: &str = r#"package demo
import rego.v1
default decision := {"allow": false, "reasons": [{"code": "DENY", "message": "not alice"}], "obligations": []}
decision := {"allow": true, "reasons": [], "obligations": []} if input.user in {"alice", "bob"}
"#;

const DENY_ALL: &str = r#"package demo
import rego.v1
decision := {"allow": false, "reasons": [{"code": "DENY", "message": "closed"}], "obligations": []}
"#;

/// Errors (a conflict) for every input with `boom`.
const BOOM: &str = r#"package demo
import rego.v1
default decision := {"allow": false, "reasons": [{"code": "DENY", "message": "not alice"}], "obligations": []}
decision := {"allow": true, "reasons": [], "obligations": []} if input.user == "alice"
decision := {"allow": false, "reasons": [], "obligations": []} if input.boom
decision := {"allow": true, "reasons": [], "obligations": []} if input.boom
"#;

const TEST_ALICE: &str = r#"package demo_test
import rego.v1
import data.demo
test_alice if demo.decision.allow with input as {"user": "alice"}
"#;

const TEST_CAROL: &str = r#"package demo_test
import rego.v1
import data.demo
test_carol if demo.decision.allow with input as {"user": "carol"}
"#;

fn archive(version: &str, policy: &str, test: Option<&str>, extra_manifest: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.yaml"),
        format!(
            "name: demo\nversion: {version}\nrevision: r-{version}\nroots: [demo, demo_test]\nentrypoints: {{authz: demo/decision}}\n{extra_manifest}"
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("policy.rego"), policy).unwrap();
    if let Some(t) = test {
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        std::fs::write(dir.path().join("tests/policy_test.rego"), t).unwrap();
    }
    let pack = Pack::load(dir.path(), &Default::default()).unwrap();
    pack.build_bundle_with_tests().unwrap()
}

fn v(version: &str) -> Candidate {
    Candidate::new(archive(version, ALLOW_ALICE, Some(TEST_ALICE), ""))
}

fn tenant(s: &str) -> TenantId {
    TenantId::new(s).unwrap()
}

fn version_for(store: &PolicyStore, t: Option<&TenantId>) -> String {
    store.pack_for(t).unwrap().pack().version.clone()
}

#[test]
fn activates_verified_packs_and_refuses_older_ones() {
    let store = PolicyStore::new(StoreOptions::default());
    assert!(!store.is_ready());
    let err = store.decide(None, "authz", &json!({})).unwrap_err();
    assert_eq!(err.code(), "no_active_pack");

    assert!(matches!(
        store.activate(v("1.0.0")).unwrap(),
        Activation::Activated(_)
    ));
    assert!(
        store
            .decide(None, "authz", &json!({"user": "alice"}))
            .unwrap()
            .allow
    );
    assert!(matches!(
        store.activate(v("1.0.0")).unwrap(),
        Activation::Unchanged(_)
    ));
    store.activate(v("1.1.0")).unwrap();

    let err = store.activate(v("1.0.5")).unwrap_err();
    assert_eq!(err.code(), "older_version", "{err}");
    assert!(err.to_string().contains("demo@1.0.5"), "{err}");
    assert_eq!(version_for(&store, None), "1.1.0");
    let status = store.status();
    assert_eq!(status.refusals, 1);
    assert_eq!(status.activations, 2);
    assert!(status.last_error.unwrap().detail.unwrap().contains("older"));
    // An explicit rollback may go back.
    store.roll_back_to(v("1.0.5")).unwrap();
    assert_eq!(version_for(&store, None), "1.0.5");
    assert_eq!(store.status().rollbacks, 1);
}

#[test]
fn activations_options_and_pack_info_serialise_for_the_bindings() {
    let store = PolicyStore::new(StoreOptions::default());
    let a = serde_json::to_value(store.activate(v("1.0.0")).unwrap()).unwrap();
    assert_eq!(a["status"], "activated");
    assert_eq!(a["pack"]["version"], "1.0.0");
    let a = serde_json::to_value(store.activate(v("1.0.0")).unwrap()).unwrap();
    assert_eq!(a["status"], "unchanged");
    store
        .decide(None, "authz", &json!({"user": "bob"}))
        .unwrap();
    let info = store.pack_for(None).unwrap().info();
    assert_eq!(info.stats.denies, 1);
    assert_eq!(info, store.status().stable.unwrap());
    for (text, policy) in [
        ("\"required\"", TestPolicy::Required),
        ("\"if_present\"", TestPolicy::IfPresent),
        ("\"skip\"", TestPolicy::Skip),
    ] {
        assert_eq!(serde_json::from_str::<TestPolicy>(text).unwrap(), policy);
    }
    assert!(serde_json::from_str::<TestPolicy>("\"always\"").is_err());
}

#[test]
fn candidates_that_fail_verification_never_decide() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let store = PolicyStore::new(StoreOptions {
        sigstore: Some(Arc::new(key.public_key().clone())),
        ..StoreOptions::default()
    });
    let good = archive("1.0.0", ALLOW_ALICE, Some(TEST_ALICE), "");
    let signed = |a: &[u8], k: &PrivateKey| sigstore::sign_blob(a, k).unwrap();
    store
        .activate(Candidate::new(good.clone()).with_sigstore_bundle(signed(&good, &key)))
        .unwrap();

    let next = archive("2.0.0", ALLOW_ALICE, Some(TEST_ALICE), "");
    let cases: Vec<(&str, Candidate)> = vec![
        ("missing_verification", Candidate::new(next.clone())),
        (
            "bundle_verification_failed",
            Candidate::new(next.clone()).with_sigstore_bundle(signed(&next, &other)),
        ),
        ("bundle_verification_failed", {
            let mut tampered = next.clone();
            let last = tampered.len() - 1;
            tampered[last] ^= 1;
            Candidate::new(tampered).with_sigstore_bundle(signed(&next, &key))
        }),
        ("candidate_tests_failed", {
            let a = archive("2.0.0", ALLOW_ALICE, Some(TEST_CAROL), "");
            Candidate::new(a.clone()).with_sigstore_bundle(signed(&a, &key))
        }),
        ("compile_error", {
            let a = archive("2.0.0", "package demo\ndecision := {", None, "");
            Candidate::new(a.clone()).with_sigstore_bundle(signed(&a, &key))
        }),
        ("invalid_pack", {
            let a = b"not an archive".to_vec();
            Candidate::new(a.clone()).with_sigstore_bundle(signed(&a, &key))
        }),
    ];
    for (i, (code, candidate)) in cases.into_iter().enumerate() {
        let err = store.activate(candidate).unwrap_err();
        assert!(
            err.code() == code || (code == "invalid_pack" && err.code().starts_with("invalid")),
            "case {i}: expected {code}, got {} ({err})",
            err.code()
        );
        assert_eq!(version_for(&store, None), "1.0.0", "case {i}");
        assert!(
            store
                .decide(None, "authz", &json!({"user": "alice"}))
                .unwrap()
                .allow
        );
    }
    assert_eq!(store.status().refusals, 6);
}

#[test]
fn opa_signature_and_required_tests() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let opts = SignatureOptions::default();
    let store = PolicyStore::new(StoreOptions {
        opa_signature: Some((key.public_key().clone(), opts.clone())),
        tests: TestPolicy::Required,
        ..StoreOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.yaml"),
        "name: demo\nversion: 1.0.0\nroots: [demo]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("policy.rego"), ALLOW_ALICE).unwrap();
    let pack = Pack::load(dir.path(), &Default::default()).unwrap();
    // Unsigned: refused.
    let err = store
        .activate(Candidate::new(pack.build_bundle().unwrap()))
        .unwrap_err();
    assert_eq!(err.code(), "signature_invalid", "{err}");
    // Signed but without tests, which this store requires: refused.
    let signed = pack.build_signed_bundle(&key, &opts).unwrap();
    let err = store.activate(Candidate::new(signed)).unwrap_err();
    assert_eq!(err.code(), "candidate_tests_failed", "{err}");
    assert!(!store.is_ready());
}

#[test]
fn last_known_good_survives_a_restart_and_is_verified_again() {
    let state = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        state_dir: Some(state.path().join("lkg")),
        ..StoreOptions::default()
    };
    {
        let store = PolicyStore::open(options.clone()).unwrap();
        assert!(!store.is_ready());
        store.activate(v("1.0.0")).unwrap();
        store.activate(v("1.2.0")).unwrap();
        assert!(store.activate(v("1.1.0")).is_err());
    }
    let store = PolicyStore::open(options.clone()).unwrap();
    assert_eq!(version_for(&store, None), "1.2.0");
    assert_eq!(store.status().events[0].kind, "loaded_last_known_good");
    // Only the current pack's files are kept.
    let files: Vec<String> = std::fs::read_dir(state.path().join("lkg"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");

    // A rollback moves the last known good back as well.
    store.activate(v("1.3.0")).unwrap();
    store.rollback().unwrap();
    drop(store);
    assert_eq!(
        version_for(&PolicyStore::open(options.clone()).unwrap(), None),
        "1.2.0"
    );

    // Tampered on disk: refused at start, nothing unverified decides.
    let archive = std::fs::read_dir(state.path().join("lkg"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "gz"))
        .unwrap();
    let mut bytes = std::fs::read(&archive).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&archive, bytes).unwrap();
    let err = PolicyStore::open(options).unwrap_err();
    assert_eq!(err.code(), "digest_mismatch", "{err}");
}

#[test]
fn rollback_returns_to_the_previous_pack() {
    let store = PolicyStore::new(StoreOptions::default());
    assert_eq!(store.rollback().unwrap_err().code(), "rollout_refused");
    store.activate(v("1.0.0")).unwrap();
    store
        .activate(Candidate::new(archive("2.0.0", DENY_ALL, None, "")))
        .unwrap();
    assert!(
        !store
            .decide(None, "authz", &json!({"user": "alice"}))
            .unwrap()
            .allow
    );
    let back = store.rollback().unwrap();
    assert_eq!(back.version, "1.0.0");
    assert!(
        store
            .decide(None, "authz", &json!({"user": "alice"}))
            .unwrap()
            .allow
    );
    assert!(store.rollback().is_err(), "history is empty now");
}

#[test]
fn automatic_rollback_on_error_rate() {
    let store = PolicyStore::new(StoreOptions {
        min_samples: 32,
        ..StoreOptions::default()
    });
    store.activate(v("1.0.0")).unwrap();
    let plan = "rollback: {strategy: automatic, max_error_rate: 0.1}\n";
    store
        .activate(Candidate::new(archive("2.0.0", BOOM, None, plan)))
        .unwrap();
    let mut errors = 0;
    for i in 0..64 {
        let input = if i % 2 == 0 {
            json!({"boom": true})
        } else {
            json!({"user": "alice"})
        };
        if store.decide(None, "authz", &input).is_err() {
            errors += 1;
        }
    }
    assert!(errors > 0);
    assert_eq!(version_for(&store, None), "1.0.0", "rolled back by itself");
    let status = store.status();
    let last = status.events.last().unwrap();
    assert_eq!(last.kind, "rolled_back_automatically");
    assert!(
        last.detail.as_ref().unwrap().contains("error rate"),
        "{last:?}"
    );
}

#[test]
fn automatic_rollback_on_deny_rate_increase() {
    let store = PolicyStore::new(StoreOptions {
        min_samples: 32,
        ..StoreOptions::default()
    });
    store.activate(v("1.0.0")).unwrap();
    for _ in 0..64 {
        store
            .decide(None, "authz", &json!({"user": "alice"}))
            .unwrap();
    }
    let plan = "rollback: {strategy: automatic, max_deny_rate_increase: 0.05}\n";
    store
        .activate(Candidate::new(archive("2.0.0", DENY_ALL, None, plan)))
        .unwrap();
    for _ in 0..64 {
        store
            .decide(None, "authz", &json!({"user": "alice"}))
            .unwrap();
    }
    assert_eq!(version_for(&store, None), "1.0.0");
    // A manual plan is never rolled back by the store.
    let manual = "rollback: {strategy: manual, max_deny_rate_increase: 0.05}\n";
    store
        .activate(Candidate::new(archive("3.0.0", DENY_ALL, None, manual)))
        .unwrap();
    for _ in 0..64 {
        store
            .decide(None, "authz", &json!({"user": "alice"}))
            .unwrap();
    }
    assert_eq!(version_for(&store, None), "3.0.0");
}

#[test]
fn tenant_buckets_are_stable_and_cohorts_nest() {
    // Pinned: a tenant's bucket never changes between versions or machines.
    assert_eq!(
        tenant_bucket(&tenant("acme")),
        tenant_bucket(&tenant("acme"))
    );
    let pinned: Vec<u16> = ["acme", "acme-eu", "globex", "initech"]
        .iter()
        .map(|t| tenant_bucket(&tenant(t)))
        .collect();
    assert_eq!(pinned, expected_buckets());
    let cohort = |p: f64| cos_policy::Cohort {
        name: "c".into(),
        percent: Some(p),
        tenants: None,
    };
    let mut in_5 = 0;
    for i in 0..2000 {
        let t = tenant(&format!("tenant-{i}"));
        let (five, fifty) = (in_cohort(&cohort(5.0), &t), in_cohort(&cohort(50.0), &t));
        assert!(!five || fifty, "5% cohort inside the 50% one");
        in_5 += usize::from(five);
        assert!(in_cohort(&cohort(100.0), &t));
        assert!(!in_cohort(&cohort(0.0), &t));
    }
    assert!((60..=140).contains(&in_5), "about 5% of 2000: {in_5}");
}

/// sha256("acme") etc., first 8 bytes big-endian, mod 10,000 (computed
/// independently with Python's hashlib).
fn expected_buckets() -> Vec<u16> {
    vec![
        EXPECTED_ACME,
        EXPECTED_ACME_EU,
        EXPECTED_GLOBEX,
        EXPECTED_INITECH,
    ]
}
const EXPECTED_ACME: u16 = 9872;
const EXPECTED_ACME_EU: u16 = 8392;
const EXPECTED_GLOBEX: u16 = 6599;
const EXPECTED_INITECH: u16 = 5763;

#[test]
fn cohort_rollout_promote_halt_rollback() {
    let store = PolicyStore::new(StoreOptions::default());
    store.activate(v("1.0.0")).unwrap();
    let cohorts = "cohorts:\n  - {name: pilot, tenants: [acme-eu]}\n  - {name: half, percent: 50}\n  - {name: all, percent: 100}\n";
    let next = Candidate::new(archive(
        "1.1.0",
        ALLOW_ALICE_AND_BOB,
        Some(TEST_ALICE),
        cohorts,
    ));
    store.start_rollout(next).unwrap();

    let (pilot, others): (TenantId, Vec<TenantId>) = (
        tenant("acme-eu"),
        (0..200).map(|i| tenant(&format!("t-{i}"))).collect(),
    );
    assert_eq!(version_for(&store, Some(&pilot)), "1.1.0");
    assert_eq!(version_for(&store, None), "1.0.0", "no tenant: stable");
    assert!(
        others
            .iter()
            .all(|t| version_for(&store, Some(t)) == "1.0.0")
    );
    // Two versions decide at once.
    assert!(
        store
            .decide(Some(&pilot), "authz", &json!({"user": "bob"}))
            .unwrap()
            .allow
    );
    assert!(
        !store
            .decide(Some(&others[0]), "authz", &json!({"user": "bob"}))
            .unwrap()
            .allow
    );

    store.halt().unwrap();
    assert_eq!(store.promote().unwrap_err().code(), "rollout_refused");
    assert!(store.status().rollout.unwrap().halted);
    store.resume().unwrap();

    store.promote().unwrap(); // half
    let on_new = others
        .iter()
        .filter(|t| version_for(&store, Some(t)) == "1.1.0")
        .count();
    assert!((70..=130).contains(&on_new), "about half of 200: {on_new}");
    let status = store.status();
    let rollout = status.rollout.unwrap();
    assert_eq!(rollout.cohorts, ["pilot", "half"]);
    assert_eq!(rollout.remaining, ["all"]);

    // Rolling back a rollout sends everyone back to the stable pack.
    store.rollback().unwrap();
    assert!(
        others
            .iter()
            .chain([&pilot])
            .all(|t| version_for(&store, Some(t)) == "1.0.0")
    );

    // Again, to the end: the last promotion makes it stable.
    let next = Candidate::new(archive(
        "1.1.0",
        ALLOW_ALICE_AND_BOB,
        Some(TEST_ALICE),
        cohorts,
    ));
    store.start_rollout(next).unwrap();
    for _ in 0..3 {
        store.promote().unwrap();
    }
    assert!(store.status().rollout.is_none());
    assert_eq!(version_for(&store, None), "1.1.0");
    assert_eq!(store.promote().unwrap_err().code(), "rollout_refused");
}

#[test]
fn cohorts_travel_in_the_bundle() {
    let cohorts = "cohorts:\n  - {name: pilot, tenants: [acme-eu]}\nshadow: {sample_rate: 0.5, min_samples: 10}\nrollback: {strategy: automatic, max_error_rate: 0.02}\n";
    let a = archive("1.0.0", ALLOW_ALICE, None, cohorts);
    let pack = Pack::from_bytes(&a, &Default::default()).unwrap();
    let m = pack.manifest();
    assert_eq!(m.cohorts[0].name, "pilot");
    assert_eq!(m.shadow.as_ref().unwrap().min_samples, 10);
    assert_eq!(m.rollback.as_ref().unwrap().max_error_rate, Some(0.02));
}

#[test]
fn shadow_counts_differences_and_gates_promotion() {
    let seen: Arc<Mutex<Vec<ShadowDifference>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let store = PolicyStore::new(StoreOptions::default()).with_shadow_observer(Arc::new(
        move |d: &ShadowDifference| sink.lock().unwrap().push(d.clone()),
    ));
    assert_eq!(
        store.start_shadow(v("1.0.0")).unwrap_err().code(),
        "rollout_refused"
    );
    store.activate(v("1.0.0")).unwrap();

    // A candidate that also allows bob differs on every bob decision.
    let plan = "shadow: {sample_rate: 0.5, min_samples: 20, max_difference_rate: 0.1}\n";
    store
        .start_shadow(Candidate::new(archive(
            "1.1.0",
            ALLOW_ALICE_AND_BOB,
            None,
            plan,
        )))
        .unwrap();
    for i in 0..80 {
        let user = if i % 4 == 0 { "bob" } else { "alice" };
        let d = store.decide(None, "authz", &json!({"user": user})).unwrap();
        assert_eq!(d.allow, user == "alice", "the shadow decides nothing");
    }
    let shadow = store.status().shadow.unwrap();
    assert!(
        (25..=55).contains(&shadow.compared),
        "about half sampled: {shadow:?}"
    );
    assert!(shadow.differences >= 5, "{shadow:?}");
    assert_eq!(seen.lock().unwrap().len() as u64, shadow.differences);
    let first = seen.lock().unwrap()[0].clone();
    assert_eq!(first.candidate["allow"], true);
    assert_eq!(first.active["allow"], false);
    let err = store.promote().unwrap_err();
    assert!(err.to_string().contains("difference rate"), "{err}");
    store.rollback().unwrap();
    assert!(store.status().shadow.is_none());

    // Too few samples: refused; an equivalent candidate then passes.
    let same = "shadow: {sample_rate: 1, min_samples: 20}\n";
    store
        .start_shadow(Candidate::new(archive("1.2.0", ALLOW_ALICE, None, same)))
        .unwrap();
    assert!(store.promote().unwrap_err().to_string().contains("needed"));
    for i in 0..30 {
        let user = if i % 2 == 0 { "bob" } else { "alice" };
        store.decide(None, "authz", &json!({"user": user})).unwrap();
    }
    store.promote().unwrap();
    assert_eq!(version_for(&store, None), "1.2.0");
}

#[test]
fn shadow_deny_rate_gate() {
    let store = PolicyStore::new(StoreOptions::default());
    store.activate(v("1.0.0")).unwrap();
    // Differences allowed, but the candidate denies far more.
    let plan = "shadow: {min_samples: 10, max_difference_rate: 1, max_deny_rate_increase: 0.2}\n";
    store
        .start_shadow(Candidate::new(archive("1.1.0", DENY_ALL, None, plan)))
        .unwrap();
    for _ in 0..20 {
        store
            .decide(None, "authz", &json!({"user": "alice"}))
            .unwrap();
    }
    let err = store.promote().unwrap_err();
    assert!(err.to_string().contains("deny rate"), "{err}");
}

#[test]
fn swaps_under_load_fail_no_decision() {
    let store = Arc::new(PolicyStore::new(StoreOptions {
        tests: TestPolicy::Skip,
        ..StoreOptions::default()
    }));
    store.activate(v("1.0.0")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let decided = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (store, stop, decided) =
                (Arc::clone(&store), Arc::clone(&stop), Arc::clone(&decided));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let d = store
                        .decide(None, "authz", &json!({"user": "alice"}))
                        .unwrap();
                    assert!(d.allow);
                    decided.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for minor in 1..=50 {
        store.activate(v(&format!("1.{minor}.0"))).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("no decision failed during the swaps");
    }
    assert_eq!(version_for(&store, None), "1.50.0");
    assert!(decided.load(Ordering::Relaxed) > 0);
    assert_eq!(store.status().history.len(), 4, "bounded history");
}

/// `PolicyStore::evaluate` with an `Input` (engine values in and out, as cos-pdp's fast
/// path uses it) answers and counts exactly as with a JSON document,
/// shadow comparison included.
#[test]
fn evaluation_in_engine_values_matches_json_and_counts_alike() {
    use cos_policy::Input;
    let json_store = PolicyStore::new(StoreOptions::default());
    let input_store = PolicyStore::new(StoreOptions::default());
    let plan = "shadow: {sample_rate: 1, min_samples: 5}\n";
    for store in [&json_store, &input_store] {
        store.activate(v("1.0.0")).unwrap();
        store
            .start_shadow(Candidate::new(archive(
                "1.1.0",
                ALLOW_ALICE_AND_BOB,
                None,
                plan,
            )))
            .unwrap();
    }
    let inputs = [
        json!({"user": "alice"}),
        json!({"user": "bob"}),
        json!({"user": "carol"}),
        json!({"boom": true}),
        json!(null),
    ];
    for (i, input) in inputs.iter().enumerate() {
        for query in ["demo/decision", "data.demo.decision.allow", "demo/missing"] {
            let by_json = json_store.evaluate(None, query, input).unwrap().result;
            let engine_input = Input::from_json(input).unwrap();
            let by_input = input_store.evaluate(None, query, &engine_input).unwrap();
            assert_eq!(by_input.pack.pack().version, "1.0.0");
            let by_input = by_input.result.unwrap().map(|o| o.to_json().unwrap());
            let by_json = by_json.unwrap().map(|o| o.to_json().unwrap());
            assert_eq!(by_json, by_input, "input #{i}, {query}");
        }
    }
    let undefined_input = input_store
        .evaluate(None, "demo/decision", None::<&Input>)
        .unwrap()
        .result;
    let undefined_json = json_store
        .evaluate(None, "demo/decision", None::<&serde_json::Value>)
        .unwrap()
        .result;
    assert_eq!(
        undefined_json.unwrap().map(|o| o.to_json().unwrap()),
        undefined_input.unwrap().map(|o| o.to_json().unwrap())
    );
    let (a, b) = (json_store.status(), input_store.status());
    let figures = |s: &cos_policy::store::StoreStatus| {
        let v = serde_json::to_value(s).unwrap();
        let shadow = &v["shadow"];
        json!([
            v["stable"]["stats"],
            shadow["pack"]["stats"],
            shadow["compared"],
            shadow["differences"],
            shadow["active_deny_rate"],
            shadow["candidate_deny_rate"],
            shadow["candidate_errors"],
        ])
    };
    assert_eq!(
        figures(&a),
        figures(&b),
        "same counters and shadow comparisons"
    );
    assert_eq!(b.stable.as_ref().unwrap().stats.decisions, 16);
    let shadow = b.shadow.unwrap();
    assert_eq!(shadow.compared, 16);
    assert!(shadow.differences >= 2, "{shadow:?}");
}

#[test]
fn output_allows_reads_results_like_json() {
    use cos_policy::Input;
    let store = PolicyStore::new(StoreOptions::default());
    store.activate(v("1.0.0")).unwrap();
    for (user, allowed) in [("alice", true), ("bob", false)] {
        let input = Input::from_json(&json!({"user": user})).unwrap();
        let out = store.evaluate(None, "demo/decision", &input).unwrap();
        assert_eq!(out.result.unwrap().unwrap().allows(), allowed);
        let out = store.evaluate(None, "demo/decision/allow", &input).unwrap();
        assert_eq!(out.result.unwrap().unwrap().allows(), allowed);
        let out = store
            .evaluate(None, "demo/decision/reasons", &input)
            .unwrap();
        assert!(
            out.result.unwrap().unwrap().allows(),
            "an array counts as allow"
        );
    }
}

/// A test that would run for hours (10^10 iterations of the evaluator's
/// own loop) but for its time limit.
const TEST_ENDLESS: &str = r#"package demo_test
import rego.v1
import data.demo
test_endless if {
	n := count([1 | some x in numbers.range(1, 100000); some y in numbers.range(1, 100000)])
	n > 0
}
"#;

#[test]
fn a_test_that_runs_out_of_time_refuses_the_candidate_and_newer_ones_still_activate() {
    let store = PolicyStore::new(StoreOptions {
        // Decisions may take long; tests have their own, shorter limit.
        engine: cos_policy::EngineOptions {
            time_limit: Some(std::time::Duration::from_secs(3600)),
            ..Default::default()
        },
        test_timeout: Some(std::time::Duration::from_millis(100)),
        ..StoreOptions::default()
    });
    let started = std::time::Instant::now();
    let err = store
        .activate(Candidate::new(archive(
            "1.0.0",
            ALLOW_ALICE,
            Some(TEST_ENDLESS),
            "",
        )))
        .unwrap_err();
    assert_eq!(err.code(), "candidate_tests_failed", "{err}");
    assert!(err.to_string().contains("test_endless"), "{err}");
    // Refused for its time, not for a resource limit: the reason says so.
    assert!(
        err.to_string()
            .contains("exceeded its time limit of 100 ms"),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(!store.is_ready());
    // The next revision is judged on its own.
    store.activate(v("1.0.1")).unwrap();
    assert_eq!(version_for(&store, None), "1.0.1");
    assert_eq!(
        StoreOptions::default().test_timeout,
        Some(cos_policy::store::DEFAULT_TEST_TIMEOUT)
    );
}

/// A pack whose tests sit in `tests/` under any file name, built into an
/// archive with them (as `cos pack build --with-tests` and `cos pack serve`
/// do).
fn archive_with_tests_at(version: &str, test_path: &str, test: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.yaml"),
        format!("name: demo\nversion: {version}\nroots: [demo, demo_test]\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("policy.rego"), ALLOW_ALICE).unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    std::fs::write(dir.path().join(test_path), test).unwrap();
    Pack::load(dir.path(), &Default::default())
        .unwrap()
        .build_bundle_with_tests()
        .unwrap()
}

/// Issue 26 (Found 3): the tests of an archive built with them gate its
/// activation whatever their file names (`tests/checks.rego` was read back
/// as a policy module, never run, and served), and the engine that decides
/// holds no test rule.
#[test]
fn archive_tests_gate_activation_and_are_never_served() {
    let failing = archive_with_tests_at("1.0.0", "tests/checks.rego", TEST_CAROL);
    let pack = Pack::from_bytes(&failing, &Default::default()).unwrap();
    assert_eq!(pack.tests().len(), 1, "tests/checks.rego is a test");
    assert_eq!(pack.modules().len(), 1, "only policy.rego is policy");
    let store = PolicyStore::new(StoreOptions::default());
    let err = store.activate(Candidate::new(failing)).unwrap_err();
    assert_eq!(err.code(), "candidate_tests_failed", "{err}");
    assert!(err.to_string().contains("demo_test.test_carol"), "{err}");
    assert!(!store.is_ready());

    // Required: a pack whose tests exist and pass is accepted.
    let passing = archive_with_tests_at("1.0.0", "tests/checks.rego", TEST_ALICE);
    let store = PolicyStore::new(StoreOptions {
        tests: TestPolicy::Required,
        ..StoreOptions::default()
    });
    store.activate(Candidate::new(passing.clone())).unwrap();
    // Its tests are not policy: not under their package, not in `data`.
    assert_eq!(
        store
            .evaluate(None, "demo_test", cos_policy::InputRef::Undefined)
            .unwrap()
            .result
            .unwrap()
            .map(|o| o.to_json().unwrap()),
        None
    );
    assert_eq!(
        store
            .evaluate(
                None,
                "demo_test/test_alice",
                cos_policy::InputRef::Undefined
            )
            .unwrap()
            .result
            .unwrap()
            .map(|o| o.to_json().unwrap()),
        None
    );
    let data = store
        .evaluate(None, "data", cos_policy::InputRef::Undefined)
        .unwrap()
        .result
        .unwrap()
        .map(|o| o.to_json().unwrap())
        .unwrap();
    assert!(data.get("demo_test").is_none(), "{data}");
    assert!(data.get("demo").is_some(), "{data}");
    let engine = cos_policy::PolicyEngine::new(
        &Pack::from_bytes(&passing, &Default::default()).unwrap(),
        Default::default(),
    )
    .unwrap();
    assert!(
        engine
            .evaluate("data.demo_test", cos_policy::InputRef::Undefined)
            .unwrap()
            .is_none()
    );

    // A newer revision with a failing test is refused; the old one decides.
    let newer = archive_with_tests_at("1.1.0", "tests/more.rego", TEST_CAROL);
    let err = store.activate(Candidate::new(newer)).unwrap_err();
    assert_eq!(err.code(), "candidate_tests_failed", "{err}");
    assert_eq!(store.pack_for(None).unwrap().pack().version, "1.0.0");
}

/// An OPA bundle's `*_test.rego` are policy, as `opa run --bundle` serves
/// them; their tests still gate it, as before.
#[test]
fn opa_bundle_test_files_are_policy_and_still_gate() {
    let bundle = |test: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("policy.rego"), ALLOW_ALICE).unwrap();
        std::fs::write(dir.path().join("policy_test.rego"), test).unwrap();
        let files = cos_policy::PackFiles::from_dir(dir.path(), &Default::default()).unwrap();
        let pack = Pack::from_files(files).unwrap();
        assert_eq!(pack.layout(), cos_policy::Layout::Bundle);
        assert_eq!(pack.modules().len(), 2);
        assert!(pack.tests().is_empty());
        pack.build_bundle().unwrap()
    };
    let store = PolicyStore::new(StoreOptions::default());
    store.activate(Candidate::new(bundle(TEST_ALICE))).unwrap();
    assert_eq!(
        store
            .evaluate(
                None,
                "demo_test/test_alice",
                cos_policy::InputRef::Undefined
            )
            .unwrap()
            .result
            .unwrap()
            .map(|o| o.to_json().unwrap()),
        Some(json!(true))
    );
    let store = PolicyStore::new(StoreOptions::default());
    let err = store
        .activate(Candidate::new(bundle(TEST_CAROL)))
        .unwrap_err();
    assert_eq!(err.code(), "candidate_tests_failed", "{err}");
}

/// A pack archive of another name, otherwise like [`archive`].
fn named(name: &str, version: &str, policy: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.yaml"),
        format!("name: {name}\nversion: {version}\nroots: [demo]\nentrypoints: {{authz: demo/decision}}\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("policy.rego"), policy).unwrap();
    Pack::load(dir.path(), &Default::default())
        .unwrap()
        .build_bundle()
        .unwrap()
}

#[test]
fn a_pack_source_is_bound_to_one_pack_and_versions_strictly_increase() {
    let store = PolicyStore::new(StoreOptions::default());
    store.activate(v("1.0.0")).unwrap();
    // Another pack (signed by the same key, in a real source) does not
    // take the place of the first one activated, at any version.
    for version in ["9.0.0", "1.0.0"] {
        let err = store
            .activate(Candidate::new(named(
                "dev-sandbox",
                version,
                ALLOW_ALICE_AND_BOB,
            )))
            .unwrap_err();
        assert_eq!(err.code(), "pack_identity", "{err}");
        assert!(err.to_string().contains("\"demo\""), "{err}");
    }
    // Not by an explicit rollback either.
    let err = store
        .roll_back_to(Candidate::new(named("dev-sandbox", "0.1.0", ALLOW_ALICE)))
        .unwrap_err();
    assert_eq!(err.code(), "pack_identity", "{err}");
    // The same version with other content is refused; the same content in
    // another archive is the active pack, unchanged.
    let other = Candidate::new(archive("1.0.0", ALLOW_ALICE_AND_BOB, Some(TEST_ALICE), ""));
    let err = store.activate(other).unwrap_err();
    assert_eq!(err.code(), "pack_identity", "{err}");
    assert!(err.to_string().contains("strictly increase"), "{err}");
    assert!(matches!(
        store.activate(v("1.0.0")).unwrap(),
        Activation::Unchanged(_)
    ));
    assert_eq!(version_for(&store, None), "1.0.0");
    let status = store.status();
    assert_eq!((status.activations, status.refusals), (1, 4));
    assert!(
        status
            .last_error
            .unwrap()
            .detail
            .unwrap()
            .contains("strictly increase")
    );
    // A newer version of the same pack goes on.
    store.activate(v("1.0.1")).unwrap();
    assert_eq!(version_for(&store, None), "1.0.1");

    // Configured, the name binds the very first pack too, and the last
    // known good of another name is refused at start.
    let state = tempfile::tempdir().unwrap();
    let pinned = |name: &str| StoreOptions {
        pack_name: Some(name.to_owned()),
        state_dir: Some(state.path().to_owned()),
        ..StoreOptions::default()
    };
    let store = PolicyStore::open(pinned("acme")).unwrap();
    let err = store.activate(v("1.0.0")).unwrap_err();
    assert_eq!(err.code(), "pack_identity", "{err}");
    store
        .activate(Candidate::new(named("acme", "1.0.0", ALLOW_ALICE)))
        .unwrap();
    drop(store);
    assert!(PolicyStore::open(pinned("acme")).unwrap().is_ready());
    let err = PolicyStore::open(pinned("other")).err().unwrap();
    assert_eq!(err.code(), "pack_identity", "{err}");
    assert!(err.to_string().contains("state directory"), "{err}");
}

#[test]
fn a_candidate_that_compiles_past_its_time_limit_is_refused() {
    // 8,000 rules: far longer than 1 ms to compile, in any build.
    let policy: String = std::iter::once("package demo\nimport rego.v1\n".to_owned())
        .chain((0..8_000).map(|i| format!("r{i} := {i}\n")))
        .collect();
    let hasty = PolicyStore::new(StoreOptions {
        compile_timeout: Some(std::time::Duration::from_millis(1)),
        ..StoreOptions::default()
    });
    let err = hasty
        .activate(Candidate::new(named("demo", "1.0.0", &policy)))
        .unwrap_err();
    assert_eq!(err.code(), "timeout", "{err}");
    assert!(err.to_string().contains("compile"), "{err}");
    assert!(!hasty.is_ready());
    assert_eq!(hasty.status().refusals, 1);
    // The default limit (30 s) lets it through.
    let store = PolicyStore::new(StoreOptions::default());
    store
        .activate(Candidate::new(named("demo", "1.0.0", &policy)))
        .unwrap();
    assert!(store.is_ready());
}
