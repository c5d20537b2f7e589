//! Step 3: quantify the opportunity with the math shown.
//!
//! Every figure is integer cents. A price that is not given is never invented: the
//! scenario's ARR is `null`, the missing assumption is named, and confidence drops a level.
//! The forecast (`estimated_expansion_arr`) is the 100 % scenario only at High confidence;
//! otherwise it is the conservative 50 % scenario.

use crate::model::results::{
    Confidence, ExpansionType, OpportunityResult, Outcome, Scenario, SignalsResult, Strength,
    Timeline, TimingResult,
};
use crate::model::snapshot::{Offer, OfferType, SignalKind, Snapshot};
use crate::model::values::{Day, Money, Pct, minor_digits};

use super::policy::{Policy, pct_tenths};
use super::wording::{Words, say};
use super::{currency, fmt_amount};

/// Adoption scenarios, in tenths of a percent.
const SCENARIOS: [(&str, u64); 2] = [("100% adoption", 1000), ("50% adoption", 500)];

pub fn offer_type(t: OfferType) -> ExpansionType {
    match t {
        OfferType::Seats => ExpansionType::Seats,
        OfferType::Upgrade => ExpansionType::Upgrade,
        OfferType::Upsell => ExpansionType::Upsell,
        OfferType::CrossSell => ExpansionType::CrossSell,
        OfferType::Contract => ExpansionType::Contract,
    }
}

/// The expansion to quantify: the offer's, or the strongest organic signal's.
pub fn chosen_type(s: &Snapshot, sig: &SignalsResult) -> (Option<ExpansionType>, &'static str) {
    if let Some(o) = &s.offer {
        return (Some(offer_type(o.kind)), "offer");
    }
    let t = sig
        .signals
        .iter()
        .filter(|f| f.organic && f.strength != Strength::Weak)
        .map(|f| f.expansion_type)
        .find(|t| *t != ExpansionType::Referral);
    (t, "signal")
}

/// What a scenario multiplies: a count of units at a unit price, or a flat amount.
enum Pricing {
    /// `units` at `unit_price` each; scenarios take whole units, rounded down.
    PerUnit {
        units: u32,
        unit: &'static str,
        unit_price: UnitPrice,
    },
    /// A flat annual price that does not scale with adoption.
    Flat { price: Money },
    /// A share of current ARR, in tenths of a percent; scenarios scale the share.
    ShareOfArr { arr: Money, tenths: u64 },
}

/// A unit price given outright, or a total spread over a count (ARR over licensed seats),
/// kept as the ratio so that scenarios multiply before they divide.
#[derive(Clone, Copy)]
enum UnitPrice {
    Exact(Money),
    Ratio { total: Money, per: u32 },
}

impl UnitPrice {
    /// `n` units at this price, rounded once to the currency's minor unit.
    fn times(self, n: u64, minor: u32) -> Money {
        match self {
            UnitPrice::Exact(m) => m.times(n).to_minor(minor),
            UnitPrice::Ratio { total, per } => total
                .mul_div(n, u64::from(per), minor)
                .unwrap_or(Money::ZERO),
        }
    }

    /// The price of one unit, for display.
    fn one(self, minor: u32) -> Money {
        self.times(1, minor)
    }
}

struct Quote {
    pricing: Option<Pricing>,
    assumptions: Vec<String>,
    missing: Vec<String>,
}

pub fn quantify(
    s: &Snapshot,
    p: &Policy,
    as_of: Day,
    sig: &SignalsResult,
    timing: &TimingResult,
    outcome: Outcome,
) -> OpportunityResult {
    quantify_with(s, p, as_of, sig, timing, outcome, Words::All)
}

