//! What each step returns. These types are the tools' output schemas (`schemas/`), so field
//! names follow the contract and only ever grow.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::snapshot::{EventKind, SignalKind, SignalSource};
use super::values::{Day, Money, Pct, Score};

/// Health status bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Status {
    Healthy,
    Neutral,
    Unhealthy,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Healthy => "Healthy",
            Status::Neutral => "Neutral",
            Status::Unhealthy => "Unhealthy",
        }
    }
}

// The names are API (clients match on them): each serialises as its snake_case string, and
// the list only ever grows.
/// The name of a gate or readiness check: stable, safe to match on. The health gate's checks
/// come first, in the playbook's order, then the readiness checks.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    // The health gate.
    SeatUtilisation,
    SustainedUtilisation,
    HealthScore,
    ChurnSignals,
    Goals,
    Relationship,
    // Readiness.
    UseCaseEvidence,
    SeatsBeyondIdle,
    TechnicalCapacity,
    CoreFeatures,
    RelationshipScore,
    ValueScore,
    ExecutiveSponsor,
    OrganicSignals,
}

impl CheckName {
    /// Every check, in declaration order.
    pub const ALL: [CheckName; 14] = [
        CheckName::SeatUtilisation,
        CheckName::SustainedUtilisation,
        CheckName::HealthScore,
        CheckName::ChurnSignals,
        CheckName::Goals,
        CheckName::Relationship,
        CheckName::UseCaseEvidence,
        CheckName::SeatsBeyondIdle,
        CheckName::TechnicalCapacity,
        CheckName::CoreFeatures,
        CheckName::RelationshipScore,
        CheckName::ValueScore,
        CheckName::ExecutiveSponsor,
        CheckName::OrganicSignals,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::SeatUtilisation => "seat_utilisation",
            CheckName::SustainedUtilisation => "sustained_utilisation",
            CheckName::HealthScore => "health_score",
            CheckName::ChurnSignals => "churn_signals",
            CheckName::Goals => "goals",
            CheckName::Relationship => "relationship",
            CheckName::UseCaseEvidence => "use_case_evidence",
            CheckName::SeatsBeyondIdle => "seats_beyond_idle",
            CheckName::TechnicalCapacity => "technical_capacity",
            CheckName::CoreFeatures => "core_features",
            CheckName::RelationshipScore => "relationship_score",
            CheckName::ValueScore => "value_score",
            CheckName::ExecutiveSponsor => "executive_sponsor",
            CheckName::OrganicSignals => "organic_signals",
        }
    }

    /// The name in words, for sentences: `seat utilisation`.
    pub fn words(self) -> String {
        self.as_str().replace('_', " ")
    }
}

/// How the composite health score was obtained: `provided` (`health.score` as given),
/// `components` (computed from `health.components` with the policy weights) or `unknown`
/// (neither was given).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScoreSource {
    // `health.score` as given.
    Provided,
    // Computed from `health.components` with the policy weights.
    Components,
    // Neither was given.
    Unknown,
}

impl ScoreSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ScoreSource::Provided => "provided",
            ScoreSource::Components => "components",
            ScoreSource::Unknown => "unknown",
        }
    }
}

/// One gate or readiness check, with the customer's actual figure and the threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Check {
    /// Stable identifier, e.g. `seat_utilisation`.
    pub check: CheckName,
    /// `true` passed, `false` failed, `null` unknown (an unknown input fails the gate).
    pub passed: Option<bool>,
    /// The customer's figure, as shown to a person; `null` when unknown.
    pub actual: Option<String>,
    /// The threshold.
    pub required: String,
    /// Why it passed, failed or is unknown.
    pub detail: String,
}

/// The plan's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The health gate failed: only the health check and the unhealthy path.
    Blocked,
    /// Healthy, but a readiness threshold or the signal rule fails on measured data.
    NotReady,
    /// Everything measured passes and only data is missing (usage history absent or too
    /// short): the whole plan, confidence at most Medium, and a dated step 0 saying what to
    /// collect and the rule that stops the plan.
    Provisional,
    /// Ready by the data, but timing blocks it (an open escalation or incident, a contentious
    /// renewal, a distracted champion): nothing from "propose in context" on is dated inside
    /// the blocker.
    OnHold,
    /// Nothing unverified, nothing blocking: the whole plan.
    Ready,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Blocked => "blocked",
            Outcome::NotReady => "not_ready",
            Outcome::Provisional => "provisional",
            Outcome::OnHold => "on_hold",
            Outcome::Ready => "ready",
        }
    }
}

