//! `companyos.policy.PolicyStore` and `PackClient`: cos_policy::store and
//! cos_policy::distribution::http, mapped.

use std::sync::Arc;
use std::time::Duration;

use cos_policy::distribution::http::{ClientConfig, Fetched};
use cos_policy::store::{Candidate, ShadowDifference, StoreConfig, StoreOptions};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::{
    Pack, core_err, from_py, opt_to_py, options_from_py, policy_err, to_py, trust_verifier,
};

fn tenant(t: Option<&str>) -> PyResult<Option<cos_core::TenantId>> {
    t.map(cos_core::TenantId::new).transpose().map_err(core_err)
}

fn candidate(archive: &[u8], sigstore_bundle: Option<&[u8]>) -> Candidate {
    Candidate {
        archive: archive.to_vec(),
        sigstore_bundle: sigstore_bundle.map(<[u8]>::to_vec),
    }
}

/// Holds the packs a service decides with (cos_policy::store::PolicyStore):
/// verified hot reload, last known good, rollback, cohorts, shadow.
#[pyclass(frozen, module = "companyos._native")]
pub(crate) struct PolicyStore(pub(crate) Arc<cos_policy::store::PolicyStore>);

/// `PolicyStore(**options)`: `cos_policy::store::StoreConfig`, its Sigstore
/// trust made a verifier by cos-supplychain.
fn store_options(options: Option<&Bound<'_, PyDict>>) -> PyResult<StoreOptions> {
    let config: StoreConfig = options_from_py(options, "PolicyStore options")?;
    let sigstore = trust_verifier(config.sigstore_trust())?.map(Arc::from);
    // A bad OPA key is the CoreError (`invalid_key`) it always was.
    config.into_options(sigstore).map_err(|e| match e {
        cos_policy::Error::Core(e) => core_err(e),
        e => policy_err(e),
    })
}

fn observer(callback: Py<PyAny>) -> cos_policy::store::ShadowObserver {
    Arc::new(move |d: &ShadowDifference| {
        Python::attach(|py| {
            let called = to_py(py, d).and_then(|v| callback.call1(py, (v,)));
            if let Err(e) = called {
                // A failing observer must not fail the decision.
                e.write_unraisable(py, None);
            }
        });
    })
}

#[pymethods]
impl PolicyStore {
    /// An empty store (`PolicyStore.open` starts from the last known good).
    /// `options`: the fields of `cos_policy::store::StoreConfig`.
    #[new]
    #[pyo3(signature = (*, shadow_observer = None, **options))]
    fn new(
        shadow_observer: Option<Py<PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let mut store = cos_policy::store::PolicyStore::new(store_options(options)?);
        if let Some(cb) = shadow_observer {
            store = store.with_shadow_observer(observer(cb));
        }
        Ok(PolicyStore(Arc::new(store)))
    }

    /// A store started from the last known good pack in `state_dir`,
    /// verified again (raises if it no longer verifies); empty when none.
    #[staticmethod]
    #[pyo3(signature = (*, shadow_observer = None, **options))]
    fn open(
        py: Python<'_>,
        shadow_observer: Option<Py<PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let options = store_options(options)?;
        let mut store = py
            .detach(|| cos_policy::store::PolicyStore::open(options))
            .map_err(policy_err)?;
        if let Some(cb) = shadow_observer {
            store = store.with_shadow_observer(observer(cb));
        }
        Ok(PolicyStore(Arc::new(store)))
    }

    /// Whether any pack is active.
    #[getter]
    fn is_ready(&self) -> bool {
        self.0.is_ready()
    }

