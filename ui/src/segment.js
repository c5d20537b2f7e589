// The segment view: what plan_segment returns, drawn. Clicking an account asks the host to
// call draft_plan for it (`tools/call` from the view); in a file there is no host to ask.
"use strict";

const SEGMENT_KNOWN = new Set([
  "segment", "description", "as_of", "reassessments_as_of", "total_accounts", "distribution",
  "status_distribution", "accounts", "ranked_ready", "right_size_candidates", "reassessments_due",
  "most_common_failing_check", "notes", "markdown", "next_cursor", "limit", "cursor",
]);

/** Known outcomes first, in the playbook's order; any other outcome after them. */
const OUTCOME_ORDER = ["ready", "provisional", "on_hold", "not_ready", "blocked"];

function countBars(counts, prefix, order, label) {
  const entries = Object.entries(isObj(counts) ? counts : {}).filter(([, v]) => typeof v === "number");
  entries.sort((a, b) => {
    const ia = order.indexOf(a[0]);
    const ib = order.indexOf(b[0]);
    return (ia < 0 ? order.length : ia) - (ib < 0 ? order.length : ib) || a[0].localeCompare(b[0]);
  });
  const max = Math.max(1, ...entries.map(([, v]) => v));
  return h(
    "div",
    { class: "bars" },
    entries.map(([k, v]) =>
      h(
        "div",
        { class: "bar-row", "data-bucket": k },
        h("div", { class: "bar-label" }, label(k)),
        h("div", { class: "bar-track" }, h("div", { class: "bar-fill " + outcomeClass(k), style: "width:" + (v / max) * 100 + "%" })),
        h("div", { class: "bar-value", "data-k": prefix + "." + k }, String(v)),
      ),
    ),
  );
}

const ACCOUNT_COLUMNS = [
  { key: "name", label: "Account", type: "text", show: (a) => str(a.name) },
  { key: "outcome", label: "Outcome", type: "outcome", show: (a) => h("span", { class: "badge " + outcomeClass(a.outcome) }, outcomeLabel(a.outcome)) },
  { key: "utilisation_pct", cls: "n", label: "Utilisation", type: "num", show: (a) => pct(a.utilisation_pct) },
  { key: "score", cls: "n", label: "Score", type: "num", show: (a) => num(a.score) },
  { key: "expansion_arr_100", cls: "n", label: "Expansion at 100%", type: "num", show: (a) => (a.expansion_arr_100 === null || a.expansion_arr_100 === undefined ? "\u2014" : money(a.expansion_arr_100, a.currency)) },
  { key: "expansion_arr_50", cls: "n", label: "at 50%", type: "num", show: (a) => (a.expansion_arr_50 === null || a.expansion_arr_50 === undefined ? "\u2014" : money(a.expansion_arr_50, a.currency)) },
  { key: "top_reason", label: "Top reason", type: "text", show: (a) => str(a.top_reason), cls: "wide" },
];

function compare(col, a, b) {
  const x = a[col.key];
  const y = b[col.key];
  if (col.type === "num") {
    const xn = typeof x === "number" ? x : -Infinity;
    const yn = typeof y === "number" ? y : -Infinity;
    return xn - yn;
  }
  if (col.type === "outcome") {
    const ix = OUTCOME_ORDER.indexOf(str(x));
    const iy = OUTCOME_ORDER.indexOf(str(y));
    return (ix < 0 ? 99 : ix) - (iy < 0 ? 99 : iy) || str(x).localeCompare(str(y));
  }
  return str(x).localeCompare(str(y));
}

