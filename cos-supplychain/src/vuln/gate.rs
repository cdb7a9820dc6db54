//! The gate: findings from every report de-duplicated, scored, matched
//! with VEX statements and waivers, judged against the policy; the verdict
//! explains itself in JSON and text.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use super::cvss::{CvssVersion, detect_version, score_vector};
use super::finding::{Finding, Report, ReportedScore, Severity};
use super::policy::{Policy, UnknownSeverity, Unscored};
use super::report::is_scored;
use super::time::Timestamp;
use super::vex::{VexDocument, VexStatement};
use super::waiver::Waiver;
use crate::error::Result;

/// The `schema` of the verdict JSON.
pub const VERDICT_SCHEMA: &str = "https://companyos.dev/schemas/cos/cve-gate-verdict/v1";

/// Everything the gate judges.
#[derive(Clone, Copy, Debug)]
pub struct GateInput<'a> {
    /// The policy.
    pub policy: &'a Policy,
    /// Vulnerability reports (their findings are merged across reports).
    pub reports: &'a [Report],
    /// VEX documents.
    pub vex: &'a [VexDocument],
    /// Waivers.
    pub waivers: &'a [Waiver],
    /// The time to judge waiver expiries at (from the caller, so a verdict
    /// can be reproduced).
    pub now: Timestamp,
}

/// What the gate decided about one finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Its score (or label) reaches the threshold: it blocks.
    Blocked,
    /// Its severity has a budget, and there are more findings of that
    /// severity than the budget: it blocks.
    OverBudget,
    /// A waiver named it but has expired: it blocks.
    ExpiredWaiver,
    /// Its severity has a budget that the findings of that severity fit in.
    WithinBudget,
    /// Its score (or label) is below the threshold.
    BelowThreshold,
    /// No score, and the policy lets unscored (or unknown-severity) findings pass.
    AllowedUnscored,
    /// A waiver that has not expired covers it.
    Waived,
    /// A VEX statement says the package is not affected (or the finding is a
    /// false positive).
    NotAffected,
}

impl Disposition {
    /// Whether this disposition fails the gate.
    pub fn is_blocking(self) -> bool {
        matches!(
            self,
            Disposition::Blocked | Disposition::OverBudget | Disposition::ExpiredWaiver
        )
    }

    fn label(self) -> &'static str {
        match self {
            Disposition::Blocked => "BLOCKED",
            Disposition::OverBudget => "OVER BUDGET",
            Disposition::ExpiredWaiver => "EXPIRED WAIVER",
            Disposition::WithinBudget => "within budget",
            Disposition::BelowThreshold => "below threshold",
            Disposition::AllowedUnscored => "allowed (unscored)",
            Disposition::Waived => "waived",
            Disposition::NotAffected => "not affected",
        }
    }
}

/// Where a finding's score comes from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScoreSource {
    /// Computed from a CVSS vector (the highest of the finding's vectors).
    Cvss {
        /// The vector.
        vector: String,
        /// Its version.
        version: CvssVersion,
    },
    /// No vector could be scored; a score the report states.
    Reported {
        /// Who stated it.
        from: String,
    },
    /// No score at all; the severity comes from a label.
    Label {
        /// The label.
        label: String,
    },
    /// Neither score nor label.
    None,
}

/// A vector of a finding and what came of scoring it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VectorVerdict {
    /// The vector.
    pub vector: String,
    /// Its version, when recognised.
    pub version: Option<CvssVersion>,
    /// The computed score (`null` for v2 and unparseable vectors).
    pub score: Option<f64>,
    /// v4.0: which metric groups took part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nomenclature: Option<String>,
    /// Why it was not scored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The package of a finding, for the verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackageVerdict {
    /// Name.
    pub name: String,
    /// Installed version.
    pub version: Option<String>,
    /// Normalised purl (no qualifiers).
    pub purl: Option<String>,
}

