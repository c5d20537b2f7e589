//! The account snapshot: one customer at one moment, exactly as the contract describes it.
//!
//! Every field but `name` is optional because missing means *unknown*, never zero: the
//! engine reports what it needed and did not get instead of assuming a healthy default.
//! Unknown fields are rejected so that a typo (`licenced_seats`) is an error the assistant
//! can fix, not a silently unknown value.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::values::{Day, Money};

/// One customer at one moment: contract, usage, health, expansion signals, timing events and
/// the expansion under consideration.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Customer name as the CSM says it.
    pub name: String,
    /// Stable identifier from the CRM, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Segment, e.g. `Enterprise`, `Mid-Market`, `SMB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// The customer-success manager who owns the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csm: Option<String>,
    /// The account executive (sales owner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_executive: Option<String>,
    /// ISO currency code of every amount; defaults to `USD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The day every date calculation counts from; defaults to today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<Day>,
    /// What the customer pays for.
    #[serde(default)]
    pub contract: Contract,
    /// How the customer uses what it pays for.
    #[serde(default)]
    pub usage: Usage,
    /// Health inputs: score or components, churn signals, goals, relationship.
    #[serde(default)]
    pub health: Health,
    /// Observed expansion signals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<Signal>,
    /// Timing context: QBRs, planning, milestones, escalations, incidents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    /// The expansion under consideration; when absent the strongest organic signal proposes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<Offer>,
}

/// What the customer pays for.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// Current annual recurring revenue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arr: Option<Money>,
    /// Seats or licences paid for; must be greater than 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub licensed_seats: Option<u32>,
    /// Annual price per seat on the current plan; defaults to `arr / licensed_seats`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_per_seat: Option<Money>,
    /// Current tier name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Next renewal date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_date: Option<Day>,
    /// The renewal is disputed or at risk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_contentious: Option<bool>,
    /// Month (1-12) in which the customer sets next year's budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 12))]
    pub planning_month: Option<u8>,
}

/// How the customer uses what it pays for.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    /// Active users over the last 30 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_users: Option<u32>,
    /// Trailing daily or weekly active-user counts (same measure as `active_users`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<UsagePoint>,
    /// Consumption against plan limits (API calls, storage, projects...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<UsageLimit>,
    /// Engagement per feature.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<FeatureUsage>,
}

/// One reading of active users.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UsagePoint {
    /// Day of the reading.
    pub date: Day,
    /// Active users at that reading.
    pub active_users: u32,
}

/// Consumption of one plan limit.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UsageLimit {
    /// What is limited: `api_calls`, `storage_gb`, `projects`...
    pub metric: String,
    /// Amount used in the period.
    #[schemars(range(min = 0))]
    pub used: f64,
    /// The plan's limit for the period; must be greater than 0.
    #[schemars(range(min = 0))]
    pub limit: f64,
    /// The period the limit applies to, e.g. `month`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
}

/// Engagement with one feature.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FeatureUsage {
    /// Feature name.
    pub name: String,
    /// Whether the feature is one of the product's core features.
    #[serde(default)]
    pub core: bool,
    /// Users active on the feature over the last 30 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_users: Option<u32>,
}

/// Health inputs.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// Composite health score 0-100, if the team already has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub score: Option<f64>,
    /// Component scores, used to compute the composite when `score` is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<HealthComponents>,
    /// Churn risk signals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub churn_signals: Vec<ChurnSignal>,
    /// The customer's stated goals and their status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub goals: Vec<Goal>,
    /// Relationship facts: responsiveness, engagement, sponsor and champion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<Relationship>,
    /// Relationship dimension 0-100, when known separately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub relationship_score: Option<f64>,
    /// Value dimension 0-100, when known separately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub value_score: Option<f64>,
}

/// The five components of the composite health score, each 0-100.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HealthComponents {
    /// Adoption 0-100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub adoption: Option<f64>,
    /// Engagement 0-100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub engagement: Option<f64>,
    /// Relationship 0-100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub relationship: Option<f64>,
    /// Value 0-100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub value: Option<f64>,
    /// Commercial 0-100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub commercial: Option<f64>,
}

/// Kinds of churn signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChurnKind {
    UsageDecline,
    ChampionLeft,
    PaymentIssue,
    CompetitorEvaluation,
    NpsDetractor,
    DowngradeRequest,
    SupportEscalation,
    Other,
}

impl ChurnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChurnKind::UsageDecline => "usage_decline",
            ChurnKind::ChampionLeft => "champion_left",
            ChurnKind::PaymentIssue => "payment_issue",
            ChurnKind::CompetitorEvaluation => "competitor_evaluation",
            ChurnKind::NpsDetractor => "nps_detractor",
            ChurnKind::DowngradeRequest => "downgrade_request",
            ChurnKind::SupportEscalation => "support_escalation",
            ChurnKind::Other => "other",
        }
    }
}

/// A churn risk signal.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChurnSignal {
    /// What kind of risk.
    pub kind: ChurnKind,
    /// What was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Day>,
    /// Whether it is still active (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

impl ChurnSignal {
    pub fn is_active(&self) -> bool {
        self.active.unwrap_or(true)
    }
}

/// Status of a customer goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoalStatus {
    Achieved,
    OnTrack,
    AtRisk,
    OffTrack,
}

impl GoalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GoalStatus::Achieved => "achieved",
            GoalStatus::OnTrack => "on_track",
            GoalStatus::AtRisk => "at_risk",
            GoalStatus::OffTrack => "off_track",
        }
    }
}

/// A goal the customer stated.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    /// The goal in the customer's words.
    pub goal: String,
    /// Where it stands.
    pub status: GoalStatus,
}

