//! The thresholds of the playbook as one value. Defaults are the contract's; a TOML file may
//! override any of them. Every number the engine compares against lives here, so that a CS
//! leader can read the rules the server enforces in one place (`expansion://policy`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::input::{FieldError, InputError};
use crate::model::snapshot::ChurnKind;

// The thresholds stay `f64`, as configured: they are input, not results (`validate` refuses a
// non-finite or out-of-range one, naming it), and the engine compares each exact figure with
// them as given. A figure a result carries is a `Pct` or a `Score`, never one of these. (A
// plain comment: the doc comment below is the published schema's description.)
/// Every threshold the engine applies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Seat utilisation (active / licensed) at or above which the gate passes, in percent.
    pub utilisation_gate_pct: f64,
    /// Shortest stretch of `usage.history` that can show utilisation is sustained, in days.
    pub sustained_min_days: u32,
    /// The trailing window over which sustained utilisation is judged, in days.
    pub sustained_window_days: u32,
    /// Composite health score at or above which the gate passes.
    pub health_gate: f64,
    /// Score at or above which the status is Healthy.
    pub healthy_band: f64,
    /// Score at or above which the status is Neutral (below: Unhealthy).
    pub neutral_band: f64,
    /// Churn signal kinds that make the status Unhealthy whatever the score, while active.
    pub critical_churn_signals: Vec<ChurnKind>,
    /// Weights of the composite health score.
    pub weights: Weights,
    /// Organic signals (distinct kinds) needed before an expansion conversation.
    pub min_organic_signals: u32,
    /// Window over which recovery must be sustained, in days.
    pub recovery_window_days: u32,
    /// Days from `as_of` to the reassessment of a blocked account.
    pub reassess_after_days: u32,
    /// Utilisation of seats or of a plan limit at or above which it is a usage-limit signal, in percent.
    pub capacity_signal_pct: f64,
    /// Below this utilisation the customer pays for substantially more than it uses and
    /// right-sizing is recommended before any expansion, in percent.
    pub right_size_below_pct: f64,
    /// Headroom kept above active users when recommending a right-sized seat count, in percent.
    pub right_size_headroom_pct: f64,
    /// When peak utilisation ever seen stays below this, the gap looks like an oversell or a
    /// handoff problem and is flagged upstream, in percent.
    pub oversell_peak_pct: f64,
    /// Minimum relationship score for readiness.
    pub relationship_score_min: f64,
    /// Minimum value score for readiness.
    pub value_score_min: f64,
    /// Core features that must be actively used for readiness ("more than one").
    pub min_active_core_features: u32,
    /// A core feature counts as actively used only when at least this share of licensed
    /// seats uses it, in percent: a feature one person opens is not engagement.
    pub core_feature_active_pct: f64,
    /// A signal observed within this many days is recent.
    pub signal_recent_days: u32,
    /// A signal older than this many days is stale: Weak, and not counted.
    pub signal_stale_days: u32,
    /// Team growth (team size / users with access) at or above this ratio is a strong signal, in percent.
    pub strong_team_growth_pct: f64,
    /// Days an event stays relevant as a timing trigger (a milestone, a new team member).
    pub trigger_recent_days: u32,
    /// Days a non-open blocker (an escalation, a distracted champion) still blocks timing.
    pub blocker_cooldown_days: u32,
    /// Renewals closer than this many days make expansion part of the renewal conversation.
    pub renewal_near_days: u32,
    /// Post-expansion adoption target, in percent of the new capacity in use.
    pub adoption_target_pct: f64,
    /// Days after rollout by which adoption is measured.
    pub adoption_window_days: u32,
}

/// Weights of the composite health score; they need not sum to 100 (they are normalised).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    pub adoption: f64,
    pub engagement: f64,
    pub relationship: f64,
    pub value: f64,
    pub commercial: f64,
}

impl Default for Weights {
    fn default() -> Weights {
        Weights {
            adoption: 30.0,
            engagement: 25.0,
            relationship: 20.0,
            value: 15.0,
            commercial: 10.0,
        }
    }
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            utilisation_gate_pct: 60.0,
            sustained_min_days: 30,
            sustained_window_days: 60,
            health_gate: 70.0,
            healthy_band: 80.0,
            neutral_band: 60.0,
            critical_churn_signals: vec![
                ChurnKind::ChampionLeft,
                ChurnKind::PaymentIssue,
                ChurnKind::CompetitorEvaluation,
                ChurnKind::DowngradeRequest,
            ],
            weights: Weights::default(),
            min_organic_signals: 2,
            recovery_window_days: 60,
            reassess_after_days: 90,
            capacity_signal_pct: 90.0,
            right_size_below_pct: 50.0,
            right_size_headroom_pct: 20.0,
            oversell_peak_pct: 50.0,
            relationship_score_min: 70.0,
            value_score_min: 70.0,
            min_active_core_features: 2,
            core_feature_active_pct: 20.0,
            signal_recent_days: 30,
            signal_stale_days: 90,
            strong_team_growth_pct: 125.0,
            trigger_recent_days: 30,
            blocker_cooldown_days: 14,
            renewal_near_days: 60,
            adoption_target_pct: 50.0,
            adoption_window_days: 30,
        }
    }
}