/// The waiver that applied to a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaiverRef {
    /// Its position in the waivers file, from 1.
    pub index: usize,
    /// Its id.
    pub id: String,
    /// Its package as written.
    pub package: String,
    /// Who approved it.
    pub approver: String,
    /// Why.
    pub reason: String,
    /// Its expiry as written.
    pub expires: String,
    /// The instant it stops (or stopped) holding.
    pub expires_at: String,
}

/// The VEX statement that applied to a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VexRef {
    /// `not_affected`, `false_positive`, `affected`, `fixed`, `under_investigation`.
    pub status: String,
    /// Its justification.
    pub justification: Option<String>,
    /// Its free text.
    pub detail: Option<String>,
    /// The document.
    pub source: String,
    /// The statement's vulnerability id.
    pub vulnerability: String,
    /// When it was made.
    pub timestamp: Option<String>,
}

/// One (de-duplicated) finding and what the gate made of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingVerdict {
    /// The id shown (a CVE id when the finding has one).
    pub id: String,
    /// Every other id the reports gave.
    pub aliases: Vec<String>,
    /// The package.
    pub package: PackageVerdict,
    /// The severity (from the score, else the label).
    pub severity: Severity,
    /// The score judged (computed from a vector when there is one).
    pub score: Option<f64>,
    /// Where the score comes from.
    pub score_source: ScoreSource,
    /// Every vector, scored.
    pub vectors: Vec<VectorVerdict>,
    /// Scores the reports state.
    pub reported_scores: Vec<ReportedScore>,
    /// Severity labels the reports state.
    pub severity_labels: Vec<String>,
    /// Versions that fix it.
    pub fixed_versions: Vec<String>,
    /// The reports it was found in (`format:source`).
    pub sources: Vec<String>,
    /// The decision.
    pub disposition: Disposition,
    /// Whether it fails the gate.
    pub blocking: bool,
    /// The decision in words.
    pub reason: String,
    /// The waiver that applied (valid or expired).
    pub waiver: Option<WaiverRef>,
    /// The VEX statement that applied.
    pub vex: Option<VexRef>,
    /// Anything worth knowing (reported scores that differ from the
    /// computed one, vectors that could not be scored, …).
    pub notes: Vec<String>,
}

/// Counts for one severity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCount {
    /// Findings neither waived nor not affected.
    pub active: usize,
    /// The policy's budget, if any.
    pub budget: Option<u32>,
    /// Findings that block.
    pub blocking: usize,
    /// Findings waived.
    pub waived: usize,
    /// Findings not affected (VEX).
    pub not_affected: usize,
}

/// What became of a waiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaiverStatus {
    /// It waived at least one finding.
    Applied,
    /// It named at least one finding, but has expired: those findings block.
    Expired,
    /// It named findings, but another waiver (a later expiry, or one still
    /// valid) was the one applied to them.
    Superseded,
    /// It named only findings that VEX says are not affected.
    NotNeeded,
    /// It named no finding.
    Stale,
}

/// A waiver in the verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WaiverVerdict {
    /// The waiver.
    #[serde(flatten)]
    pub waiver: WaiverRef,
    /// What became of it.
    pub status: WaiverStatus,
    /// Whether it has expired at `now`.
    pub expired: bool,
    /// The findings it named (`id package`).
    pub matched: Vec<String>,
}

/// An input, for the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InputSummary {
    /// `report` or `vex`.
    pub kind: &'static str,
    /// Its name.
    pub source: String,
    /// Its format.
    pub format: &'static str,
    /// Findings (reports) or statements (VEX).
    pub entries: usize,
    /// The SHA-256 digest of its bytes.
    pub digest: String,
}

/// Totals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// De-duplicated findings.
    pub findings: usize,
    /// Findings that block.
    pub blocking: usize,
    /// Blocked by the threshold.
    pub blocked: usize,
    /// Blocked for exceeding a budget.
    pub over_budget: usize,
    /// Blocked because their waiver expired.
    pub expired_waiver: usize,
    /// Passed within a budget.
    pub within_budget: usize,
    /// Passed below the threshold.
    pub below_threshold: usize,
    /// Passed unscored.
    pub allowed_unscored: usize,
    /// Waived.
    pub waived: usize,
    /// Not affected (VEX).
    pub not_affected: usize,
}