/// Relationship facts.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Relationship {
    /// The customer answers within a reasonable time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsive: Option<bool>,
    /// The customer takes part in meetings, reviews and programmes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engaged: Option<bool>,
    /// Name of the sponsor (budget holder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor: Option<String>,
    /// An executive sponsor has been confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executive_sponsor_confirmed: Option<bool>,
    /// Name of the day-to-day champion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub champion: Option<String>,
}

/// The six kinds of expansion signal in the playbook.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    UsageLimit,
    FeatureRequest,
    TeamGrowth,
    NewUseCase,
    ExecutiveEngagement,
    Advocacy,
}

impl SignalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::UsageLimit => "usage_limit",
            SignalKind::FeatureRequest => "feature_request",
            SignalKind::TeamGrowth => "team_growth",
            SignalKind::NewUseCase => "new_use_case",
            SignalKind::ExecutiveEngagement => "executive_engagement",
            SignalKind::Advocacy => "advocacy",
        }
    }

    /// The playbook's name for the signal.
    pub fn label(self) -> &'static str {
        match self {
            SignalKind::UsageLimit => "Hitting usage limits",
            SignalKind::FeatureRequest => "Requesting higher-tier features",
            SignalKind::TeamGrowth => "Team size growing",
            SignalKind::NewUseCase => "New use cases emerging",
            SignalKind::ExecutiveEngagement => "Executive engagement increasing",
            SignalKind::Advocacy => "Referrals or advocacy",
        }
    }
}

/// Where a signal came from. `customer` and `product_data` are organic; `sales` and `csm`
/// are not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignalSource {
    Customer,
    ProductData,
    Sales,
    Csm,
}

impl SignalSource {
    pub fn is_organic(self) -> bool {
        matches!(self, SignalSource::Customer | SignalSource::ProductData)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SignalSource::Customer => "customer",
            SignalSource::ProductData => "product_data",
            SignalSource::Sales => "sales",
            SignalSource::Csm => "csm",
        }
    }
}

/// An observed expansion signal.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    /// Which of the six signals.
    pub kind: SignalKind,
    /// When it was observed.
    pub date: Day,
    /// Specific evidence: usage data, what was said, by whom.
    pub evidence: String,
    /// Who surfaced it: `customer` or `product_data` (organic), `sales` or `csm` (not organic).
    pub source: SignalSource,
    /// The customer's words, if quoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// `feature_request`: the feature asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// `feature_request`: the tier that has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// `team_growth`: people on the team now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_size: Option<u32>,
    /// `team_growth`: people who have access today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_with_access: Option<u32>,
    /// `new_use_case`: the adjacent product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// `new_use_case`: the module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// `usage_limit`: the limited metric, when the signal is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
}

/// Kinds of timing event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Qbr,
    AnnualPlanning,
    SuccessMilestone,
    NewTeamMember,
    FeatureRequestConversation,
    SupportEscalation,
    Incident,
    ChampionDistracted,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Qbr => "qbr",
            EventKind::AnnualPlanning => "annual_planning",
            EventKind::SuccessMilestone => "success_milestone",
            EventKind::NewTeamMember => "new_team_member",
            EventKind::FeatureRequestConversation => "feature_request_conversation",
            EventKind::SupportEscalation => "support_escalation",
            EventKind::Incident => "incident",
            EventKind::ChampionDistracted => "champion_distracted",
        }
    }
}

/// Timing context.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// What happened or is scheduled.
    pub kind: EventKind,
    /// When (past or scheduled).
    pub date: Day,
    /// Free-text detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Whether it is ongoing (escalations, incidents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// The day a blocker is expected to end (a champion busy with a migration until 30
    /// June): timing starts after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Day>,
}

/// Expansion types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfferType {
    Seats,
    Upgrade,
    Upsell,
    CrossSell,
    Contract,
}

/// The expansion under consideration and its pricing.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    /// Expansion type.
    #[serde(rename = "type")]
    pub kind: OfferType,
    /// `seats`: seats in scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats: Option<u32>,
    /// `seats`: annual price per added seat (defaults to the contract's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_per_seat: Option<Money>,
    /// `upgrade`: the tier proposed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_plan: Option<String>,
    /// `upgrade`: annual price per seat on the target tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_price_per_seat: Option<Money>,
    /// `upgrade`: the target tier's premium over current ARR, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub tier_premium_pct: Option<f64>,
    /// `upsell`: the module proposed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// `upsell`: flat annual module price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_price: Option<Money>,
    /// `upsell`: annual module price per seat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_price_per_seat: Option<Money>,
    /// `cross_sell`: the adjacent product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// `cross_sell`: flat annual product price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_price: Option<Money>,
    /// `contract`: term proposed, in years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10))]
    pub term_years: Option<u8>,
    /// `contract`: ARR uplift from the broader scope, in percent of current ARR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub uplift_pct: Option<f64>,
    /// Whether the customer can staff the technical work a tier with technical dependencies
    /// (API, integration) needs: `confirmed`, `none` or `unknown` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technical_capacity: Option<TechnicalCapacity>,
}

/// Whether the customer has the engineering capacity a technical tier needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TechnicalCapacity {
    /// A named engineering owner with time allocated.
    Confirmed,
    /// Nobody can do the work: the tier would be shelfware.
    None,
    /// Not yet asked.
    #[default]
    Unknown,
}

impl TechnicalCapacity {
    pub fn as_str(self) -> &'static str {
        match self {
            TechnicalCapacity::Confirmed => "confirmed",
            TechnicalCapacity::None => "none",
            TechnicalCapacity::Unknown => "unknown",
        }
    }
}
