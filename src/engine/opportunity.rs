//! Step 3: quantify the opportunity with the math shown.
//!
//! Every figure is integer cents. A price that is not given is never invented: the
//! scenario's ARR is `null`, the missing assumption is named, and confidence drops a level.
//! The forecast (`estimated_expansion_arr`) is the 100 % scenario only at High confidence;
//! otherwise it is the conservative 50 % scenario.

use crate::model::results::{
    Confidence, ExpansionType, OpportunityResult, Scenario, SignalsResult, Strength, Timeline,
};
use crate::model::snapshot::{Offer, OfferType, SignalKind, Snapshot};
use crate::model::values::{Day, Money};

use super::policy::{Policy, pct_tenths};
use super::{currency, fmt_amount, price_per_seat};

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
        unit_price: Money,
    },
    /// A flat annual price that does not scale with adoption.
    Flat { price: Money },
    /// A share of current ARR, in tenths of a percent; scenarios scale the share.
    ShareOfArr { arr: Money, tenths: u64 },
}

struct Quote {
    pricing: Option<Pricing>,
    assumptions: Vec<String>,
    missing: Vec<String>,
}

pub fn quantify(s: &Snapshot, p: &Policy, as_of: Day, sig: &SignalsResult) -> OpportunityResult {
    let cur = currency(s).to_string();
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
    let scenarios: Vec<Scenario> = SCENARIOS
        .iter()
        .map(|&(name, tenths)| scenario(name, tenths, q.pricing.as_ref(), &cur))
        .collect();

    // Confidence from the strength of the organic signals behind this expansion type.
    let supporting: Vec<_> = sig
        .signals
        .iter()
        .filter(|f| f.organic && f.strength != Strength::Weak && Some(f.expansion_type) == kind)
        .collect();
    let best = supporting.iter().map(|f| f.strength).max();
    let enough = sig.organic_count >= p.min_organic_signals;
    let (mut confidence, mut reason) = match (best, enough) {
        (Some(Strength::Strong), true) => (
            Confidence::High,
            format!(
                "a Strong organic signal supports it and {} organic signals corroborate",
                sig.organic_count
            ),
        ),
        (Some(Strength::Strong), false) => (
            Confidence::Medium,
            format!(
                "a Strong signal supports it, but only {} organic signal(s) in all",
                sig.organic_count
            ),
        ),
        (Some(_), _) => (
            Confidence::Medium,
            "supported by Moderate organic signals only".to_string(),
        ),
        (None, _) => (
            Confidence::Low,
            "no organic signal supports this expansion type".to_string(),
        ),
    };
    if !q.missing.is_empty() {
        confidence = confidence.lower();
        reason.push_str("; lowered a level because a pricing assumption is missing");
    }
    let forecast_tenths = if confidence == Confidence::High {
        1000
    } else {
        500
    };
    let estimated = q
        .pricing
        .as_ref()
        .map(|pr| scenario_arr(pr, forecast_tenths));
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
        confidence_reason: format!(
            "{reason}; forecast uses the {} scenario",
            if forecast_tenths == 1000 {
                "100%"
            } else {
                "50%"
            }
        ),
        nrr_after_pct: nrr,
        timeline: timeline(s, as_of),
    }
}

fn scenario_arr(pricing: &Pricing, tenths: u64) -> Money {
    match *pricing {
        Pricing::PerUnit {
            units, unit_price, ..
        } => unit_price.times(adopted_units(units, tenths)),
        Pricing::Flat { price } => price,
        Pricing::ShareOfArr { arr, tenths: share } => {
            // share × adoption, both in tenths of a percent: one rounding, at the cent.
            let num = i128::from(arr.cents()) * i128::from(share) * i128::from(tenths);
            Money::from_cents(i64::try_from((num + 500_000) / 1_000_000).unwrap_or(i64::MAX))
        }
    }
}

/// Whole units adopted: `units × tenths / 1000`, rounded down (half a seat is not sold).
fn adopted_units(units: u32, tenths: u64) -> u64 {
    u64::from(units) * tenths / 1000
}