/// The gate's verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// [`VERDICT_SCHEMA`].
    pub schema: &'static str,
    /// `pass` or `fail`.
    pub result: &'static str,
    /// The time waivers were judged at (RFC 3339, UTC).
    pub now: String,
    /// The policy applied.
    pub policy: Policy,
    /// The inputs.
    pub inputs: Vec<InputSummary>,
    /// Totals.
    pub counts: Counts,
    /// Per severity.
    pub severities: BTreeMap<Severity, SeverityCount>,
    /// Every finding: blocking first, then by severity, score, id, package.
    pub findings: Vec<FindingVerdict>,
    /// Every waiver, in file order.
    pub waivers: Vec<WaiverVerdict>,
}

/// A finding merged from several reports.
struct Merged {
    finding: Finding,
    ids: BTreeSet<String>,
    sources: BTreeSet<String>,
}

impl Merged {
    fn absorb(&mut self, f: Finding, sources: BTreeSet<String>) {
        self.ids.extend(f.ids());
        self.sources.extend(sources);
        let mine = &mut self.finding;
        let id = f.id.clone();
        mine.add_alias(&id);
        for a in &f.aliases {
            mine.add_alias(a);
        }
        for v in &f.vectors {
            mine.add_vector(v);
        }
        for l in &f.severity_labels {
            mine.add_label(l);
        }
        for s in f.reported_scores {
            if !mine.reported_scores.contains(&s) {
                mine.reported_scores.push(s);
            }
        }
        mine.fixed_versions.extend(f.fixed_versions);
        if mine.package.purl.is_none() {
            mine.package.purl = f.package.purl;
        }
        if mine.package.version.is_none() {
            mine.package.version = f.package.version;
        }
    }
}

/// Merges findings of the same vulnerability (ids or aliases in common) in
/// the same package (same [`Package::key`](super::Package::key)).
fn merge(reports: &[Report]) -> Vec<Merged> {
    let mut by_package: BTreeMap<String, Vec<Merged>> = BTreeMap::new();
    for r in reports {
        for f in &r.findings {
            let group = by_package.entry(f.package.key()).or_default();
            let ids = f.ids();
            let source = BTreeSet::from([format!("{}:{}", r.format.as_str(), r.source)]);
            let hits: Vec<usize> = group
                .iter()
                .enumerate()
                .filter(|(_, m)| !m.ids.is_disjoint(&ids))
                .map(|(i, _)| i)
                .collect();
            match hits.split_first() {
                None => group.push(Merged {
                    finding: f.clone(),
                    ids,
                    sources: source,
                }),
                Some((&first, rest)) => {
                    // Later hits are folded into the first (an alias can join two).
                    for &i in rest.iter().rev() {
                        let m = group.remove(i);
                        let (finding, sources) = (m.finding, m.sources);
                        if let Some(target) = group.get_mut(first) {
                            target.absorb(finding, sources);
                        }
                    }
                    if let Some(target) = group.get_mut(first) {
                        target.absorb(f.clone(), source);
                    }
                }
            }
        }
    }
    let mut out: Vec<Merged> = by_package.into_values().flatten().collect();
    for m in &mut out {
        // Show a CVE id when there is one.
        let all: BTreeSet<String> = std::iter::once(m.finding.id.clone())
            .chain(m.finding.aliases.iter().cloned())
            .collect();
        if !m.finding.id.to_ascii_uppercase().starts_with("CVE-")
            && let Some(cve) = all
                .iter()
                .find(|x| x.to_ascii_uppercase().starts_with("CVE-"))
        {
            m.finding.id = cve.clone();
        }
        // One spelling per id (reports differ in case: `GHSA-36P3-…`, `GHSA-36p3-…`).
        let mut seen = BTreeSet::from([m.finding.id.to_ascii_uppercase()]);
        m.finding.aliases = all
            .into_iter()
            .filter(|x| seen.insert(x.to_ascii_uppercase()))
            .collect();
    }
    out
}