impl Policy {
    /// Reads a policy from TOML text; absent keys keep their defaults.
    pub fn from_toml(text: &str) -> Result<Policy, InputError> {
        let policy: Policy = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            InputError::one("policy", format!("is invalid: {msg}"))
        })?;
        policy.validate()?;
        Ok(policy)
    }

    /// The gate in tenths of a percent, so seat targets are computed on integers.
    pub fn utilisation_gate_tenths(&self) -> u64 {
        pct_tenths(self.utilisation_gate_pct)
    }

    pub fn validate(&self) -> Result<(), InputError> {
        let mut errors = Vec::new();
        let mut pct = |field: &str, x: f64, max: f64| {
            if !x.is_finite() || x < 0.0 || x > max {
                errors.push(FieldError {
                    field: format!("policy.{field}"),
                    problem: format!("must be between 0 and {max} (got {x})"),
                });
            }
        };
        pct("utilisation_gate_pct", self.utilisation_gate_pct, 100.0);
        pct("health_gate", self.health_gate, 100.0);
        pct("healthy_band", self.healthy_band, 100.0);
        pct("neutral_band", self.neutral_band, 100.0);
        pct("capacity_signal_pct", self.capacity_signal_pct, 1000.0);
        pct("right_size_below_pct", self.right_size_below_pct, 100.0);
        pct(
            "right_size_headroom_pct",
            self.right_size_headroom_pct,
            1000.0,
        );
        pct("oversell_peak_pct", self.oversell_peak_pct, 100.0);
        pct("relationship_score_min", self.relationship_score_min, 100.0);
        pct("value_score_min", self.value_score_min, 100.0);
        pct(
            "strong_team_growth_pct",
            self.strong_team_growth_pct,
            10_000.0,
        );
        pct("adoption_target_pct", self.adoption_target_pct, 100.0);
        pct(
            "core_feature_active_pct",
            self.core_feature_active_pct,
            100.0,
        );
        let w = &self.weights;
        for (name, x) in [
            ("adoption", w.adoption),
            ("engagement", w.engagement),
            ("relationship", w.relationship),
            ("value", w.value),
            ("commercial", w.commercial),
        ] {
            pct(&format!("weights.{name}"), x, 1000.0);
        }
        if w.adoption + w.engagement + w.relationship + w.value + w.commercial <= 0.0 {
            errors.push(FieldError {
                field: "policy.weights".into(),
                problem: "must not all be 0".into(),
            });
        }
        if self.neutral_band > self.healthy_band {
            errors.push(FieldError {
                field: "policy.neutral_band".into(),
                problem: format!(
                    "({}) must not exceed healthy_band ({})",
                    self.neutral_band, self.healthy_band
                ),
            });
        }
        if self.sustained_min_days > self.sustained_window_days {
            errors.push(FieldError {
                field: "policy.sustained_min_days".into(),
                problem: format!(
                    "({}) must not exceed sustained_window_days ({})",
                    self.sustained_min_days, self.sustained_window_days
                ),
            });
        }
        if self.signal_recent_days > self.signal_stale_days {
            errors.push(FieldError {
                field: "policy.signal_recent_days".into(),
                problem: "must not exceed signal_stale_days".into(),
            });
        }
        for (field, days) in [
            ("recovery_window_days", self.recovery_window_days),
            ("reassess_after_days", self.reassess_after_days),
            ("sustained_window_days", self.sustained_window_days),
        ] {
            if days == 0 || days > 3650 {
                errors.push(FieldError {
                    field: format!("policy.{field}"),
                    problem: format!("must be from 1 to 3650 days (got {days})"),
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(InputError { errors })
        }
    }
}

/// A percentage as integer tenths (60.0 → 600), the unit integer seat arithmetic uses.
pub fn pct_tenths(pct: f64) -> u64 {
    let t = (pct * 10.0).round();
    if t.is_finite() && t > 0.0 {
        t as u64
    } else {
        0
    }
}

/// The rules the server enforces, with the active thresholds.
pub fn playbook_markdown(p: &Policy) -> String {
    use crate::model::values::{fmt_pct, fmt_score};
    let critical: Vec<&str> = p
        .critical_churn_signals
        .iter()
        .map(|k| k.as_str())
        .collect();
    format!(
        r#"# The expansion playbook, as this server enforces it

Every figure is computed by the server from the snapshot and `as_of`; the assistant presents
it and never recomputes it. The steps run in order and the health gate cannot be skipped:
every step tool runs it first and answers `outcome: blocked` when it fails.

## Step 1: Health gate (mandatory)
- Seat utilisation = active users / licensed seats, shown with one decimal; passes at >= {gate}.
- Sustained: with `usage.history`, the readings of the trailing {win} days must reach back at
  least {min} days, and a strict majority of them (the lower median) must be at or above {gate}.
  One week's jump after a month below the gate does not pass.
- Composite health score >= {hg}: `health.score`, else the components weighted adoption
  {wa}, engagement {we}, relationship {wr}, value {wv}, commercial {wc} (re-weighted over the
  components present, and said so).
- Status: Healthy >= {hb}, Neutral >= {nb}, else Unhealthy; an active critical churn signal
  ({critical}) makes it Unhealthy whatever the score.
- No active churn signals; every stated goal achieved or on track; relationship responsive,
  engaged, sponsor identified.
- An input the gate needs and does not have fails its check (`passed: null`) and is listed in
  `missing`: an account is never assumed healthy.
- When the gate fails: recovery targets (active users to ceil({gate} x licensed seats),
  sustained over {rw} days; the score to reach; the churn signals, goals and relationship
  items to fix), recover ({rw} days) -> reassess ({ra} days out) -> plan only if signals
  align, right-sizing below {rs} utilisation (active users + {hr}% headroom), a note to the
  AE, and upstream feedback when peak utilisation never reached {os}.

## Step 2: Signals and readiness
- Six signals: usage limits (upgrade), higher-tier feature requests (upsell), team growth
  (seats), new use cases (cross-sell), executive engagement (contract), advocacy (referral).
- Seat utilisation or a plan limit at or above {cap} is a usage-limit signal derived from data.
- Organic = surfaced by the customer or product data; sales- or CSM-surfaced signals are Weak
  and not counted. Signals older than {stale} days are stale (Weak).
- At least {mos} organic signals (distinct kinds) before any expansion conversation.
- Readiness: sustained utilisation >= {gate}, score >= {hg}, >= {cf} core features in active
  use, relationship and value scores >= {rel} / {val}, executive sponsor confirmed.

## Step 3: Opportunity
- Pricing per type: per seat; tier delta per seat or tier premium on ARR; module flat or per
  seat; cross-sell product price; contract uplift on ARR. At least 100% and 50% adoption.
- A price that is not given is never invented: the missing assumption is named and confidence
  drops a level. Money is exact to the cent. The forecast uses the 100% scenario only at High
  confidence. NRR after = (ARR + forecast) / ARR.

## Steps 4-8
- Framing: enablement statements from the customer's own numbers; sales phrasing is flagged.
- Timing: propose after a milestone, at a QBR, ahead of annual planning; defer during an open
  escalation or incident, a contentious renewal, or while the champion is distracted.
- Approach: value summary first; phases in weeks (technical) or months (org-wide rollout).
- Risks: specific to the expansion type, each with why it applies and the gating action.
- Success: adoption > {at} within {aw} days, health stable, value confirmed, NPS maintained.
"#,
        gate = fmt_pct(p.utilisation_gate_pct),
        win = p.sustained_window_days,
        min = p.sustained_min_days,
        hg = fmt_score(p.health_gate),
        wa = p.weights.adoption,
        we = p.weights.engagement,
        wr = p.weights.relationship,
        wv = p.weights.value,
        wc = p.weights.commercial,
        hb = fmt_score(p.healthy_band),
        nb = fmt_score(p.neutral_band),
        critical = critical.join(", "),
        rw = p.recovery_window_days,
        ra = p.reassess_after_days,
        rs = fmt_pct(p.right_size_below_pct),
        hr = p.right_size_headroom_pct,
        os = fmt_pct(p.oversell_peak_pct),
        cap = fmt_pct(p.capacity_signal_pct),
        stale = p.signal_stale_days,
        mos = p.min_organic_signals,
        cf = p.min_active_core_features,
        rel = fmt_score(p.relationship_score_min),
        val = fmt_score(p.value_score_min),
        at = fmt_pct(p.adoption_target_pct),
        aw = p.adoption_window_days,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_only_what_it_names() {
        let p = Policy::from_toml("health_gate = 75\n[weights]\nadoption = 40\n").unwrap();
        assert_eq!(p.health_gate, 75.0);
        assert_eq!(p.weights.adoption, 40.0);
        assert_eq!(p.weights.engagement, 25.0);
        assert_eq!(p.utilisation_gate_pct, 60.0);
    }

    #[test]
    fn toml_rejects_unknown_and_out_of_range() {
        let e = Policy::from_toml("health_gat = 75").unwrap_err();
        assert!(e.to_string().contains("health_gat"), "{e}");
        let e = Policy::from_toml("health_gate = 170").unwrap_err();
        assert!(e.to_string().contains("policy.health_gate"), "{e}");
    }
}