/// Step 1: the health prerequisite check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HealthResult {
    /// Customer name.
    pub account: String,
    /// The day the check counts from.
    pub as_of: Day,
    /// Active users.
    pub active_users: Option<u32>,
    /// Licensed seats.
    pub licensed_seats: Option<u32>,
    /// Active / licensed, in percent with one decimal; `null` when unknown.
    pub utilisation_pct: Option<Pct>,
    /// Median utilisation over the trailing window of `usage.history`; `null` without history.
    pub sustained_utilisation_pct: Option<Pct>,
    /// Composite health score, one decimal; `null` when unknown.
    pub score: Option<Score>,
    /// How the score was obtained: `provided`, `components` or `unknown`.
    pub score_source: ScoreSource,
    /// Health *for expansion purposes*: Unhealthy when utilisation is below the gate or a
    /// critical churn signal is active, whatever the score; never Healthy while the gate
    /// fails; otherwise the score's band. `null` only when nothing measured fails and the
    /// score is unknown.
    pub status: Option<Status>,
    /// The score's own band (Healthy >= 80, Neutral 60-79, Unhealthy < 60); `null` when the
    /// score is unknown.
    pub score_band: Option<Status>,
    /// Whether every gate check passed.
    pub clear_to_expand: bool,
    /// Every gate check.
    pub checks: Vec<Check>,
    /// Input paths the gate needed and did not have.
    pub missing: Vec<String>,
    /// How figures were derived (re-weighting, fallbacks, ignored future-dated inputs).
    pub notes: Vec<String>,
    /// Present when not clear to expand.
    pub unhealthy_path: Option<UnhealthyPath>,
}

/// What to do instead of expanding when the gate fails.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnhealthyPath {
    /// What needs to improve, by how much, and over what window.
    pub recovery_targets: Vec<RecoveryTarget>,
    /// Recover → reassess → plan, with dates.
    pub sequence: Sequence,
    /// The reassessment date.
    pub reassess_on: Day,
    /// Seat reduction to consider before any expansion conversation, when over-licensed.
    pub right_size: Option<RightSize>,
    /// Short note to the AE / sales: why expansion is on hold and what unblocks it.
    pub ae_note: String,
    /// Feedback for the AE and CS lead when the gap looks like an oversell or handoff problem.
    pub upstream_feedback: Option<String>,
    /// The diagnostic to run next.
    pub diagnose: String,
}

/// One quantified recovery target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecoveryTarget {
    /// `active_users`, `sustained_utilisation`, `health_score`, `churn_signal`, `goal`,
    /// `relationship` or `missing_input`.
    pub metric: String,
    /// Where it stands now.
    pub current: Option<String>,
    /// Where it must get to.
    pub target: String,
    /// For the seat target: active users needed (ceil of the gate share of licensed seats).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_active_users: Option<u32>,
    /// For the score target: the score to reach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_score: Option<Score>,
    /// The window over which the target must be sustained, in days.
    pub window_days: Option<u32>,
    /// The date by which the target should be met.
    pub by: Day,
    /// The target as a sentence.
    pub detail: String,
}

/// The recover → reassess → plan sequence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Sequence {
    /// Days to restore adoption.
    pub recover_window_days: u32,
    /// End of the recovery window.
    pub recover_by: Day,
    /// When to reassess expansion fit against the readiness signals.
    pub reassess_on: Day,
    /// The three stages, one sentence each.
    pub steps: Vec<String>,
}

/// Seat reduction to consider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RightSize {
    pub licensed_seats: u32,
    pub active_users: u32,
    /// Licensed seats nobody uses.
    pub unused_seats: u32,
    /// Active users plus headroom, never more than licensed.
    pub recommended_seats: u32,
    /// ARR on the seats above the recommendation; `null` when no price is known.
    pub arr_at_stake: Option<Money>,
    /// Why, as a sentence.
    pub detail: String,
}

/// Signal strength.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Strength {
    Weak,
    Moderate,
    Strong,
}