fn fmt_score(s: f64) -> String {
    format!("{s:.1}")
}

fn waiver_ref(w: &Waiver) -> WaiverRef {
    WaiverRef {
        index: w.index,
        id: w.id.clone(),
        package: w.package.clone(),
        approver: w.approver.clone(),
        reason: w.reason.clone(),
        expires: w.expires.clone(),
        expires_at: w.expires_at.to_string(),
    }
}

fn vex_ref(s: &VexStatement) -> VexRef {
    VexRef {
        status: s.status.as_str().to_owned(),
        justification: s.justification.clone(),
        detail: s.detail.clone(),
        source: s.source.clone(),
        vulnerability: s.vulnerability.clone(),
        timestamp: s.timestamp.map(|t| t.to_string()),
    }
}

/// Scores a merged finding: (severity, score, source, vectors, notes).
fn score(
    f: &Finding,
) -> (
    Severity,
    Option<f64>,
    ScoreSource,
    Vec<VectorVerdict>,
    Vec<String>,
) {
    let mut vectors = Vec::new();
    let mut notes = Vec::new();
    let mut best: Option<(f64, String, CvssVersion)> = None;
    for v in &f.vectors {
        if is_scored(v) {
            match score_vector(v) {
                Ok(s) => {
                    if best.as_ref().is_none_or(|(b, _, _)| s.score > *b) {
                        best = Some((s.score, s.vector.clone(), s.version));
                    }
                    for r in f
                        .reported_scores
                        .iter()
                        .filter(|r| r.vector.as_deref() == Some(v.as_str()))
                    {
                        if (r.score - s.score).abs() > 0.05 {
                            notes.push(format!(
                                "{} states {} for {}; computed {}",
                                r.from,
                                fmt_score(r.score),
                                v,
                                fmt_score(s.score)
                            ));
                        }
                    }
                    vectors.push(VectorVerdict {
                        vector: v.clone(),
                        version: Some(s.version),
                        score: Some(s.score),
                        nomenclature: s.nomenclature,
                        error: None,
                    });
                }
                Err(e) => {
                    notes.push(format!("vector not scored: {e}"));
                    vectors.push(VectorVerdict {
                        vector: v.clone(),
                        version: detect_version(v),
                        score: None,
                        nomenclature: None,
                        error: Some(e.to_string()),
                    });
                }
            }
        } else {
            let version = detect_version(v);
            vectors.push(VectorVerdict {
                vector: v.clone(),
                version,
                score: None,
                nomenclature: None,
                error: Some(match version {
                    Some(CvssVersion::V2) => "CVSS v2 vectors are not scored".into(),
                    _ => "not a CVSS vector".into(),
                }),
            });
        }
    }
    if let Some((s, vector, version)) = best {
        return (
            Severity::from_score(s),
            Some(s),
            ScoreSource::Cvss { vector, version },
            vectors,
            notes,
        );
    }
    // Scores stated with a vector that was scored are not used; here no
    // vector was, so the report's own highest score stands, said so.
    let reported = f
        .reported_scores
        .iter()
        .filter(|r| (0.0..=10.0).contains(&r.score))
        .fold(None::<&ReportedScore>, |acc, r| match acc {
            Some(a) if a.score >= r.score => Some(a),
            _ => Some(r),
        });
    if let Some(r) = reported {
        notes.push(format!(
            "no CVSS v3/v4 vector to compute a score from: using the score {} states ({})",
            r.from,
            fmt_score(r.score)
        ));
        return (
            Severity::from_score(r.score),
            Some(r.score),
            ScoreSource::Reported {
                from: r.from.clone(),
            },
            vectors,
            notes,
        );
    }
    let label = f
        .severity_labels
        .iter()
        .map(|l| (Severity::from_label(l), l))
        .max_by_key(|(s, _)| *s);
    match label {
        Some((s, l)) if s != Severity::Unknown => (
            s,
            None,
            ScoreSource::Label { label: l.clone() },
            vectors,
            notes,
        ),
        _ => (Severity::Unknown, None, ScoreSource::None, vectors, notes),
    }
}

