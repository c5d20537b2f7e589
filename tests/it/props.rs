//! Property tests for the arithmetic and the gate: bounds, monotonic scenarios, exact money,
//! `ready` impossible when any check fails, and byte-identical output.

use expansion_planner::engine::{Policy, draft_plan, evaluate};
use expansion_planner::model::results::Outcome;
use expansion_planner::model::snapshot::{
    Contract, Goal, GoalStatus, Health, Offer, OfferType, Relationship, Signal, SignalKind,
    SignalSource, Usage, UsagePoint,
};
use expansion_planner::model::{Day, Money, Snapshot};
use proptest::prelude::*;

fn day(offset: i64) -> Day {
    Day::parse("2026-11-15").unwrap().plus_days(offset)
}

prop_compose! {
    fn snapshot()(
        seats in 1u32..5000,
        active_frac in 0u32..1500,
        score in proptest::option::of(0.0f64..=100.0),
        arr_cents in proptest::option::of(0i64..10_000_000_000),
        history in proptest::collection::vec((1i64..90, 0u32..1500), 0..12),
        goal in proptest::option::of(0usize..4),
        rel in proptest::option::of((any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>())),
        sigs in proptest::collection::vec((0usize..6, 0i64..120, 0usize..4, 1u32..100, 0u32..100), 0..5),
        offer in proptest::option::of((0usize..5, 1u32..500, 1i64..10_000_000, 0.0f64..200.0)),
        rel_score in proptest::option::of(0.0f64..=100.0),
    ) -> Snapshot {
        let active = (u64::from(seats) * u64::from(active_frac) / 1000) as u32;
        let kinds = [SignalKind::UsageLimit, SignalKind::FeatureRequest, SignalKind::TeamGrowth,
            SignalKind::NewUseCase, SignalKind::ExecutiveEngagement, SignalKind::Advocacy];
        let sources = [SignalSource::Customer, SignalSource::ProductData, SignalSource::Sales, SignalSource::Csm];
        let statuses = [GoalStatus::Achieved, GoalStatus::OnTrack, GoalStatus::AtRisk, GoalStatus::OffTrack];
        let types = [OfferType::Seats, OfferType::Upgrade, OfferType::Upsell, OfferType::CrossSell, OfferType::Contract];
        let mut hist: Vec<UsagePoint> = history.iter().map(|&(d, f)| UsagePoint {
            date: day(-d),
            active_users: (u64::from(seats) * u64::from(f) / 1000) as u32,
        }).collect();
        hist.sort_by_key(|p| p.date);
        hist.dedup_by_key(|p| p.date);
        Snapshot {
            name: "Prop Co".into(),
            contract: Contract {
                arr: arr_cents.map(Money::from_cents),
                licensed_seats: Some(seats),
                planning_month: Some(3),
                ..Contract::default()
            },
            usage: Usage { active_users: Some(active), history: hist, ..Usage::default() },
            health: Health {
                score,
                goals: goal.map(|g| vec![Goal { goal: "Goal".into(), status: statuses[g] }]).unwrap_or_default(),
                relationship: rel.map(|(a, b, c, d)| Relationship {
                    responsive: Some(a), engaged: Some(b),
                    sponsor: if c { Some("Sponsor".into()) } else { None },
                    executive_sponsor_confirmed: Some(d), champion: None,
                }),
                relationship_score: rel_score,
                value_score: rel_score,
                ..Health::default()
            },
            signals: sigs.iter().map(|&(k, age, src, team, access)| Signal {
                kind: kinds[k], date: day(-age), evidence: "evidence".into(), source: sources[src],
                quote: None, feature: Some("f".into()), tier: None,
                team_size: Some(team.max(access)), users_with_access: Some(access),
                product: Some("p".into()), module: None, metric: None,
            }).collect(),
            offer: offer.map(|(t, n, price, pct)| Offer {
                kind: types[t], seats: Some(n), price_per_seat: Some(Money::from_cents(price)),
                target_plan: None, target_price_per_seat: Some(Money::from_cents(price * 2)),
                tier_premium_pct: None, module: None, module_price: Some(Money::from_cents(price)),
                module_price_per_seat: None, product: None, product_price: Some(Money::from_cents(price)),
                term_years: Some(2), uplift_pct: Some(pct),
            }),
            ..Snapshot::default()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn figures_stay_in_bounds_and_ready_implies_every_check(s in snapshot()) {
        let policy = Policy::default();
        let as_of = day(0);
        let ev = evaluate(&s, &policy, as_of);
        let h = &ev.health;
        if let Some(u) = h.utilisation_pct {
            prop_assert!(u.is_finite() && u >= 0.0);
            let seats = s.contract.licensed_seats.unwrap();
            let active = s.usage.active_users.unwrap();
            let exact = f64::from(active) * 100.0 / f64::from(seats);
            prop_assert!((u - exact).abs() <= 0.05 + 1e-9, "{u} vs {exact}");
        }
        if let Some(sc) = h.score { prop_assert!((0.0..=100.0).contains(&sc)); }
        prop_assert_eq!(h.clear_to_expand, h.checks.iter().all(|c| c.passed == Some(true)));
        match ev.outcome {
            Outcome::Blocked => {
                prop_assert!(!h.clear_to_expand);
                prop_assert!(ev.expansion.is_none());
                prop_assert!(h.unhealthy_path.is_some());
            }
            Outcome::Ready => {
                prop_assert!(h.checks.iter().all(|c| c.passed == Some(true)));
                let x = ev.expansion.as_ref().unwrap();
                prop_assert!(x.signals.readiness.iter().all(|c| c.passed == Some(true)));
                prop_assert!(x.signals.organic_count >= policy.min_organic_signals);
            }
            Outcome::NotReady => {
                let x = ev.expansion.as_ref().unwrap();
                prop_assert!(x.signals.readiness.iter().any(|c| c.passed != Some(true)));
            }
        }
        if let Some(x) = &ev.expansion {
            let arrs: Vec<Option<Money>> = x.opportunity.scenarios.iter().map(|s| s.expansion_arr).collect();
            prop_assert!(x.opportunity.scenarios.len() >= 2);
            prop_assert_eq!(x.opportunity.scenarios[0].adoption_pct, 100.0);
            prop_assert_eq!(x.opportunity.scenarios[1].adoption_pct, 50.0);
            if let (Some(full), Some(half)) = (arrs[0], arrs[1]) {
                prop_assert!(half <= full, "50% {half:?} above 100% {full:?}");
                prop_assert!(half.cents() >= 0);
            }
            if let Some(n) = x.opportunity.nrr_after_pct { prop_assert!(n.is_finite() && n >= 100.0); }
        }
    }

    #[test]
    fn output_is_deterministic(s in snapshot()) {
        let policy = Policy::default();
        let a = serde_json::to_string(&draft_plan(&s, &policy, day(0))).unwrap();
        let b = serde_json::to_string(&draft_plan(&s, &policy, day(0))).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn seat_scenarios_are_exact_to_the_cent(seats in 1u32..10_000, price in 1i64..100_000_000) {
        let s = Snapshot {
            name: "Exact".into(),
            contract: Contract { arr: Some(Money::from_cents(price * 10)), licensed_seats: Some(10), ..Contract::default() },
            offer: Some(Offer {
                kind: OfferType::Seats, seats: Some(seats), price_per_seat: Some(Money::from_cents(price)),
                target_plan: None, target_price_per_seat: None, tier_premium_pct: None, module: None,
                module_price: None, module_price_per_seat: None, product: None, product_price: None,
                term_years: None, uplift_pct: None,
            }),
            ..Snapshot::default()
        };
        let sig = expansion_planner::engine::signals::find_signals(&s, &Policy::default(), day(0),
            &expansion_planner::engine::health::check_health(&s, &Policy::default(), day(0)));
        let o = expansion_planner::engine::opportunity::quantify(&s, &Policy::default(), day(0), &sig);
        prop_assert_eq!(o.scenarios[0].expansion_arr.unwrap().cents(), i64::from(seats) * price);
        prop_assert_eq!(o.scenarios[1].expansion_arr.unwrap().cents(), i64::from(seats / 2) * price);
    }

    #[test]
    fn percentages_show_one_decimal_of_the_exact_ratio(num in 0u64..1_000_000, den in 1u64..1_000_000) {
        let p = expansion_planner::model::values::ratio_pct(num, den).unwrap();
        let exact = num as f64 * 100.0 / den as f64;
        prop_assert!((p - exact).abs() <= 0.05 + 1e-9);
        prop_assert_eq!((p * 10.0).round() / 10.0, p);
    }
}