    /// Verifies a candidate and makes it the stable pack:
    /// `{"status": "activated" | "unchanged", "pack": {...}}`. An older
    /// version raises `PolicyError` (`older_version`).
    #[pyo3(signature = (archive, sigstore_bundle = None))]
    fn activate<'py>(
        &self,
        py: Python<'py>,
        archive: &[u8],
        sigstore_bundle: Option<&[u8]>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = candidate(archive, sigstore_bundle);
        let a = py.detach(|| self.0.activate(c)).map_err(policy_err)?;
        to_py(py, &a)
    }

    /// `activate`, accepting an older version: an explicit rollback.
    #[pyo3(signature = (archive, sigstore_bundle = None))]
    fn roll_back_to<'py>(
        &self,
        py: Python<'py>,
        archive: &[u8],
        sigstore_bundle: Option<&[u8]>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = candidate(archive, sigstore_bundle);
        let a = py.detach(|| self.0.roll_back_to(c)).map_err(policy_err)?;
        to_py(py, &a)
    }

    /// Verifies a candidate and rolls it out to the first cohort of its manifest.
    #[pyo3(signature = (archive, sigstore_bundle = None))]
    fn start_rollout<'py>(
        &self,
        py: Python<'py>,
        archive: &[u8],
        sigstore_bundle: Option<&[u8]>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = candidate(archive, sigstore_bundle);
        let a = py.detach(|| self.0.start_rollout(c)).map_err(policy_err)?;
        to_py(py, &a)
    }

    /// Verifies a candidate and evaluates it in the shadow of the deciding pack.
    #[pyo3(signature = (archive, sigstore_bundle = None))]
    fn start_shadow<'py>(
        &self,
        py: Python<'py>,
        archive: &[u8],
        sigstore_bundle: Option<&[u8]>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = candidate(archive, sigstore_bundle);
        let a = py.detach(|| self.0.start_shadow(c)).map_err(policy_err)?;
        to_py(py, &a)
    }

    /// One step forward: shadow → rollout (or stable), next cohort, stable.
    fn promote<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let p = py.detach(|| self.0.promote()).map_err(policy_err)?;
        to_py(py, &p)
    }

    /// Freezes a rollout at its current cohorts.
    fn halt<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let p = py.detach(|| self.0.halt()).map_err(policy_err)?;
        to_py(py, &p)
    }

    /// Lifts a halt.
    fn resume<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let p = py.detach(|| self.0.resume()).map_err(policy_err)?;
        to_py(py, &p)
    }

    /// Abandons a rollout or shadow, or returns to the previous stable pack.
    fn rollback<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let p = py.detach(|| self.0.rollback()).map_err(policy_err)?;
        to_py(py, &p)
    }

    /// The store's state (stable, rollout, shadow, history, counters, events).
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = py.detach(|| self.0.status());
        to_py(py, &s)
    }

    /// The pack a tenant's decisions go to now (a dict), or `None`.
    #[pyo3(signature = (tenant = None))]
    fn pack_for<'py>(&self, py: Python<'py>, tenant: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
        let t = self::tenant(tenant)?;
        let info = self.0.pack_for(t.as_ref()).map(|p| p.info());
        opt_to_py(py, info.as_ref())
    }

    /// A typed decision from the tenant's pack (counted, shadowed).
    #[pyo3(signature = (entrypoint, input, tenant = None))]
    fn decide<'py>(
        &self,
        py: Python<'py>,
        entrypoint: &str,
        input: &Bound<'py, PyAny>,
        tenant: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let t = self::tenant(tenant)?;
        let input = crate::to_json(input, 0)?;
        let d = py
            .detach(|| self.0.decide(t.as_ref(), entrypoint, &input))
            .map_err(policy_err)?;
        to_py(py, &d)
    }

    /// A document from the tenant's pack (OPA Data API semantics): the
    /// value, or `None` when undefined.
    #[pyo3(signature = (path, input = None, tenant = None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        input: Option<&Bound<'py, PyAny>>,
        tenant: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let t = self::tenant(tenant)?;
        let input = input.map(|i| crate::to_json(i, 0)).transpose()?;
        let evaluation = py
            .detach(|| self.0.evaluate(t.as_ref(), path, input.as_ref()))
            .map_err(policy_err)?;
        let value = evaluation.result.map_err(policy_err)?;
        opt_to_py(py, value.as_ref())
    }

    /// `evaluate`, also returning the pack that answered: `(pack, value)`.
    #[pyo3(signature = (path, input = None, tenant = None))]
    fn evaluate_with_pack<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        input: Option<&Bound<'py, PyAny>>,
        tenant: Option<&str>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let t = self::tenant(tenant)?;
        let input = input.map(|i| crate::to_json(i, 0)).transpose()?;
        let evaluation = py
            .detach(|| self.0.evaluate(t.as_ref(), path, input.as_ref()))
            .map_err(policy_err)?;
        let value = evaluation.result.map_err(policy_err)?;
        Ok((
            to_py(py, &evaluation.pack.info())?,
            opt_to_py(py, value.as_ref())?,
        ))
    }
}

