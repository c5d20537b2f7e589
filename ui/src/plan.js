// The plan view: what draft_plan (and check_health) return, drawn. Sections the result does
// not have are left out; top-level fields the view does not know are shown generically.
"use strict";

const PLAN_KNOWN = new Set([
  "account", "as_of", "outcome", "verdict", "health", "signals", "opportunity", "framing",
  "timing", "approach", "risks", "success_criteria", "markdown", "watch_for", "detail",
]);

/** A check_health result is drawn as a plan that stopped (or passed) at the gate. */
function normalisePlan(p) {
  if (!isObj(p)) return { outcome: null };
  if (!isObj(p.health) && Array.isArray(p.checks) && "clear_to_expand" in p) {
    return {
      account: p.account,
      as_of: p.as_of,
      outcome: p.clear_to_expand === false ? "blocked" : p.outcome,
      health: p,
      gateOnly: true,
    };
  }
  return p;
}

function days(d) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(str(d));
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86400000 : null;
}

/** The gate in a check's `required` text (">= 60.0%"), or the contract's default. */
function gateOf(check) {
  const m = /([0-9]+(?:\.[0-9]+)?)\s*%/.exec(str(check && check.required));
  return m ? Number(m[1]) : 60;
}

function gauge(health) {
  const checks = arr(health.checks);
  const seat = checks.find((c) => c && c.check === "seat_utilisation");
  const gate = gateOf(seat);
  const u = health.utilisation_pct;
  const known = typeof u === "number" && Number.isFinite(u);
  const scale = Math.max(100, known ? u : 0, gate);
  const passes = known && seat ? seat.passed === true : known ? u >= gate : null;
  const words = !known ? "utilisation unknown" : passes ? "at or above the gate" : "below the gate";
  return h(
    "div",
    { class: "gauge", role: "img", "aria-label": "Seat utilisation " + pct(u) + ", gate " + pct(gate) + ": " + words },
    h(
      "div",
      { class: "gauge-head" },
      h("span", { class: "big", "data-k": "health.utilisation_pct" }, pct(u)),
      h("span", null, " of seats active"),
      health.active_users !== undefined && health.licensed_seats !== undefined
        ? h("span", { class: "muted" }, " (" + str(health.active_users) + " / " + str(health.licensed_seats) + ")")
        : null,
      h("span", { class: "gauge-word " + (passes ? "pass" : passes === false ? "fail" : "unknown") }, words),
    ),
    h(
      "div",
      { class: "gauge-track" },
      h("div", { class: "gauge-fill" + (passes === false ? " below" : ""), style: "width:" + (known ? (u / scale) * 100 : 0) + "%" }),
      h(
        "div",
        { class: "gauge-gate", style: "left:" + (gate / scale) * 100 + "%" },
        h("span", { class: "gauge-gate-label", "data-k": "gate" }, "gate " + pct(gate)),
      ),
    ),
    h("div", { class: "gauge-scale" }, h("span", null, "0%"), h("span", null, pct(scale))),
  );
}

function figures(pairs) {
  return h(
    "dl",
    { class: "figures" },
    pairs
      .filter((x) => x)
      .map(([label, text, k]) => h("div", { class: "figure" }, h("dt", null, label), h("dd", { "data-k": k }, text))),
  );
}

function checkRow(checks, prefix) {
  return h(
    "ul",
    { class: "checks" },
    arr(checks).map((c, i) =>
      h(
        "li",
        { class: "check", "data-check": str(c.check), "data-passed": String(c.passed === undefined ? null : c.passed) },
        h("div", { class: "check-head" }, verdictChip(c.passed), h("strong", null, humanise(c.check))),
        h("div", { class: "check-body" }, h("span", { "data-k": prefix + "." + i + ".actual" }, str(c.actual)), h("span", { class: "muted" }, " needs " + str(c.required))),
        c.detail ? h("div", { class: "muted small" }, str(c.detail)) : null,
      ),
    ),
  );
}

function healthSection(health) {
  return section(
    "Health gate",
    gauge(health),
    figures([
      ["Health score", num(health.score), "health.score"],
      ["Status", health.status === null || health.status === undefined ? "unknown" : str(health.status), "health.status"],
      health.sustained_utilisation_pct !== undefined
        ? ["Sustained utilisation", pct(health.sustained_utilisation_pct), "health.sustained_utilisation_pct"]
        : null,
      ["Clear to expand", health.clear_to_expand === true ? "yes" : health.clear_to_expand === false ? "no" : "unknown", "health.clear_to_expand"],
    ]),
    h("h3", null, "Gate checks"),
    checkRow(health.checks, "health.checks"),
    arr(health.missing).length
      ? h("p", { class: "muted" }, "Missing input: " + arr(health.missing).map(str).join(", "))
      : null,
  );
}