/// Runs the gate.
pub fn evaluate(input: GateInput<'_>) -> Verdict {
    let GateInput {
        policy,
        reports,
        vex,
        waivers,
        now,
    } = input;
    let statements: Vec<&VexStatement> = reports
        .iter()
        .flat_map(|r| &r.statements)
        .chain(vex.iter().flat_map(|d| &d.statements))
        .collect();

    struct Work {
        f: Finding,
        sources: BTreeSet<String>,
        severity: Severity,
        score: Option<f64>,
        source: ScoreSource,
        vectors: Vec<VectorVerdict>,
        notes: Vec<String>,
        disposition: Option<Disposition>,
        reason: String,
        waiver: Option<WaiverRef>,
        vex: Option<VexRef>,
    }

    let mut work: Vec<Work> = merge(reports)
        .into_iter()
        .map(|m| {
            let (severity, score, source, vectors, notes) = score(&m.finding);
            Work {
                f: m.finding,
                sources: m.sources,
                severity,
                score,
                source,
                vectors,
                notes,
                disposition: None,
                reason: String::new(),
                waiver: None,
                vex: None,
            }
        })
        .collect();

    // VEX: of the statements on a finding, the latest holds (document order breaks ties).
    for w in &mut work {
        let latest = statements
            .iter()
            .enumerate()
            .filter(|(_, s)| s.applies_to(&w.f))
            .max_by_key(|(i, s)| (s.timestamp, *i))
            .map(|(_, s)| *s);
        if let Some(s) = latest {
            w.vex = Some(vex_ref(s));
            if s.status.removes_finding() {
                w.disposition = Some(Disposition::NotAffected);
                w.reason = format!(
                    "VEX {} ({}){}",
                    s.status.as_str(),
                    s.source,
                    s.justification
                        .as_deref()
                        .map(|j| format!(": {j}"))
                        .unwrap_or_default()
                );
            } else {
                w.notes.push(format!(
                    "VEX {} ({}) does not remove the finding",
                    s.status.as_str(),
                    s.source
                ));
            }
        }
    }

    // Waivers: a valid one (the latest expiry) waives; only expired ones → blocks.
    let mut matched: Vec<Vec<String>> = vec![Vec::new(); waivers.len()];
    let mut used: Vec<bool> = vec![false; waivers.len()];
    let mut needed: Vec<bool> = vec![false; waivers.len()];
    for w in &mut work {
        let label = format!("{} {}", w.f.id, w.f.package.key());
        let hits: Vec<(usize, &Waiver)> = waivers
            .iter()
            .enumerate()
            .filter(|(_, x)| x.matches(&w.f))
            .collect();
        for (i, _) in &hits {
            if let Some(m) = matched.get_mut(*i) {
                m.push(label.clone());
            }
        }
        if w.disposition.is_some() {
            continue;
        }
        for (i, _) in &hits {
            if let Some(n) = needed.get_mut(*i) {
                *n = true;
            }
        }
        let pick = |valid: bool| {
            hits.iter()
                .filter(|(_, x)| x.holds_at(now) == valid)
                .max_by_key(|(i, x)| (x.expires_at, std::cmp::Reverse(*i)))
                .copied()
        };
        if let Some((i, x)) = pick(true) {
            if let Some(u) = used.get_mut(i) {
                *u = true;
            }
            w.disposition = Some(Disposition::Waived);
            w.reason = format!(
                "waived by {} until {} (waiver #{}: {})",
                x.approver, x.expires_at, x.index, x.reason
            );
            w.waiver = Some(waiver_ref(x));
        } else if let Some((i, x)) = pick(false) {
            if let Some(u) = used.get_mut(i) {
                *u = true;
            }
            w.disposition = Some(Disposition::ExpiredWaiver);
            w.reason = format!(
                "waiver #{} by {} expired at {} (now {now})",
                x.index, x.approver, x.expires_at
            );
            w.waiver = Some(waiver_ref(x));
        }
    }

    // Budgets count the active findings of each severity.
    let mut active: BTreeMap<Severity, usize> = BTreeMap::new();
    for w in &work {
        if !matches!(
            w.disposition,
            Some(Disposition::Waived | Disposition::NotAffected)
        ) {
            *active.entry(w.severity).or_default() += 1;
        }
    }
    let threshold = policy.threshold;
    for w in &mut work {
        if w.disposition.is_some() {
            continue;
        }
        let sev = w.severity;
        if let Some(&budget) = policy.budgets.get(&sev) {
            let n = active.get(&sev).copied().unwrap_or(0);
            if n <= budget as usize {
                w.disposition = Some(Disposition::WithinBudget);
                w.reason = format!("{n} {sev} finding(s), within the budget of {budget}");
            } else {
                w.disposition = Some(Disposition::OverBudget);
                w.reason = format!("{n} {sev} findings exceed the budget of {budget}");
            }
            continue;
        }
        let (d, reason) = match (w.score, policy.unscored) {
            (Some(s), _) if s >= threshold => (
                Disposition::Blocked,
                format!(
                    "score {} >= threshold {}",
                    fmt_score(s),
                    fmt_score(threshold)
                ),
            ),
            (Some(s), _) => (
                Disposition::BelowThreshold,
                format!(
                    "score {} < threshold {}",
                    fmt_score(s),
                    fmt_score(threshold)
                ),
            ),
            (None, Unscored::Block) => (
                Disposition::Blocked,
                "no score, and the policy blocks unscored findings".to_owned(),
            ),
            (None, Unscored::Allow) => (
                Disposition::AllowedUnscored,
                "no score, and the policy lets unscored findings pass".to_owned(),
            ),
            (None, Unscored::Severity) => match sev.band_max() {
                Some(top) if top >= threshold => (
                    Disposition::Blocked,
                    format!(
                        "no score; severity {sev} (up to {}) reaches threshold {}",
                        fmt_score(top),
                        fmt_score(threshold)
                    ),
                ),
                Some(top) => (
                    Disposition::BelowThreshold,
                    format!(
                        "no score; severity {sev} (up to {}) is below threshold {}",
                        fmt_score(top),
                        fmt_score(threshold)
                    ),
                ),
                None => match policy.unknown_severity {
                    UnknownSeverity::Block => (
                        Disposition::Blocked,
                        "no score and no known severity; the policy blocks unknown severity"
                            .to_owned(),
                    ),
                    UnknownSeverity::Allow => (
                        Disposition::AllowedUnscored,
                        "no score and no known severity; the policy lets it pass".to_owned(),
                    ),
                },
            },
        };
        w.disposition = Some(d);
        w.reason = reason;
    }

    let mut counts = Counts::default();
    let mut severities: BTreeMap<Severity, SeverityCount> = BTreeMap::new();
    for s in Severity::ALL {
        severities.insert(
            s,
            SeverityCount {
                budget: policy.budgets.get(&s).copied(),
                ..Default::default()
            },
        );
    }
    let mut findings: Vec<FindingVerdict> = work
        .into_iter()
        .map(|w| {
            let disposition = w.disposition.unwrap_or(Disposition::Blocked);
            counts.findings += 1;
            let c = severities.entry(w.severity).or_default();
            match disposition {
                Disposition::Blocked => counts.blocked += 1,
                Disposition::OverBudget => counts.over_budget += 1,
                Disposition::ExpiredWaiver => counts.expired_waiver += 1,
                Disposition::WithinBudget => counts.within_budget += 1,
                Disposition::BelowThreshold => counts.below_threshold += 1,
                Disposition::AllowedUnscored => counts.allowed_unscored += 1,
                Disposition::Waived => counts.waived += 1,
                Disposition::NotAffected => counts.not_affected += 1,
            }
            match disposition {
                Disposition::Waived => c.waived += 1,
                Disposition::NotAffected => c.not_affected += 1,
                _ => c.active += 1,
            }
            if disposition.is_blocking() {
                counts.blocking += 1;
                c.blocking += 1;
            }
            let mut fixed: Vec<String> = w.f.fixed_versions.into_iter().collect();
            fixed.sort();
            FindingVerdict {
                aliases: w.f.aliases.into_iter().collect(),
                package: PackageVerdict {
                    name: w.f.package.name.clone(),
                    version: w.f.package.version.clone(),
                    purl: w.f.package.purl.as_ref().map(ToString::to_string),
                },
                id: w.f.id,
                severity: w.severity,
                score: w.score,
                score_source: w.source,
                vectors: w.vectors,
                reported_scores: w.f.reported_scores,
                severity_labels: w.f.severity_labels,
                fixed_versions: fixed,
                sources: w.sources.into_iter().collect(),
                disposition,
                blocking: disposition.is_blocking(),
                reason: w.reason,
                waiver: w.waiver,
                vex: w.vex,
                notes: w.notes,
            }
        })
        .collect();
    findings.sort_by(|a, b| {
        b.blocking
            .cmp(&a.blocking)
            .then(b.severity.cmp(&a.severity))
            .then(b.score.unwrap_or(-1.0).total_cmp(&a.score.unwrap_or(-1.0)))
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.package.name.cmp(&b.package.name))
            .then_with(|| a.package.version.cmp(&b.package.version))
            .then_with(|| a.package.purl.cmp(&b.package.purl))
    });

    let waiver_verdicts = waivers
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let m = matched.get(i).cloned().unwrap_or_default();
            let expired = !x.holds_at(now);
            let status = if m.is_empty() {
                WaiverStatus::Stale
            } else if used.get(i).copied().unwrap_or(false) {
                if expired {
                    WaiverStatus::Expired
                } else {
                    WaiverStatus::Applied
                }
            } else if needed.get(i).copied().unwrap_or(false) {
                WaiverStatus::Superseded
            } else {
                WaiverStatus::NotNeeded
            };
            WaiverVerdict {
                waiver: waiver_ref(x),
                status,
                expired,
                matched: m,
            }
        })
        .collect();

    let mut inputs: Vec<InputSummary> = reports
        .iter()
        .map(|r| InputSummary {
            kind: "report",
            source: r.source.clone(),
            format: r.format.as_str(),
            entries: r.findings.len(),
            digest: r.digest.clone(),
        })
        .collect();
    inputs.extend(vex.iter().map(|d| InputSummary {
        kind: "vex",
        source: d.source.clone(),
        format: d.format.as_str(),
        entries: d.statements.len(),
        digest: d.digest.clone(),
    }));

    Verdict {
        schema: VERDICT_SCHEMA,
        result: if counts.blocking == 0 { "pass" } else { "fail" },
        now: now.to_string(),
        policy: policy.clone(),
        inputs,
        counts,
        severities,
        findings,
        waivers: waiver_verdicts,
    }
}