/// The bucket (0-9999) of a tenant: cohorts of `percent: p` hold buckets below `p * 100`.
#[pyfunction]
pub(crate) fn tenant_bucket(tenant: &str) -> PyResult<u16> {
    let t = cos_core::TenantId::new(tenant).map_err(core_err)?;
    Ok(cos_policy::store::tenant_bucket(&t))
}

/// Whether a tenant belongs to a cohort (`{"name", "percent"}` or `{"name", "tenants"}`).
#[pyfunction]
pub(crate) fn in_cohort(cohort: &Bound<'_, PyAny>, tenant: &str) -> PyResult<bool> {
    let c: cos_policy::Cohort = from_py(cohort, "cohort")?;
    let t = cos_core::TenantId::new(tenant).map_err(core_err)?;
    Ok(cos_policy::store::in_cohort(&c, &t))
}

/// A pack fetched over HTTP(S), its `Digest` checked; `pack` is set when
/// the client has a key and the Sigstore bundle verified with it.
#[pyclass(frozen, module = "companyos._native")]
pub(crate) struct FetchedPack {
    fetched: Fetched,
    pack: Option<Py<Pack>>,
}

#[pymethods]
impl FetchedPack {
    #[getter]
    fn url(&self) -> &str {
        &self.fetched.url
    }

    #[getter]
    fn archive<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.fetched.archive)
    }

    #[getter]
    fn etag(&self) -> Option<&str> {
        self.fetched.etag.as_deref()
    }

    #[getter]
    fn digest(&self) -> Option<String> {
        self.fetched.digest.as_ref().map(|d| d.to_string())
    }

    #[getter]
    fn sigstore_bundle<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.fetched
            .sigstore_bundle
            .as_deref()
            .map(|b| PyBytes::new(py, b))
    }

    #[getter]
    fn pack(&self, py: Python<'_>) -> Option<Py<Pack>> {
        self.pack.as_ref().map(|p| p.clone_ref(py))
    }

    fn __repr__(&self) -> String {
        format!(
            "FetchedPack(url={:?}, etag={:?}, bytes={})",
            self.fetched.url,
            self.fetched.etag,
            self.fetched.archive.len()
        )
    }
}

/// A blocking HTTP(S) pack client (cos_policy::distribution::http::PackClient).
#[pyclass(frozen, module = "companyos._native")]
pub(crate) struct PackClient {
    client: cos_policy::distribution::http::PackClient,
    key: Option<Box<dyn cos_core::sigstore::BlobVerifier>>,
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

#[pymethods]
impl PackClient {
    /// `options`: the fields of `cos_policy::distribution::http::ClientConfig`.
    #[new]
    #[pyo3(signature = (**options))]
    fn new(options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let config: ClientConfig = options_from_py(options, "PackClient options")?;
        let key = trust_verifier(config.sigstore_trust())?;
        Ok(PackClient {
            client: cos_policy::distribution::http::PackClient::new(config.into()),
            key,
        })
    }