impl Strength {
    pub fn as_str(self) -> &'static str {
        match self {
            Strength::Weak => "Weak",
            Strength::Moderate => "Moderate",
            Strength::Strong => "Strong",
        }
    }
}

/// Expansion types, including the referral opportunity advocacy implies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExpansionType {
    Seats,
    Upgrade,
    Upsell,
    CrossSell,
    Contract,
    Referral,
}

impl ExpansionType {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpansionType::Seats => "seats",
            ExpansionType::Upgrade => "upgrade",
            ExpansionType::Upsell => "upsell",
            ExpansionType::CrossSell => "cross_sell",
            ExpansionType::Contract => "contract",
            ExpansionType::Referral => "referral",
        }
    }

    /// The playbook's label.
    pub fn label(self) -> &'static str {
        match self {
            ExpansionType::Seats => "Seat expansion",
            ExpansionType::Upgrade => "Upgrade",
            ExpansionType::Upsell => "Upsell",
            ExpansionType::CrossSell => "Cross-sell",
            ExpansionType::Contract => "Contract expansion",
            ExpansionType::Referral => "Referral program + case study",
        }
    }
}

/// One expansion signal, observed or derived from data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FoundSignal {
    pub kind: SignalKind,
    /// The playbook's name for it.
    pub label: String,
    /// When observed (for derived signals: `as_of`).
    pub date: Day,
    /// Specific evidence, with the customer's numbers.
    pub evidence: String,
    pub strength: Strength,
    /// Why it has that strength.
    pub strength_reason: String,
    /// Customer-driven (`customer`, `product_data`) rather than sales-driven.
    pub organic: bool,
    pub source: SignalSource,
    /// Derived by the engine from usage data rather than reported.
    pub derived: bool,
    /// The expansion type the signal implies.
    pub expansion_type: ExpansionType,
    /// The customer's words, when quoted.
    pub quote: Option<String>,
    /// Days between the signal and `as_of`.
    pub age_days: i64,
    /// Why the signal cannot be counted as verified yet (a derived signal resting on one
    /// reading, with no history to apply the sustained rule); `null` when verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverified: Option<String>,
    /// The tier, feature, module or product the signal names; a signal that names the
    /// offered one supports the offer whatever its kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// Step 2: expansion signals and readiness.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SignalsResult {
    pub signals: Vec<FoundSignal>,
    /// Distinct signal kinds with at least one organic, verified, non-Weak signal.
    pub organic_count: u32,
    /// Further distinct kinds whose only organic signals are unverified (one reading).
    pub unverified_count: u32,
    /// How many are needed.
    pub organic_required: u32,
    /// Quantified readiness thresholds, each with the customer's actual number.
    pub readiness: Vec<Check>,
    /// Every readiness check passed.
    pub ready: bool,
    pub notes: Vec<String>,
}

/// One adoption scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Scenario {
    pub name: String,
    /// Share of the volume in scope adopted, in percent.
    pub adoption_pct: Pct,
    /// The volume this scenario counts, e.g. `5 of 10 seats`.
    pub volume: String,
    /// `null` when a price assumption is missing.
    pub expansion_arr: Option<Money>,
    /// The arithmetic, as a line a CSM can defend.
    pub math: String,
}

/// Confidence in the estimate.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "Low",
            Confidence::Medium => "Medium",
            Confidence::High => "High",
        }
    }

    pub fn lower(self) -> Confidence {
        match self {
            Confidence::High => Confidence::Medium,
            _ => Confidence::Low,
        }
    }
}

/// When to propose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Timeline {
    /// Propose by this date; `null` when neither planning month, renewal nor an event says.
    pub propose_by: Option<Day>,
    /// Why that date.
    pub reason: String,
}

/// Step 3: the opportunity, with the math shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OpportunityResult {
    pub current_arr: Option<Money>,
    pub currency: String,
    /// `null` when neither an offer nor an organic signal proposes one.
    pub expansion_type: Option<ExpansionType>,
    /// `offer` when given, `signal` when proposed by the strongest organic signal.
    pub basis: String,
    /// Pricing assumption, volume in scope, and where each number came from.
    pub assumptions: Vec<String>,
    /// Assumptions that are needed and not given; each lowers confidence.
    pub missing_assumptions: Vec<String>,
    /// At least 100 % and 50 % adoption.
    pub scenarios: Vec<Scenario>,
    /// The scenario we forecast: 100 % at High confidence, otherwise 50 %.
    pub estimated_expansion_arr: Option<Money>,
    pub confidence: Confidence,
    /// Why that confidence.
    pub confidence_reason: String,
    /// (current ARR + estimated expansion) / current ARR, one decimal, before any churn.
    pub nrr_after_pct: Option<Pct>,
    /// Why the scenarios read as they do when adoption does not drive the figure (a flat
    /// price: one figure; a contract uplift: share of the added scope signed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_note: Option<String>,
    pub timeline: Timeline,
}