/// [`quantify`]; with `Words::FirstOpen` the figures only (type, pricing, scenarios' ARR,
/// estimate, confidence, NRR): the scenarios' volume and arithmetic, the scenario note, the
/// confidence's reason and the timeline are left empty, which a segment row never shows.
/// Every figure is computed by the same code either way.
pub fn quantify_with(
    s: &Snapshot,
    p: &Policy,
    as_of: Day,
    sig: &SignalsResult,
    timing: &TimingResult,
    outcome: Outcome,
    words: Words,
) -> OpportunityResult {
    let worded = words == Words::All;
    let cur = currency(s).to_string();
    let minor = minor_digits(&cur);
    let (kind, basis) = chosen_type(s, sig);
    let empty_offer = Offer {
        kind: OfferType::Seats,
        seats: None,
        price_per_seat: None,
        target_plan: None,
        target_price_per_seat: None,
        tier_premium_pct: None,
        module: None,
        module_price: None,
        module_price_per_seat: None,
        product: None,
        product_price: None,
        term_years: None,
        uplift_pct: None,
        technical_capacity: None,
    };
    let offer = s.offer.as_ref().unwrap_or(&empty_offer);
    let mut q = match kind {
        Some(ExpansionType::Seats) => seats(s, p, as_of, offer, &cur),
        Some(ExpansionType::Upgrade) => upgrade(s, offer, &cur),
        Some(ExpansionType::Upsell) => upsell(s, offer, &cur),
        Some(ExpansionType::CrossSell) => cross_sell(s, offer, &cur),
        Some(ExpansionType::Contract) => contract(s, offer, &cur),
        Some(ExpansionType::Referral) | None => Quote {
            pricing: None,
            assumptions: vec![],
            missing: vec!["an expansion to quantify: give `offer`, or at least one organic signal that implies one".into()],
        },
    };
    if basis == "signal"
        && let Some(t) = kind
    {
        q.assumptions.insert(
            0,
            format!(
                "Expansion type {} proposed by the strongest organic signal (no offer given)",
                t.label()
            ),
        );
    }
    let contract_scope = matches!(q.pricing, Some(Pricing::ShareOfArr { .. }))
        && kind == Some(ExpansionType::Contract);
    let scenarios: Vec<Scenario> = SCENARIOS
        .iter()
        .map(|&(name, tenths)| {
            let name = if contract_scope {
                // A contract uplift is not adopted by users: the scenarios are how much of
                // the broader scope is signed.
                if tenths == 1000 {
                    "100% of the added scope"
                } else {
                    "50% of the added scope"
                }
            } else {
                name
            };
            if worded {
                scenario(name, tenths, q.pricing.as_ref(), &cur, minor)
            } else {
                Scenario {
                    name: String::new(),
                    adoption_pct: Pct::from_tenths(i64::try_from(tenths).unwrap_or(i64::MAX)),
                    volume: String::new(),
                    expansion_arr: q.pricing.as_ref().map(|pr| scenario_arr(pr, tenths, minor)),
                    math: String::new(),
                }
            }
        })
        .collect();
    let scenario_note = match q.pricing {
        _ if !worded => None,
        Some(Pricing::Flat { .. }) => Some(
            "one figure: a flat price does not scale with adoption, so the 50% scenario has the same ARR; what halves is the value per user, a shelfware risk at renewal".to_string(),
        ),
        Some(Pricing::ShareOfArr { .. }) if contract_scope => Some(
            "the scenarios are the share of the added scope the customer signs, not user adoption".to_string(),
        ),
        _ => None,
    };

    // Confidence from the strength of the organic signals behind this expansion: of its
    // type, or naming the offered tier, module or product whatever their type.
    let offered = offered_names(s);
    let supporting: Vec<_> = sig
        .signals
        .iter()
        .filter(|f| f.organic && f.strength != Strength::Weak && f.unverified.is_none())
        .filter(|f| {
            Some(f.expansion_type) == kind
                || f.names.iter().any(|n| {
                    let n = n.to_lowercase();
                    offered
                        .iter()
                        .any(|o| o.contains(&n) || n.contains(o.as_str()))
                })
        })
        .collect();
    let best = supporting.iter().map(|f| f.strength).max();
    let enough = sig.organic_count >= p.min_organic_signals;
    let (mut confidence, mut reason) = match (best, enough) {
        (Some(Strength::Strong), true) => (
            Confidence::High,
            say(worded, || {
                format!(
                    "a Strong organic signal supports it and {} organic signals corroborate",
                    sig.organic_count
                )
            }),
        ),
        (Some(Strength::Strong), false) => (
            Confidence::Medium,
            say(worded, || {
                format!(
                    "a Strong signal supports it, but only {} organic signal(s) in all",
                    sig.organic_count
                )
            }),
        ),
        (Some(_), _) => (
            Confidence::Medium,
            say(worded, || {
                "supported by Moderate organic signals only".into()
            }),
        ),
        (None, _) => (
            Confidence::Low,
            say(worded, || {
                "no organic signal supports this expansion type".into()
            }),
        ),
    };
    if !q.missing.is_empty() {
        confidence = confidence.lower();
        if worded {
            reason.push_str("; lowered a level because a pricing assumption is missing");
        }
    }
    if outcome == Outcome::Provisional && confidence == Confidence::High {
        confidence = Confidence::Medium;
        if worded {
            reason.push_str("; at most Medium while data is unverified (provisional)");
        }
    }
    let forecast_tenths = if confidence == Confidence::High {
        1000
    } else {
        500
    };
    let estimated = q
        .pricing
        .as_ref()
        .map(|pr| scenario_arr(pr, forecast_tenths, minor));
    let arr = s.contract.arr;
    let nrr = match (arr, estimated) {
        (Some(a), Some(e)) => e.checked_add(a).and_then(|t| t.ratio_pct(a)),
        _ => None,
    };
    if arr.is_none() {
        q.missing
            .push("contract.arr (current ARR) for the NRR projection".into());
    }
    OpportunityResult {
        current_arr: arr,
        currency: cur,
        expansion_type: kind,
        basis: basis.into(),
        assumptions: q.assumptions,
        missing_assumptions: q.missing,
        scenarios,
        estimated_expansion_arr: estimated,
        confidence,
        confidence_reason: say(worded, || {
            format!(
                "{reason}; forecast uses the {} scenario",
                if forecast_tenths == 1000 {
                    "100%"
                } else {
                    "50%"
                }
            )
        }),
        nrr_after_pct: nrr,
        scenario_note,
        timeline: if worded {
            timeline(s, as_of, timing)
        } else {
            Timeline {
                propose_by: None,
                reason: String::new(),
            }
        },
    }
}