    /// GETs a pack (conditionally with `etag`): `None` when not modified,
    /// else a `FetchedPack` (verified into `.pack` when the client has a key).
    #[pyo3(signature = (url, etag = None))]
    fn fetch(
        &self,
        py: Python<'_>,
        url: &str,
        etag: Option<&str>,
    ) -> PyResult<Option<FetchedPack>> {
        let limits = cos_policy::Limits {
            max_decompressed_size: self.client.options().max_archive_bytes,
            ..Default::default()
        };
        let out = py
            .detach(|| -> cos_policy::Result<_> {
                let Some(fetched) = self.client.fetch(url, etag)? else {
                    return Ok(None);
                };
                let pack = match &self.key {
                    Some(k) => Some(fetched.verify(k.as_ref(), &limits)?.pack),
                    None => None,
                };
                Ok(Some((fetched, pack)))
            })
            .map_err(policy_err)?;
        let Some((fetched, pack)) = out else {
            return Ok(None);
        };
        let pack = pack.map(|p| Py::new(py, Pack(p))).transpose()?;
        Ok(Some(FetchedPack { fetched, pack }))
    }

    /// GETs a Sigstore bundle (at most `max_bundle_bytes`).
    fn fetch_attestation<'py>(&self, py: Python<'py>, url: &str) -> PyResult<Bound<'py, PyBytes>> {
        let b = py
            .detach(|| self.client.fetch_attestation(url))
            .map_err(policy_err)?;
        Ok(PyBytes::new(py, &b))
    }

    /// Keeps `store` up to date from `url` until `stop()` returns true:
    /// fetches (conditionally, long-polling when configured), activates every
    /// new pack, sleeps `interval_ms` between rounds. Failed fetches and
    /// refused packs go to `on_error(err)` and leave the store as it was.
    #[pyo3(signature = (url, store, stop, interval_ms = 1000, on_error = None))]
    fn poll(
        &self,
        py: Python<'_>,
        url: &str,
        store: &PolicyStore,
        stop: Py<PyAny>,
        interval_ms: u64,
        on_error: Option<Py<PyAny>>,
    ) {
        let store = Arc::clone(&store.0);
        py.detach(|| {
            self.client.poll(
                url,
                ms(interval_ms),
                |c| store.activate(c),
                |e| {
                    if let Some(cb) = &on_error {
                        Python::attach(|py| {
                            let err = crate::policy_err_ref(e);
                            if let Err(x) = cb.call1(py, (err.value(py).clone(),)) {
                                x.write_unraisable(py, None);
                            }
                        });
                    }
                },
                || {
                    Python::attach(|py| {
                        // A stop() that raises stops the loop.
                        stop.call0(py)
                            .and_then(|r| r.bind(py).is_truthy())
                            .unwrap_or(true)
                    })
                },
            );
        });
    }

    /// `poll`, telling `on_event(event)` what each round did: a dict with
    /// `kind` (`"activated"`, `"unchanged"`, `"refused"`, `"failed"`),
    /// `activation` (`{"status", "pack"}` or `None`), `etag`, `error` (the
    /// `CosError` of a refusal or failure, else `None`) and `next_wait_ms`
    /// (the wait before the next round; 0 when a long poll goes straight
    /// back). Runs until `stop()` returns true (or raises); an `on_event`
    /// that raises is reported as unraisable and the loop goes on.
    #[pyo3(signature = (url, store, stop, on_event, interval_ms = 1000))]
    fn poll_observed(
        &self,
        py: Python<'_>,
        url: &str,
        store: &PolicyStore,
        stop: Py<PyAny>,
        on_event: Py<PyAny>,
        interval_ms: u64,
    ) {
        let store = Arc::clone(&store.0);
        py.detach(|| {
            self.client.poll_observed(
                url,
                ms(interval_ms),
                |c| store.activate(c),
                |event| {
                    Python::attach(|py| {
                        let delivered = to_py(py, event).and_then(|dict| {
                            if let Some(e) = event.error() {
                                let err = crate::policy_err_ref(e);
                                dict.set_item("error", err.value(py))?;
                            }
                            on_event.call1(py, (dict,))
                        });
                        if let Err(x) = delivered {
                            x.write_unraisable(py, None);
                        }
                    });
                },
                || {
                    Python::attach(|py| {
                        // A stop() that raises stops the loop.
                        stop.call0(py)
                            .and_then(|r| r.bind(py).is_truthy())
                            .unwrap_or(true)
                    })
                },
            );
        });
    }
}
