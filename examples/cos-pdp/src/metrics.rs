//! `/metrics` in the Prometheus text format (prometheus-client): OPA's
//! `http_request_duration_seconds`, decisions by outcome, and the pack's
//! state (info, activations, refusals, rollbacks, fetch failures).

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::policy::Policy;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    code: String,
    handler: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PackLabels {
    name: String,
    version: String,
    revision: String,
    digest: String,
}

pub(crate) struct Metrics {
    registry: Registry,
    http: Family<HttpLabels, Histogram>,
    decisions: Family<OutcomeLabels, Counter>,
    fetch_failures: Family<CodeLabels, Counter>,
    pack_info: Family<PackLabels, Gauge>,
    activations: Gauge,
    refusals: Gauge,
    rollbacks: Gauge,
    ready: Gauge,
    /// Encoding is not reentrant-safe with the gauge refresh: one at a time.
    scrape: Mutex<()>,
}

fn latency_buckets() -> impl Iterator<Item = f64> {
    // 10 µs … ~10 s, as decisions are fast.
    prometheus_client::metrics::histogram::exponential_buckets(1e-5, 2.5, 16)
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let http = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(latency_buckets())
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency (as OPA names it)",
            http.clone(),
        );
        let decisions = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "cos_pdp_decisions",
            "Data API evaluations by outcome: defined, undefined, error",
            decisions.clone(),
        );
        let fetch_failures = Family::<CodeLabels, Counter>::default();
        registry.register(
            "cos_pdp_pack_fetch_failures",
            "Failed pack fetches or refused packs, by error code",
            fetch_failures.clone(),
        );
        let pack_info = Family::<PackLabels, Gauge>::default();
        registry.register(
            "cos_pdp_pack_info",
            "The stable pack deciding (value 1)",
            pack_info.clone(),
        );
        let activations = Gauge::default();
        registry.register(
            "cos_pdp_pack_activations",
            "Packs activated since start",
            activations.clone(),
        );
        let refusals = Gauge::default();
        registry.register(
            "cos_pdp_pack_refusals",
            "Candidate packs refused since start",
            refusals.clone(),
        );
        let rollbacks = Gauge::default();
        registry.register(
            "cos_pdp_pack_rollbacks",
            "Rollbacks since start (explicit and automatic)",
            rollbacks.clone(),
        );
        let ready = Gauge::default();
        registry.register("cos_pdp_ready", "1 when a policy is active", ready.clone());
        Metrics {
            registry,
            http,
            decisions,
            fetch_failures,
            pack_info,
            activations,
            refusals,
            rollbacks,
            ready,
            scrape: Mutex::new(()),
        }
    }

    pub(crate) fn request(&self, handler: &str, method: &str, code: u16, seconds: f64) {
        self.http
            .get_or_create(&HttpLabels {
                code: code.to_string(),
                handler: label(handler),
                method: bounded_method(method).to_owned(),
            })
            .observe(seconds);
    }

    pub(crate) fn decision(&self, outcome: &str) {
        self.decisions
            .get_or_create(&OutcomeLabels {
                outcome: label(outcome),
            })
            .inc();
    }

    pub(crate) fn fetch_failed(&self, code: &str) {
        self.fetch_failures
            .get_or_create(&CodeLabels { code: label(code) })
            .inc();
    }

    /// The exposition text, with the pack gauges refreshed from the store.
    pub(crate) fn render(&self, policy: &Policy) -> String {
        let _one = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        self.ready.set(i64::from(policy.ready()));
        if let Some(store) = &policy.store {
            let s = store.status();
            self.activations.set(s.activations as i64);
            self.refusals.set(s.refusals as i64);
            self.rollbacks.set(s.rollbacks as i64);
            self.pack_info.clear();
            if let Some(p) = s.stable {
                self.pack_info
                    .get_or_create(&PackLabels {
                        name: label(&p.name),
                        version: label(&p.version),
                        revision: label(&p.revision),
                        digest: label(&p.digest),
                    })
                    .set(1);
            }
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// The methods counted by name; any other (a client can send any token as
/// a method) is `other`, so the label set stays bounded.
fn bounded_method(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}

/// The longest label value written (a pack's name or revision comes from
/// outside); longer ones are cut, with `…` at the end.
const MAX_LABEL_CHARS: usize = 256;

/// A label value as the text format needs it: prometheus-client writes
/// label values as they are, so `\`, `"` and line feeds are escaped here
/// (`\\`, `\"`, `\n`), and the value is capped at [`MAX_LABEL_CHARS`].
/// A value from outside cannot end its label or start a line of its own.
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(MAX_LABEL_CHARS) + 8);
    for (i, c) in value.chars().enumerate() {
        if i == MAX_LABEL_CHARS {
            out.push('…');
            break;
        }
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_cannot_break_out_of_their_label() {
        let forged = "r1\"} 1\ncos_pdp_ready 0\nforged_series{x=\"y";
        assert_eq!(
            label(forged),
            "r1\\\"} 1\\ncos_pdp_ready 0\\nforged_series{x=\\\"y"
        );
        assert_eq!(label("a\\b"), "a\\\\b");
        let long = "x".repeat(1000);
        assert_eq!(label(&long).chars().count(), MAX_LABEL_CHARS + 1);
        let m = Metrics::new();
        m.fetch_failed(forged);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &m.registry).unwrap();
        assert!(
            !out.lines().any(|l| l.starts_with("forged_series")),
            "{out}"
        );
        assert!(
            out.lines().any(|l| l
                == "cos_pdp_pack_fetch_failures_total{code=\"r1\\\"} 1\\ncos_pdp_ready 0\\nforged_series{x=\\\"y\"} 1"),
            "{out}"
        );
    }

    #[test]
    fn made_up_methods_are_one_series() {
        let m = Metrics::new();
        for i in 0..100 {
            m.request("health", &format!("X{i:05}"), 405, 0.001);
        }
        m.request("health", "GET", 200, 0.001);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &m.registry).unwrap();
        let counts: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("http_request_duration_seconds_count"))
            .collect();
        assert_eq!(counts.len(), 2, "{out}");
        assert!(
            counts
                .iter()
                .any(|l| l.contains("method=\"other\"") && l.ends_with(" 100")),
            "{out}"
        );
    }
}