/// The offered tier, module and product, lowercased, for matching signals that name them.
fn offered_names(s: &Snapshot) -> Vec<String> {
    s.offer
        .iter()
        .flat_map(|o| [&o.target_plan, &o.module, &o.product])
        .flatten()
        .map(|n| n.to_lowercase())
        .filter(|n| n.len() > 2)
        .collect()
}

fn scenario_arr(pricing: &Pricing, tenths: u64, minor: u32) -> Money {
    match *pricing {
        Pricing::PerUnit {
            units, unit_price, ..
        } => unit_price.times(adopted_units(units, tenths), minor),
        Pricing::Flat { price } => price,
        Pricing::ShareOfArr { arr, tenths: share } => {
            // share × adoption, both in tenths of a percent: one rounding, at the minor unit.
            arr.mul_div(share * tenths, 1_000_000, minor)
                .unwrap_or(Money::ZERO)
        }
    }
}

/// Whole units adopted: `units × tenths / 1000`, rounded down (half a seat is not sold).
fn adopted_units(units: u32, tenths: u64) -> u64 {
    u64::from(units) * tenths / 1000
}

fn scenario(name: &str, tenths: u64, pricing: Option<&Pricing>, cur: &str, minor: u32) -> Scenario {
    let adoption_pct = Pct::from_tenths(i64::try_from(tenths).unwrap_or(i64::MAX));
    // For the sentences only: whole percent, as `{:.0}` writes it.
    let whole = adoption_pct.as_f64();
    match pricing {
        None => Scenario {
            name: name.into(),
            adoption_pct,
            volume: "unknown".into(),
            expansion_arr: None,
            math: "not computed: a pricing assumption is missing".into(),
        },
        Some(
            pr @ Pricing::PerUnit {
                units,
                unit,
                unit_price,
            },
        ) => {
            let n = adopted_units(*units, tenths);
            let arr = scenario_arr(pr, tenths, minor);
            Scenario {
                name: name.into(),
                adoption_pct,
                volume: format!("{n} of {units} {unit}"),
                expansion_arr: Some(arr),
                math: match unit_price {
                    UnitPrice::Exact(m) => format!(
                        "{n} {unit} x {} = {}",
                        fmt_amount(*m, cur),
                        fmt_amount(arr, cur)
                    ),
                    UnitPrice::Ratio { total, per } => format!(
                        "{n} {unit} x {} / {per} = {}",
                        fmt_amount(*total, cur),
                        fmt_amount(arr, cur)
                    ),
                },
            }
        }
        Some(Pricing::Flat { price }) => Scenario {
            name: name.into(),
            adoption_pct,
            volume: format!("{whole:.0}% of intended users active"),
            expansion_arr: Some(*price),
            math: if tenths == 1000 {
                format!("flat price {}", fmt_amount(*price, cur))
            } else {
                format!(
                    "flat price {} regardless of adoption; at {whole:.0}% adoption value per user halves, a shelfware risk at renewal",
                    fmt_amount(*price, cur)
                )
            },
        },
        Some(pr @ Pricing::ShareOfArr { arr, tenths: share }) => {
            let v = scenario_arr(pr, tenths, minor);
            Scenario {
                name: name.into(),
                adoption_pct,
                volume: format!("{whole:.0}% of the scope"),
                expansion_arr: Some(v),
                math: format!(
                    "{} x {:.1}% x {whole:.0}% = {}",
                    fmt_amount(*arr, cur),
                    *share as f64 / 10.0,
                    fmt_amount(v, cur)
                ),
            }
        }
    }
}