impl Verdict {
    /// Whether the gate passes (no blocking finding).
    pub fn passed(&self) -> bool {
        self.counts.blocking == 0
    }

    /// The verdict as RFC 8785 canonical JSON (sorted keys, stable numbers):
    /// the same inputs and `now` give the same bytes.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        Ok(cos_core::canonical::to_canonical_vec(self)?)
    }

    /// The verdict for people: the result, every finding with its
    /// disposition and reason, counts per severity against budgets, and the
    /// waivers.
    ///
    /// Every string that came from a report, a VEX document or a waiver is
    /// escaped ([`cos_core::text::shown`]): control characters, escape
    /// sequences and bidirectional overrides cannot drive the terminal.
    pub fn to_text(&self) -> String {
        use cos_core::text::{shown, shown_long};
        let list = |v: &[String]| v.iter().map(|x| shown(x)).collect::<Vec<_>>().join(", ");
        let mut out = String::new();
        let c = &self.counts;
        let _ = writeln!(
            out,
            "CVE gate: {} - {} of {} findings block (threshold {}; now {})",
            if self.passed() { "PASS" } else { "FAIL" },
            c.blocking,
            c.findings,
            fmt_score(self.policy.threshold),
            self.now
        );
        let _ = writeln!(
            out,
            "  {} blocked, {} over budget, {} expired waiver; {} within budget, {} below threshold, {} allowed unscored, {} waived, {} not affected",
            c.blocked,
            c.over_budget,
            c.expired_waiver,
            c.within_budget,
            c.below_threshold,
            c.allowed_unscored,
            c.waived,
            c.not_affected
        );
        if !self.findings.is_empty() {
            out.push('\n');
        }
        for f in &self.findings {
            let score = match (&f.score, &f.score_source) {
                (Some(s), ScoreSource::Cvss { vector, .. }) => {
                    format!("{} {}", fmt_score(*s), shown(vector))
                }
                (Some(s), ScoreSource::Reported { from }) => {
                    format!("{} (reported by {}, no vector)", fmt_score(*s), shown(from))
                }
                (_, ScoreSource::Label { label }) => {
                    format!("no score (label {})", shown(label))
                }
                _ => "no score".to_owned(),
            };
            let aliases = if f.aliases.is_empty() {
                String::new()
            } else {
                format!(" ({})", list(&f.aliases))
            };
            let version = f
                .package
                .version
                .as_deref()
                .map(|v| format!(" {}", shown(v)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{:<15} {}{} in {}{} - {} {}",
                f.disposition.label(),
                shown(&f.id),
                aliases,
                if f.package.name.is_empty() {
                    "(no package)".to_owned()
                } else {
                    shown(&f.package.name)
                },
                version,
                f.severity,
                score
            );
            let _ = writeln!(out, "{:<15} {}", "", shown_long(&f.reason));
            if !f.fixed_versions.is_empty() {
                let _ = writeln!(out, "{:<15} fixed in {}", "", list(&f.fixed_versions));
            }
            for n in &f.notes {
                let _ = writeln!(out, "{:<15} note: {}", "", shown_long(n));
            }
        }
        let _ = writeln!(
            out,
            "\nseverity   active  budget  blocking  waived  not affected"
        );
        for (s, n) in self.severities.iter().rev() {
            let _ = writeln!(
                out,
                "{:<10} {:>6}  {:>6}  {:>8}  {:>6}  {:>12}",
                s.as_str(),
                n.active,
                n.budget
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "-".into()),
                n.blocking,
                n.waived,
                n.not_affected
            );
        }
        if !self.waivers.is_empty() {
            let _ = writeln!(out, "\nwaivers:");
            for w in &self.waivers {
                let r = &w.waiver;
                let what = match w.status {
                    WaiverStatus::Applied => format!("applied to {} finding(s)", w.matched.len()),
                    WaiverStatus::Expired => format!(
                        "EXPIRED at {}: {} finding(s) it named now block",
                        shown(&r.expires_at),
                        w.matched.len()
                    ),
                    WaiverStatus::Superseded => format!(
                        "superseded by another waiver{}",
                        if w.expired { " (and expired)" } else { "" }
                    ),
                    WaiverStatus::NotNeeded => "not needed (VEX: not affected)".to_owned(),
                    WaiverStatus::Stale => format!(
                        "stale: matched no finding{}",
                        if w.expired { " (and expired)" } else { "" }
                    ),
                };
                let _ = writeln!(
                    out,
                    "  #{} {} {} (approved by {}, expires {}): {what}",
                    r.index,
                    shown(&r.id),
                    shown(&r.package),
                    shown(&r.approver),
                    shown(&r.expires)
                );
            }
        }
        out
    }
}