function recoverySection(up) {
  const targets = arr(up.recovery_targets);
  const rs = isObj(up.right_size) ? up.right_size : null;
  const seq = isObj(up.sequence) ? up.sequence : null;
  return section(
    "Recovery before any expansion",
    h(
      "p",
      { class: "reassess" },
      "Reassess on ",
      h("strong", { "data-k": "health.unhealthy_path.reassess_on" }, str(up.reassess_on) || "unknown"),
    ),
    targets.length
      ? table(targets, [
          { label: "Metric", get: (t) => humanise(t.metric) },
          { label: "Today", get: (t) => str(t.current), k: (t, i) => "health.unhealthy_path.recovery_targets." + i + ".current" },
          { label: "Target", get: (t) => str(t.target), k: (t, i) => "health.unhealthy_path.recovery_targets." + i + ".target" },
          { label: "By", cls: "n", get: (t) => str(t.by), k: (t, i) => "health.unhealthy_path.recovery_targets." + i + ".by" },
          { label: "What it takes", get: (t) => str(t.detail), cls: "wide" },
        ])
      : null,
    rs
      ? h(
          "div",
          { class: "callout" },
          h("h3", null, "Right-size first"),
          figures([
            ["Unused seats", str(rs.unused_seats), "health.unhealthy_path.right_size.unused_seats"],
            ["Recommended seats", str(rs.recommended_seats), "health.unhealthy_path.right_size.recommended_seats"],
            rs.arr_at_stake !== undefined ? ["ARR at stake", money(rs.arr_at_stake, rs.currency), "health.unhealthy_path.right_size.arr_at_stake"] : null,
          ]),
          rs.detail ? h("p", null, str(rs.detail)) : null,
        )
      : null,
    seq && arr(seq.steps).length ? [h("h3", null, "Sequence"), h("ol", null, arr(seq.steps).map((s) => h("li", null, str(s))))] : null,
    up.ae_note ? [h("h3", null, "Note for the account executive"), h("blockquote", null, str(up.ae_note))] : null,
    up.upstream_feedback ? [h("h3", null, "Upstream feedback"), h("p", null, str(up.upstream_feedback))] : null,
    up.diagnose ? h("p", { class: "muted" }, str(up.diagnose)) : null,
  );
}

function signalsSection(sig) {
  const list = arr(sig.signals);
  return section(
    "Signals",
    figures([
      ["Organic signals" + (sig.organic_required !== undefined ? " (needs " + str(sig.organic_required) + ")" : ""), str(sig.organic_count), "signals.organic_count"],
      ["Ready", sig.ready === true ? "yes" : sig.ready === false ? "no" : "unknown", "signals.ready"],
    ]),
    list.length
      ? table(list, [
          { label: "Signal", get: (s) => str(s.label || humanise(s.kind)) },
          { label: "Strength", get: (s) => str(s.strength), k: (s, i) => "signals.signals." + i + ".strength" },
          { label: "Organic", get: (s) => (s.organic ? "organic" : "not organic") + (s.source ? " (" + str(s.source) + ")" : "") },
          { label: "Date", get: (s) => str(s.date), cls: "n" },
          {
            label: "Evidence",
            cls: "wide",
            get: (s) => [h("span", null, str(s.evidence)), s.quote ? h("q", { class: "quote" }, str(s.quote)) : null],
          },
        ])
      : h("p", { class: "muted" }, "No signals."),
    arr(sig.readiness).length ? [h("h3", null, "Readiness"), checkRow(sig.readiness, "signals.readiness")] : null,
  );
}