/// The latest organic, non-stale team-growth signal with head-counts, as of `as_of`.
fn team_growth(s: &Snapshot, p: &Policy, as_of: Day) -> Option<(u32, u32, Day)> {
    s.signals
        .iter()
        .filter(|g| g.kind == SignalKind::TeamGrowth && g.source.is_organic())
        .filter(|g| g.date <= as_of && g.date.days_until(as_of) <= i64::from(p.signal_stale_days))
        .filter_map(|g| Some((g.team_size?, g.users_with_access?, g.date)))
        .max_by_key(|&(_, _, d)| d)
}

fn seat_price(s: &Snapshot, offer: &Offer, cur: &str, q: &mut Quote) -> Option<UnitPrice> {
    if let Some(pp) = offer.price_per_seat {
        q.assumptions.push(format!(
            "Pricing: per seat at {} a year (offer.price_per_seat)",
            fmt_amount(pp, cur)
        ));
        return Some(UnitPrice::Exact(pp));
    }
    if let Some(pp) = s.contract.price_per_seat {
        q.assumptions.push(format!(
            "Pricing: per seat at {} a year (contract.price_per_seat)",
            fmt_amount(pp, cur)
        ));
        return Some(UnitPrice::Exact(pp));
    }
    match (s.contract.arr, s.contract.licensed_seats.filter(|&l| l > 0)) {
        (Some(arr), Some(l)) => {
            let up = UnitPrice::Ratio { total: arr, per: l };
            q.assumptions.push(format!(
                "Pricing: per seat at {} / {l} = {} a year (contract.arr / contract.licensed_seats; scenarios multiply before dividing)",
                fmt_amount(arr, cur),
                fmt_amount(up.one(minor_digits(cur)), cur)
            ));
            Some(up)
        }
        _ => {
            q.missing.push("price per seat: give offer.price_per_seat, contract.price_per_seat, or contract.arr with contract.licensed_seats".into());
            None
        }
    }
}