fn scenario(name: &str, tenths: u64, pricing: Option<&Pricing>, cur: &str) -> Scenario {
    let adoption_pct = tenths as f64 / 10.0;
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
            let arr = scenario_arr(pr, tenths);
            Scenario {
                name: name.into(),
                adoption_pct,
                volume: format!("{n} of {units} {unit}"),
                expansion_arr: Some(arr),
                math: format!(
                    "{n} {unit} x {} = {}",
                    fmt_amount(*unit_price, cur),
                    fmt_amount(arr, cur)
                ),
            }
        }
        Some(Pricing::Flat { price }) => Scenario {
            name: name.into(),
            adoption_pct,
            volume: format!("{adoption_pct:.0}% of intended users active"),
            expansion_arr: Some(*price),
            math: if tenths == 1000 {
                format!("flat price {}", fmt_amount(*price, cur))
            } else {
                format!(
                    "flat price {} regardless of adoption; at {adoption_pct:.0}% adoption value per user halves, a shelfware risk at renewal",
                    fmt_amount(*price, cur)
                )
            },
        },
        Some(pr @ Pricing::ShareOfArr { arr, tenths: share }) => {
            let v = scenario_arr(pr, tenths);
            Scenario {
                name: name.into(),
                adoption_pct,
                volume: format!("{adoption_pct:.0}% of the scope"),
                expansion_arr: Some(v),
                math: format!(
                    "{} x {:.1}% x {adoption_pct:.0}% = {}",
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

fn seat_price(s: &Snapshot, offer: &Offer, cur: &str, q: &mut Quote) -> Option<Money> {
    if let Some(pp) = offer.price_per_seat {
        q.assumptions.push(format!(
            "Pricing: per seat at {} a year (offer.price_per_seat)",
            fmt_amount(pp, cur)
        ));
        return Some(pp);
    }
    match price_per_seat(s) {
        Some((pp, src)) => {
            q.assumptions.push(format!(
                "Pricing: per seat at {} a year ({src})",
                fmt_amount(pp, cur)
            ));
            Some(pp)
        }
        None => {
            q.missing.push("price per seat: give offer.price_per_seat, contract.price_per_seat, or contract.arr with contract.licensed_seats".into());
            None
        }
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
        match (cur_price, s.contract.licensed_seats) {
            (Some(cp), Some(l)) => {
                if tp <= cp {
                    q.missing.push(format!(
                        "a target price above the current one: offer.target_price_per_seat {} is not above {}",
                        fmt_amount(tp, cur),
                        fmt_amount(cp, cur)
                    ));
                } else {
                    let delta = Money::from_cents(tp.cents() - cp.cents());
                    q.assumptions.push(format!(
                        "Pricing: tier delta {} - {} = {} per seat a year",
                        fmt_amount(tp, cur),
                        fmt_amount(cp, cur),
                        fmt_amount(delta, cur)
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
                unit_price: price,
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

/// When to propose: ahead of the customer's budget cycle, else ahead of renewal.
pub fn timeline(s: &Snapshot, as_of: Day) -> Timeline {
    if let Some(m) = s.contract.planning_month {
        let m = i8::try_from(m).unwrap_or(1);
        if as_of.month() == m {
            return Timeline {
                propose_by: Some(as_of.plus_days(7)),
                reason: "the customer is setting next year's budget this month: propose within a week to be included".into(),
            };
        }
        let year = if as_of.month() < m {
            as_of.year()
        } else {
            as_of.year() + 1
        };
        if let Some(start) = Day::first_of_month(year, m) {
            let by = start.plus_days(-30);
            let by = if by < as_of { as_of.plus_days(7) } else { by };
            return Timeline {
                propose_by: Some(by),
                reason: format!(
                    "the customer sets its budget in {} (planning month {m}): propose by {by}, a month ahead, so the expansion is in the plan",
                    month_name(m)
                ),
            };
        }
    }
    if let Some(r) = s.contract.renewal_date.filter(|r| *r > as_of) {
        let by = r.plus_days(-90);
        let by = if by < as_of { as_of.plus_days(7) } else { by };
        return Timeline {
            propose_by: Some(by),
            reason: format!(
                "planning month unknown: propose by {by}, ahead of the {r} renewal, so the expansion can be co-termed"
            ),
        };
    }
    Timeline {
        propose_by: None,
        reason: "unknown: give contract.planning_month (or contract.renewal_date) to align with the customer's planning cycle".into(),
    }
}

pub fn month_name(m: i8) -> &'static str {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    usize::try_from(m - 1)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
        .unwrap_or("an unknown month")
}