/// One enablement statement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Framing {
    pub expansion_type: ExpansionType,
    /// The signal it rests on, when any.
    pub signal: Option<SignalKind>,
    /// What not to say.
    pub bad: String,
    /// What to say, from the customer's own numbers.
    pub good: String,
}

/// Step 4: framing as enablement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FramingResult {
    /// The statement to lead with.
    pub framing: String,
    pub statements: Vec<Framing>,
}

/// One sales phrase found in a draft.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FramingFinding {
    /// The phrase as written.
    pub phrase: String,
    /// Byte offset in the draft.
    pub offset: usize,
    /// The pattern it matched.
    pub pattern: String,
    /// Why it is sales framing.
    pub why: String,
    /// An enablement rewrite.
    pub rewrite: String,
    /// The kind of sales talk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<SalesCategory>,
    /// The words in the phrase that made it sales talk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cue: Option<String>,
}

/// The kinds of sales talk `check_framing` finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SalesCategory {
    /// An ask to buy, sign, order or upgrade.
    Transactional,
    /// A deadline or pressure from our calendar.
    Urgency,
    /// Our quota, targets, quarter or managers.
    Quota,
    /// A discount, special price or freebie as the reason.
    Discount,
    /// Praise of our product, or pressure by comparison.
    Pitch,
    /// Talk about our products instead of the customer's goal.
    OurProduct,
}

/// `check_framing`: sales phrasing in a draft message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FramingCheck {
    /// No sales phrasing found.
    pub ok: bool,
    pub findings: Vec<FramingFinding>,
}

/// A timing trigger or blocker from `events` or the contract.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TimingItem {
    /// Event kind, or `renewal_contentious` / `planning_cycle` / `renewal`.
    pub kind: String,
    pub date: Option<Day>,
    /// Why it helps or blocks.
    pub why: String,
}

/// Step 5: when to propose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TimingResult {
    /// `propose` or `defer`.
    pub recommendation: String,
    /// The recommended date (start of the window), or the earliest date to revisit.
    pub date: Option<Day>,
    /// End of the recommended window.
    pub window_end: Option<Day>,
    /// The trigger to use as entry point.
    pub trigger: String,
    pub reason: String,
    pub triggers: Vec<TimingItem>,
    pub blockers: Vec<TimingItem>,
    /// When deferring: what must change first.
    pub defer_until: Vec<String>,
    /// When deferring: the day after the last blocker's known end; `null` when a blocker has
    /// no known end (then the steps from "propose in context" on are undated).
    pub blocked_until: Option<Day>,
}

/// One row of the execution table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApproachStep {
    /// 0 is the data-collection step of a provisional plan.
    pub step: u32,
    pub action: String,
    pub owner: String,
    /// `null` when the step waits on a blocker with no known end (see `after`).
    pub date: Option<Day>,
    /// What must happen before the step, when it cannot be dated yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// One phase the customer can recognise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Phase {
    /// discovery, scoping, trial, rollout, post-rollout review.
    pub phase: String,
    /// `Week 1-2` or `Month 1`, counted from the proposal in context.
    pub when: String,
    /// `null` when the proposal waits on a blocker with no known end.
    pub start: Option<Day>,
    pub end: Option<Day>,
    pub milestone: String,
}

/// Step 6: the approach.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApproachResult {
    /// What the customer has proven with the current tier, and why that makes it ready.
    pub value_summary: String,
    pub steps: Vec<ApproachStep>,
    /// `weeks` for technical expansions, `months` for org-wide seat rollouts.
    pub granularity: String,
    pub phases: Vec<Phase>,
}

/// One expansion risk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Risk {
    pub risk: String,
    /// Why it applies to this customer.
    pub why: String,
    /// What must be true before proceeding.
    pub gating_action: String,
}