/// Licensed seats nobody uses.
pub fn idle_seats(s: &Snapshot) -> u32 {
    match (s.usage.active_users, s.contract.licensed_seats) {
        (Some(a), Some(l)) if l > a => l - a,
        _ => 0,
    }
}

/// Seats the customer needs, before idle seats are counted: the offer's, else the latest
/// team-growth gap, else the over-deployment.
pub fn seats_needed(s: &Snapshot, p: &Policy, as_of: Day) -> Option<u32> {
    if let Some(n) = s.offer.as_ref().and_then(|o| o.seats) {
        return Some(n);
    }
    if let Some((team, access, _)) = team_growth(s, p, as_of) {
        return Some(team.saturating_sub(access)).filter(|&n| n > 0);
    }
    match (s.usage.active_users, s.contract.licensed_seats) {
        (Some(a), Some(l)) if a > l => Some(a - l),
        _ => None,
    }
}

fn seats(s: &Snapshot, p: &Policy, as_of: Day, offer: &Offer, cur: &str) -> Quote {
    let mut q = Quote {
        pricing: None,
        assumptions: vec![],
        missing: vec![],
    };
    let over = match (s.usage.active_users, s.contract.licensed_seats) {
        (Some(a), Some(l)) if a > l => Some((a, l)),
        _ => None,
    };
    let units = if let Some(n) = offer.seats {
        q.assumptions
            .push(format!("Volume: {n} seats in scope (offer.seats)"));
        Some(n)
    } else if let Some((team, access, date)) = team_growth(s, p, as_of) {
        let n = team.saturating_sub(access);
        if n == 0 {
            q.missing.push(format!(
                "seats in scope: the team_growth signal of {date} shows no gap (team of {team}, {access} with access); give offer.seats"
            ));
            None
        } else {
            q.assumptions.push(format!(
                "Volume: {n} seats in scope = team of {team} - {access} with access (team_growth signal of {date})"
            ));
            Some(n)
        }
    } else if let Some((a, l)) = over {
        q.assumptions.push(format!(
            "Volume: {} seats in scope = {a} active users - {l} licensed seats (over-deployment true-up)",
            a - l
        ));
        Some(a - l)
    } else {
        q.missing.push("seats in scope: give offer.seats or a team_growth signal with team_size and users_with_access".into());
        None
    };
    // Seats already paid for and unused are reassigned before any new seat is sold.
    let idle = idle_seats(s);
    let units = match units {
        Some(n) if idle > 0 => {
            let beyond = n.saturating_sub(idle);
            q.assumptions.push(format!(
                "Idle seats first: {idle} licensed seats are unused; reassign them before adding any, so {beyond} new seats are in scope ({n} needed - {idle} idle)"
            ));
            if beyond == 0 {
                q.missing.push(format!(
                    "seats beyond the idle ones: the {n} needed fit in the {idle} licensed seats nobody uses; reassign those instead of adding seats"
                ));
                None
            } else {
                Some(beyond)
            }
        }
        other => other,
    };
    let price = seat_price(s, offer, cur, &mut q);
    if let (Some(units), Some(unit_price)) = (units, price) {
        q.pricing = Some(Pricing::PerUnit {
            units,
            unit: "seats",
            unit_price,
        });
        q.assumptions
            .push("Scenarios count whole seats, rounded down".into());
    }
    q
}

