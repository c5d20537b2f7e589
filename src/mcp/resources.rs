//! Resources: the active policy, the rules the server enforces, the snapshot schema, and
//! one resource per known account.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::engine::Policy;
use crate::model::Snapshot;
use crate::model::values::{fmt_pct, fmt_score};

pub const POLICY_URI: &str = "expansion://policy";
pub const PLAYBOOK_URI: &str = "expansion://playbook";
pub const SCHEMA_URI: &str = "expansion://schema/account";
pub const ACCOUNT_PREFIX: &str = "expansion://accounts/";
pub const ACCOUNT_TEMPLATE: &str = "expansion://accounts/{name}";

/// Unreserved characters (RFC 3986) stay as they are; everything else is escaped.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn account_uri(name: &str) -> String {
    format!("{ACCOUNT_PREFIX}{}", utf8_percent_encode(name, SEGMENT))
}

/// The account name in an account URI, decoded.
pub fn account_name(uri: &str) -> Option<String> {
    let raw = uri.strip_prefix(ACCOUNT_PREFIX)?;
    if raw.is_empty() {
        return None;
    }
    percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

pub fn policy_json(p: &Policy) -> String {
    serde_json::to_string_pretty(p).unwrap_or_default()
}

pub fn account_json(s: &Snapshot) -> String {
    serde_json::to_string_pretty(s).unwrap_or_default()
}

/// The rules the server enforces, with the active thresholds.
pub fn playbook_markdown(p: &Policy) -> String {
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
    fn account_uris_round_trip() {
        for name in ["Northwind", "Acme Corp", "Café/Ünïcode & Co"] {
            assert_eq!(account_name(&account_uri(name)).as_deref(), Some(name));
        }
        assert_eq!(account_uri("Acme Corp"), "expansion://accounts/Acme%20Corp");
        assert_eq!(account_name("expansion://accounts/"), None);
    }
}