function accountsTable(data, opts, status) {
  const rows = arr(data.accounts).slice();
  let sortKey = null;
  let dir = 1;
  const wrap = h("div", { class: "table-wrap" });
  const draw = () => {
    const sorted = rows.slice();
    if (sortKey) {
      const col = ACCOUNT_COLUMNS.find((c) => c.key === sortKey);
      sorted.sort((a, b) => dir * compare(col, a, b) || str(a.name).localeCompare(str(b.name)));
    }
    const head = h(
      "tr",
      null,
      ACCOUNT_COLUMNS.map((c) =>
        h(
          "th",
          { scope: "col", class: c.cls, "aria-sort": sortKey === c.key ? (dir > 0 ? "ascending" : "descending") : "none" },
          h(
            "button",
            {
              type: "button",
              class: "sort",
              "data-sort": c.key,
              onclick: () => {
                dir = sortKey === c.key ? -dir : c.type === "num" ? -1 : 1;
                sortKey = c.key;
                draw();
              },
            },
            c.label,
            h("span", { class: "sort-mark", "aria-hidden": "true" }, sortKey === c.key ? (dir > 0 ? " \u25b2" : " \u25bc") : ""),
          ),
        ),
      ),
    );
    const interactive = !opts.standalone && Bridge.canCallTools();
    const body = sorted.map((a) => {
      const go = () => draftFor(a, data, status);
      return h(
        "tr",
        {
          class: interactive ? "clickable" : null,
          tabindex: interactive ? "0" : null,
          "data-account": str(a.name),
          title: interactive ? "Draft the plan for this account" : null,
          onclick: interactive ? go : null,
          onkeydown: interactive ? (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), go()) : null,
        },
        ACCOUNT_COLUMNS.map((c) => h("td", { class: c.cls, "data-col": c.key }, c.show(a))),
      );
    });
    wrap.replaceChildren(h("table", { class: "accounts" }, h("thead", null, head), h("tbody", null, body)));
  };
  draw();
  // A paged answer (`next_cursor`) lists one page of accounts: inside a host, the rest are
  // fetched with the same call and the cursor, so the table sorts over all of them.
  let cursor = data.next_cursor;
  const more = h("p", { class: "more" });
  const offer = () => {
    if (cursor === undefined || cursor === null || cursor === "") {
      more.replaceChildren();
      return;
    }
    if (opts.standalone || !Bridge.canCallTools()) {
      more.replaceChildren(h("span", { class: "muted" }, rows.length + " of " + str(data.total_accounts) + " accounts listed."));
      return;
    }
    more.replaceChildren(
      h(
        "button",
        {
          type: "button",
          id: "load-more",
          onclick: () => {
            more.replaceChildren(h("span", { class: "muted" }, "Loading\u2026"));
            const args = Object.assign({}, Bridge.toolInput || {}, { cursor: cursor });
            Bridge.callTool("plan_segment", args)
              .then((r) => {
                const page = structuredOf(r);
                if (!page || r.isError) throw new Error(textOf(r) || "no structured result");
                rows.push(...arr(page.accounts));
                cursor = page.next_cursor;
                draw();
                offer();
              })
              .catch((e) => more.replaceChildren("The next page could not be loaded: " + String(e.message || e)));
          },
        },
        "Load more accounts (" + rows.length + " of " + str(data.total_accounts) + " listed)",
      ),
    );
  };
  offer();
  return h("div", null, wrap, more);
}

function draftFor(a, data, status) {
  const args = { account: str(a.id || a.name) };
  if (a.as_of || data.as_of) args.as_of = str(a.as_of || data.as_of);
  status.replaceChildren("Drafting the plan for ", h("strong", null, str(a.name)), "\u2026");
  Bridge.callTool("draft_plan", args)
    .then((r) => {
      const p = structuredOf(r);
      if (r && r.isError) {
        status.replaceChildren("draft_plan answered with an error: " + textOf(r));
      } else if (p) {
        status.replaceChildren(
          h("strong", null, str(p.account || a.name)),
          ": ",
          h("span", { class: "badge " + outcomeClass(p.outcome) }, outcomeLabel(p.outcome)),
          " ",
          composedVerdict(p),
        );
      } else {
        status.replaceChildren(textOf(r));
      }
    })
    .catch((e) => status.replaceChildren("The host did not run draft_plan: " + String(e)));
}