/// Step 7: risks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RisksResult {
    pub risks: Vec<Risk>,
}

/// One success criterion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Criterion {
    pub criteria: String,
    pub measurement: String,
    pub target: String,
    /// `null` when the plan waits on a blocker with no known end.
    pub target_date: Option<Day>,
}

/// Step 8: post-expansion success criteria.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SuccessResult {
    pub criteria: Vec<Criterion>,
}

/// Every step's result that was reached: the health gate always, the rest only when it
/// passed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanSteps {
    pub health: HealthResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signals: Option<SignalsResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opportunity: Option<OpportunityResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framing: Option<FramingResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<TimingResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approach: Option<ApproachResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risks: Option<RisksResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_criteria: Option<SuccessResult>,
}

/// The whole plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanResult {
    pub outcome: Outcome,
    pub account: String,
    pub as_of: Day,
    /// Every step's result that was reached, under the contract's keys.
    #[serde(flatten)]
    pub steps: PlanSteps,
    /// The plan in one line: `Ready: propose 60 seats, USD 36,000, at the 2026-12-03 QBR`.
    pub verdict: String,
    /// The first thing to do this week, with its owner; `null` when blocked and nothing is
    /// owed this week.
    pub first_action: Option<FirstAction>,
    /// What is unverified (each shown with the figure that is known); empty unless
    /// `provisional`.
    pub unverified: Vec<String>,
    /// When not ready (and when blocked): the reassessment date and its owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reassessment: Option<Reassessment>,
    /// When not ready: what to watch for before reopening the conversation.
    pub watch_for: Vec<String>,
    /// The plan in the playbook's Output Format.
    pub markdown: String,
}

/// The first action of the plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FirstAction {
    pub action: String,
    pub owner: String,
    pub date: Option<Day>,
}

/// When and by whom a not-ready or blocked account is looked at again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Reassessment {
    pub on: Day,
    pub owner: String,
    /// What the reassessment checks.
    pub what: String,
}

/// A step tool's answer: the step's result, or the gate result when the gate failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Gated<T> {
    /// `blocked` when the health gate failed (then only `health` is present), otherwise the
    /// plan's outcome (`not_ready`, `provisional`, `on_hold` or `ready`).
    pub outcome: Outcome,
    pub account: String,
    pub as_of: Day,
    /// The gate result with the unhealthy path; present when `outcome` is `blocked`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthResult>,
    /// The step's result; absent when `outcome` is `blocked`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub result: Option<T>,
}

/// Time-order helper shared by steps that pick the latest or nearest event.
pub fn event_label(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Qbr => "QBR / business review",
        EventKind::AnnualPlanning => "Annual planning",
        EventKind::SuccessMilestone => "Success milestone",
        EventKind::NewTeamMember => "New team member joining",
        EventKind::FeatureRequestConversation => "Feature request conversation",
        EventKind::SupportEscalation => "Support escalation",
        EventKind::Incident => "Incident",
        EventKind::ChampionDistracted => "Champion distracted by internal priorities",
    }
}

#[cfg(test)]
mod check_name_tests {
    use super::CheckName;

    #[test]
    fn every_check_is_listed_once_in_declaration_order() {
        // Exhaustive: a new check that is not placed here does not compile.
        let index = |c: CheckName| match c {
            CheckName::SeatUtilisation => 0,
            CheckName::SustainedUtilisation => 1,
            CheckName::HealthScore => 2,
            CheckName::ChurnSignals => 3,
            CheckName::Goals => 4,
            CheckName::Relationship => 5,
            CheckName::UseCaseEvidence => 6,
            CheckName::SeatsBeyondIdle => 7,
            CheckName::TechnicalCapacity => 8,
            CheckName::CoreFeatures => 9,
            CheckName::RelationshipScore => 10,
            CheckName::ValueScore => 11,
            CheckName::ExecutiveSponsor => 12,
            CheckName::OrganicSignals => 13,
        };
        for (i, c) in CheckName::ALL.into_iter().enumerate() {
            assert_eq!(index(c), i);
            assert_eq!(c as usize, i);
        }
        // The segment plan breaks ties between failing checks by this order (the gate's).
        assert!(CheckName::ALL.windows(2).all(|w| w[0] < w[1]));
    }
}