fn upgrade(s: &Snapshot, offer: &Offer, cur: &str) -> Quote {
    let mut q = Quote {
        pricing: None,
        assumptions: vec![],
        missing: vec![],
    };
    let target = offer.target_plan.as_deref().unwrap_or("the next tier");
    if let Some(plan) = &s.contract.plan {
        q.assumptions.push(format!("Tier: {plan} -> {target}"));
    }
    if let Some(tp) = offer.target_price_per_seat {
        let cur_price = seat_price(
            s,
            &Offer {
                price_per_seat: None,
                ..offer.clone()
            },
            cur,
            &mut q,
        );
        let minor = minor_digits(cur);
        match (cur_price, s.contract.licensed_seats) {
            (Some(cpu), Some(l)) => {
                // The delta over all licensed seats, exactly: target x seats - what they pay
                // now for those seats.
                let cp = cpu.one(minor);
                let now_total = cpu.times(u64::from(l), minor);
                let target_total = tp.times(u64::from(l));
                if target_total <= now_total {
                    q.missing.push(format!(
                        "a target price above the current one: offer.target_price_per_seat {} is not above {}",
                        fmt_amount(tp, cur),
                        fmt_amount(cp, cur)
                    ));
                } else {
                    let total = Money::from_cents(target_total.cents() - now_total.cents());
                    let delta = UnitPrice::Ratio { total, per: l };
                    q.assumptions.push(format!(
                        "Pricing: tier delta {} - {} = {} per seat a year",
                        fmt_amount(tp, cur),
                        fmt_amount(cp, cur),
                        fmt_amount(delta.one(minor), cur)
                    ));
                    q.assumptions.push(format!(
                        "Volume: {l} licensed seats move to {target}; 50% means half of them"
                    ));
                    q.pricing = Some(Pricing::PerUnit {
                        units: l,
                        unit: "seats",
                        unit_price: delta,
                    });
                }
            }
            (_, None) => q
                .missing
                .push("contract.licensed_seats (seats moving to the new tier)".into()),
            (None, _) => {}
        }
    } else if let Some(pct) = offer.tier_premium_pct {
        match s.contract.arr {
            Some(arr) => {
                let tenths = pct_tenths(pct);
                q.assumptions.push(format!(
                    "Pricing: {target} carries a {:.1}% premium on current ARR {}",
                    tenths as f64 / 10.0,
                    fmt_amount(arr, cur)
                ));
                q.assumptions
                    .push("Volume: the whole account; 50% means half of it moves".into());
                q.pricing = Some(Pricing::ShareOfArr { arr, tenths });
            }
            None => q
                .missing
                .push("contract.arr (the tier premium applies to it)".into()),
        }
    } else {
        q.missing
            .push("tier price: give offer.target_price_per_seat or offer.tier_premium_pct".into());
    }
    q
}

/// Prices `what` per licensed seat, or names the missing seat count.
fn per_licensed_seat(
    s: &Snapshot,
    q: &mut Quote,
    what: &str,
    price: Money,
    source: &str,
    cur: &str,
) {
    match s.contract.licensed_seats {
        Some(l) => {
            q.assumptions.push(format!(
                "Pricing: {what} at {} per seat a year ({source})",
                fmt_amount(price, cur)
            ));
            q.assumptions
                .push(format!("Volume: {l} licensed seats in scope"));
            q.pricing = Some(Pricing::PerUnit {
                units: l,
                unit: "seats",
                unit_price: UnitPrice::Exact(price),
            });
        }
        None => q.missing.push(format!(
            "contract.licensed_seats (seats in scope for {what})"
        )),
    }
}