function scenariosSection(opp) {
  const sc = arr(opp.scenarios);
  const max = Math.max(1, ...sc.map((s) => (typeof s.expansion_arr === "number" ? s.expansion_arr : 0)));
  return section(
    "Opportunity",
    figures([
      ["Current ARR", money(opp.current_arr, opp.currency), "opportunity.current_arr"],
      ["Estimated expansion", money(opp.estimated_expansion_arr, opp.currency), "opportunity.estimated_expansion_arr"],
      ["Confidence", str(opp.confidence) || "unknown", "opportunity.confidence"],
      ["NRR after", pct(opp.nrr_after_pct), "opportunity.nrr_after_pct"],
    ]),
    h("h3", null, "Scenarios"),
    h(
      "div",
      { class: "bars" },
      sc.map((s, i) => {
        const v = typeof s.expansion_arr === "number" ? s.expansion_arr : 0;
        return h(
          "div",
          { class: "bar-row" },
          h("div", { class: "bar-label" }, str(s.name)),
          h(
            "div",
            { class: "bar-track" },
            h("div", { class: "bar-fill", style: "width:" + (v / max) * 100 + "%" }),
          ),
          h("div", { class: "bar-value", "data-k": "opportunity.scenarios." + i + ".expansion_arr" }, money(s.expansion_arr, opp.currency)),
          h("div", { class: "bar-math muted" }, [s.volume ? str(s.volume) + ": " : "", str(s.math)]),
        );
      }),
    ),
    arr(opp.assumptions).length ? [h("h3", null, "Assumptions"), h("ul", null, arr(opp.assumptions).map((a) => h("li", null, isObj(a) ? generic(a) : str(a))))] : null,
    arr(opp.missing_assumptions).length ? h("p", { class: "muted" }, "Missing: " + arr(opp.missing_assumptions).map(str).join("; ")) : null,
    opp.confidence_reason ? h("p", { class: "muted" }, str(opp.confidence_reason)) : null,
  );
}

function timelineSection(p) {
  const ap = isObj(p.approach) ? p.approach : {};
  const phases = arr(ap.phases).filter((x) => days(x.start) !== null && days(x.end) !== null);
  const steps = arr(ap.steps).filter((x) => days(x.date) !== null);
  const marks = [];
  const opp = isObj(p.opportunity) ? p.opportunity : {};
  if (isObj(opp.timeline) && days(opp.timeline.propose_by) !== null) marks.push(["Propose by", opp.timeline.propose_by, "opportunity.timeline.propose_by"]);
  const timing = isObj(p.timing) ? p.timing : null;
  if (timing && days(timing.date) !== null) marks.push(["Timing: " + str(timing.recommendation), timing.date, "timing.date"]);
  const all = [].concat(
    phases.flatMap((x) => [days(x.start), days(x.end)]),
    steps.map((x) => days(x.date)),
    marks.map((m) => days(m[1])),
  );
  if (all.length === 0 && !timing) return null;
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const span = Math.max(1, hi - lo);
  const at = (d) => ((days(d) - lo) / span) * 100;
  const row = (label, track, when, k) =>
    h("div", { class: "tl-row" }, h("div", { class: "tl-label" }, label), h("div", { class: "tl-track" }, track), h("div", { class: "tl-when", "data-k": k }, when));
  return section(
    "Execution plan",
    timing
      ? h("p", null, h("strong", { "data-k": "timing.recommendation" }, humanise(timing.recommendation)), ": ", str(timing.reason))
      : null,
    all.length
      ? h(
          "div",
          { class: "timeline", role: "list" },
          h("div", { class: "tl-row tl-axis" }, h("div", null), h("div", { class: "tl-ends" }, h("span", null, new Date(lo * 86400000).toISOString().slice(0, 10)), h("span", null, new Date(hi * 86400000).toISOString().slice(0, 10))), h("div", null)),
          marks.map((m) => row(m[0], h("div", { class: "tl-dot mark", style: "left:" + at(m[1]) + "%" }), str(m[1]), m[2])),
          phases.map((x, i) =>
            row(
              [h("strong", null, str(x.phase)), x.when ? h("span", { class: "muted" }, " " + str(x.when)) : null],
              h("div", { class: "tl-bar", style: "left:" + at(x.start) + "%;width:" + Math.max(0.8, at(x.end) - at(x.start)) + "%" }),
              [
                h("span", { "data-k": "approach.phases." + i + ".start" }, str(x.start)),
                " \u2013 ",
                h("span", { "data-k": "approach.phases." + i + ".end" }, str(x.end)),
              ],
              null,
            ),
          ),
          steps.map((x, i) =>
            row(
              ["Step " + str(x.step), x.owner ? h("span", { class: "muted" }, " \u00b7 " + str(x.owner)) : null],
              h("div", { class: "tl-dot", style: "left:" + at(x.date) + "%" }),
              str(x.date),
              "approach.steps." + i + ".date",
            ),
          ),
        )
      : null,
    steps.length
      ? table(steps, [
          { label: "Step", get: (x) => str(x.step) },
          { label: "Date", get: (x) => str(x.date), cls: "n" },
          { label: "Owner", get: (x) => str(x.owner) },
          { label: "Action", get: (x) => str(x.action), cls: "wide" },
        ])
      : null,
    phases.length
      ? h("ul", { class: "milestones" }, phases.map((x) => h("li", null, h("strong", null, str(x.phase) + ": "), str(x.milestone))))
      : null,
  );
}