function renderSegment(root, data, opts) {
  if (!isObj(data)) {
    showMessage(root, "No segment", JSON.stringify(data));
    return;
  }
  const status = h("p", { class: "status", id: "draft-status", role: "status" });
  const ranked = arr(data.ranked_ready);
  const rs = arr(data.right_size_candidates);
  const due = arr(data.reassessments_due);
  const mc = isObj(data.most_common_failing_check) ? data.most_common_failing_check : null;
  const shown = arr(data.accounts).length;
  const parts = [
    h(
      "header",
      { class: "plan-head" },
      h("h1", null, "Segment: ", h("span", { "data-k": "description" }, str(data.description) || "all accounts")),
      h(
        "p",
        { class: "muted" },
        h("span", { "data-k": "total_accounts" }, str(data.total_accounts)),
        " accounts",
        data.as_of ? [" \u00b7 as of ", h("span", { "data-k": "as_of" }, str(data.as_of))] : null,
        data.next_cursor !== undefined && data.next_cursor !== null ? " \u00b7 this page lists " + shown + "; more follow" : null,
      ),
    ),
    section(
      "Outcomes",
      h("div", { class: "two" },
        h("div", null, h("h3", null, "By plan outcome"), countBars(data.distribution, "distribution", OUTCOME_ORDER, outcomeLabel)),
        h("div", null, h("h3", null, "By health status"), countBars(data.status_distribution, "status_distribution", ["Healthy", "Neutral", "Unhealthy", "unknown"], (k) => str(k))),
      ),
      mc
        ? h("p", { class: "callout" }, h("strong", null, "Most common failing check: " + humanise(mc.check)), mc.share_pct !== undefined ? " (" + pct(mc.share_pct) + " of blocked accounts)" : "", mc.pattern ? ". " + str(mc.pattern) : "")
        : null,
    ),
    section(
      "Accounts",
      !opts.standalone && Bridge.canCallTools()
        ? h("p", { class: "muted" }, "Sort by any column; click an account to draft its plan.")
        : h("p", { class: "muted" }, "Sort by any column."),
      status,
      accountsTable(data, opts, status),
    ),
    ranked.length
      ? section(
          "Ranked opportunities",
          table(ranked, [
            { label: "#", get: (x) => str(x.rank) },
            { label: "Account", get: (x) => str(x.name) },
            { label: "Type", get: (x) => str(x.expansion_type) },
            { label: "At 100%", cls: "n", get: (x) => money(x.expansion_arr_100, x.currency), k: (x, i) => "ranked_ready." + i + ".expansion_arr_100" },
            { label: "At 50%", cls: "n", get: (x) => money(x.expansion_arr_50, x.currency), k: (x, i) => "ranked_ready." + i + ".expansion_arr_50" },
            { label: "Confidence", get: (x) => str(x.confidence) },
            { label: "Expected", cls: "n", get: (x) => money(x.expected_arr, x.currency), k: (x, i) => "ranked_ready." + i + ".expected_arr" },
            { label: "Why", get: (x) => str(x.top_reason), cls: "wide" },
          ]),
        )
      : null,
    rs.length
      ? section(
          "Right-size candidates",
          table(rs, [
            { label: "Account", get: (x) => str(x.name) },
            { label: "Utilisation", cls: "n", get: (x) => pct(x.utilisation_pct), k: (x, i) => "right_size_candidates." + i + ".utilisation_pct" },
            { label: "Active / licensed", get: (x) => str(x.active_users) + " / " + str(x.licensed_seats) },
            { label: "Unused", get: (x) => str(x.unused_seats), k: (x, i) => "right_size_candidates." + i + ".unused_seats" },
            { label: "Recommended", get: (x) => str(x.recommended_seats), k: (x, i) => "right_size_candidates." + i + ".recommended_seats" },
            { label: "ARR at stake", cls: "n", get: (x) => money(x.arr_at_stake, x.currency), k: (x, i) => "right_size_candidates." + i + ".arr_at_stake" },
          ]),
        )
      : null,
    due.length ? section("Reassessments due", h("ul", null, due.map((d) => h("li", null, isObj(d) ? generic(d) : str(d))))) : null,
    arr(data.notes).length ? section("Notes", h("ul", null, arr(data.notes).map((n) => h("li", null, str(n))))) : null,
  ];
  const extra = Object.entries(data).filter(([k]) => !SEGMENT_KNOWN.has(k));
  if (extra.length) parts.push(section("More from the server", generic(Object.fromEntries(extra))));
  root.replaceChildren(h("article", { class: "segment" }, parts));
  document.title = "Segment plan: " + (str(data.description) || "all accounts");
}

start("expansion-planner segment view", renderSegment);