fn upsell(s: &Snapshot, offer: &Offer, cur: &str) -> Quote {
    let mut q = Quote {
        pricing: None,
        assumptions: vec![],
        missing: vec![],
    };
    let module = offer.module.clone().or_else(|| {
        s.signals
            .iter()
            .filter(|g| g.kind == SignalKind::FeatureRequest)
            .find_map(|g| g.tier.clone().or_else(|| g.feature.clone()))
    });
    let module = module.unwrap_or_else(|| "the requested module".into());
    if let Some(mp) = offer.module_price_per_seat {
        per_licensed_seat(s, &mut q, &module, mp, "offer.module_price_per_seat", cur);
    } else if let Some(mp) = offer.module_price {
        q.assumptions.push(format!(
            "Pricing: {module} at a flat {} a year (offer.module_price)",
            fmt_amount(mp, cur)
        ));
        q.assumptions
            .push("Volume: the whole account; a flat price does not scale with adoption".into());
        q.pricing = Some(Pricing::Flat { price: mp });
    } else {
        q.missing.push(format!(
            "price of {module}: give offer.module_price or offer.module_price_per_seat"
        ));
    }
    q
}

fn cross_sell(s: &Snapshot, offer: &Offer, cur: &str) -> Quote {
    let mut q = Quote {
        pricing: None,
        assumptions: vec![],
        missing: vec![],
    };
    let product = offer.product.clone().or_else(|| {
        s.signals
            .iter()
            .filter(|g| g.kind == SignalKind::NewUseCase)
            .find_map(|g| g.product.clone().or_else(|| g.module.clone()))
    });
    let product = product.unwrap_or_else(|| "the adjacent product".into());
    if let Some(pp) = offer.product_price {
        q.assumptions.push(format!(
            "Pricing: {product} at a flat {} a year (offer.product_price)",
            fmt_amount(pp, cur)
        ));
        q.assumptions.push(
            "Volume: one product for the account; a flat price does not scale with adoption".into(),
        );
        q.pricing = Some(Pricing::Flat { price: pp });
    } else if let Some(mp) = offer.module_price_per_seat {
        per_licensed_seat(s, &mut q, &product, mp, "offer.module_price_per_seat", cur);
    } else {
        q.missing
            .push(format!("price of {product}: give offer.product_price"));
    }
    q
}

fn contract(s: &Snapshot, offer: &Offer, cur: &str) -> Quote {
    let mut q = Quote {
        pricing: None,
        assumptions: vec![],
        missing: vec![],
    };
    if let Some(years) = offer.term_years {
        q.assumptions.push(format!("Term: {years}-year contract"));
    } else {
        q.assumptions
            .push("Term: not given (offer.term_years); the ARR uplift is what is priced".into());
    }
    match (offer.uplift_pct, s.contract.arr) {
        (Some(pct), Some(arr)) => {
            let tenths = pct_tenths(pct);
            q.assumptions.push(format!(
                "Pricing: broader scope adds {:.1}% to current ARR {}",
                tenths as f64 / 10.0,
                fmt_amount(arr, cur)
            ));
            q.pricing = Some(Pricing::ShareOfArr { arr, tenths });
        }
        (None, _) => q
            .missing
            .push("scope uplift: give offer.uplift_pct (percent of current ARR)".into()),
        (_, None) => q
            .missing
            .push("contract.arr (the uplift applies to it)".into()),
    }
    q
}

/// When to propose: the one proposal date the timing step chose, with the customer's budget
/// deadline it respects. The Timeline, the Timing line and the execution table show the same
/// date.
pub fn timeline(s: &Snapshot, as_of: Day, t: &TimingResult) -> Timeline {
    let dl = super::timing::deadline(s, as_of);
    let cycle = dl
        .as_ref()
        .map(|d| format!("; {}", d.reason))
        .unwrap_or_default();
    match t.date {
        Some(_) => Timeline {
            propose_by: t.date,
            reason: format!("{}{cycle}", t.trigger),
        },
        None if t.recommendation == "defer" => Timeline {
            propose_by: None,
            reason: format!("not dated: {}{cycle}", t.reason),
        },
        None => Timeline {
            propose_by: dl.as_ref().map(|d| d.by),
            reason: match dl {
                Some(d) => d.reason,
                None => "unknown: give contract.planning_month (or contract.renewal_date) to align with the customer's planning cycle".into(),
            },
        },
    }
}

pub use super::timing::month_name;