function risksSection(r) {
  const list = arr(r.risks);
  if (!list.length) return null;
  return section(
    "Risks and gating actions",
    table(list, [
      { label: "Risk", get: (x) => str(x.risk), k: (x, i) => "risks.risks." + i + ".risk" },
      { label: "Why", get: (x) => str(x.why) },
      { label: "Gate on", get: (x) => str(x.gating_action), cls: "wide" },
    ]),
  );
}

function successSection(s) {
  const list = arr(s.criteria);
  if (!list.length) return null;
  return section(
    "Success criteria",
    table(list, [
      { label: "Criteria", get: (x) => str(x.criteria) },
      { label: "Target", get: (x) => str(x.target) },
      { label: "By", get: (x) => str(x.target_date), cls: "n" },
      { label: "Measured as", get: (x) => str(x.measurement), cls: "wide" },
    ]),
  );
}

function framingSection(f) {
  if (!f.framing && !arr(f.statements).length) return null;
  return section(
    "Framing",
    f.framing ? h("blockquote", null, str(f.framing)) : null,
    arr(f.statements).length
      ? table(arr(f.statements), [
          { label: "Signal", get: (x) => humanise(x.signal) },
          { label: "Say", get: (x) => str(x.good), cls: "wide" },
          { label: "Not", get: (x) => str(x.bad) },
        ])
      : null,
  );
}

function planView(p, opts) {
  const health = isObj(p.health) ? p.health : null;
  const up = health && isObj(health.unhealthy_path) ? health.unhealthy_path : null;
  const blocked = p.outcome === "blocked" || (p.gateOnly && up);
  const parts = [
    h(
      "header",
      { class: "plan-head" },
      h("h1", null, h("span", { "data-k": "account" }, str(p.account) || "Expansion plan")),
      h(
        "p",
        { class: "verdict" },
        p.outcome !== undefined && p.outcome !== null
          ? h("span", { class: "badge " + outcomeClass(p.outcome), "data-k": "outcome", "data-value": str(p.outcome) }, outcomeLabel(p.outcome))
          : null,
        h("span", { "data-k": "verdict" }, composedVerdict(p)),
      ),
      p.as_of ? h("p", { class: "muted" }, "As of ", h("span", { "data-k": "as_of" }, str(p.as_of))) : null,
    ),
    health ? healthSection(health) : null,
  ];
  if (blocked && up) {
    parts.push(recoverySection(up));
  } else {
    if (isObj(p.signals)) parts.push(signalsSection(p.signals));
    if (isObj(p.opportunity)) parts.push(scenariosSection(p.opportunity));
    if (isObj(p.framing)) parts.push(framingSection(p.framing));
    if (isObj(p.timing) || isObj(p.approach)) parts.push(timelineSection(p));
    if (isObj(p.risks)) parts.push(risksSection(p.risks));
    if (isObj(p.success_criteria)) parts.push(successSection(p.success_criteria));
  }
  if (arr(p.watch_for).length) {
    parts.push(section("Watch for", h("ul", null, arr(p.watch_for).map((w) => h("li", null, isObj(w) ? generic(w) : str(w))))));
  }
  const extra = Object.entries(p).filter(([k]) => !PLAN_KNOWN.has(k) && k !== "gateOnly");
  if (extra.length) {
    parts.push(section("More from the server", generic(Object.fromEntries(extra))));
  }
  if (!health && !opts.standalone && p.outcome !== undefined && !p.gateOnly) {
    parts.push(h("p", { class: "muted", id: "loading-full" }, "Loading the full plan\u2026"));
  }
  return h("article", { class: "plan " + outcomeClass(p.outcome), "data-outcome": str(p.outcome) }, parts);
}

function renderPlan(root, data, opts) {
  const plans = (Array.isArray(data) ? data : [data]).map(normalisePlan);
  root.replaceChildren(...plans.map((p) => planView(p, opts)));
  const first = plans[0] || {};
  document.title = "Expansion plan" + (first.account ? ": " + str(first.account) : "");
  // A summary answer (no step results) is completed by asking the host for the full plan.
  const one = plans.length === 1 ? plans[0] : null;
  if (one && !opts.standalone && !isObj(one.health) && !one.gateOnly && one.outcome !== undefined && Bridge.canCallTools()) {
    const args = Object.assign({}, Bridge.toolInput || {}, { detail: "full" });
    Bridge.callTool("draft_plan", args)
      .then((r) => {
        const full = structuredOf(r);
        if (full && isObj(full.health)) renderPlan(root, full, { standalone: false, full: true });
      })
      .catch(() => {
        const l = document.getElementById("loading-full");
        if (l) l.textContent = "The full plan could not be loaded; the summary above is complete.";
      });
  }
}

start("expansion-planner plan view", renderPlan);
