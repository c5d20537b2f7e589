// Shared by both views: the host bridge (MCP Apps, SEP-1865), DOM helpers, formatting and
// theming. Plain script, no modules: src/mcp/apps.rs inlines it ahead of the view's own
// script inside one <script> element, so the document needs no network and no build tool.
//
// Safety rule: account text (names, evidence, quotes) only ever reaches the DOM through
// textContent or attribute setters (see h()); nothing here assigns innerHTML.
"use strict";

const PROTOCOL_VERSION = "2026-01-26";

/** Creates an element: h("td", {class: "num", "data-k": "x"}, "text", child, ...). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "onclick" || k === "onkeydown") el.addEventListener(k.slice(2), v);
      else if (k === "style") el.setAttribute("style", String(v));
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

function isObj(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function arr(v) {
  return Array.isArray(v) ? v : [];
}

function str(v) {
  return typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
}

/** "12,345" / "1,234.5": grouping without the locale, so every viewer sees the same text. */
function groupDigits(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return "unknown";
  const neg = n < 0;
  const [int, frac] = Math.abs(n).toString().split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (neg ? "-" : "") + grouped + (frac ? "." + frac : "");
}

/** Money as the markdown shows it: "USD 36,000" (cents shown when the figure has them). */
function money(n, currency) {
  if (typeof n !== "number" || !Number.isFinite(n)) return "unknown";
  const cur = str(currency) || "USD";
  const text = Number.isInteger(n) ? groupDigits(n) : groupDigits(Number(n.toFixed(2)));
  const [i, f] = text.split(".");
  return cur + " " + (f === undefined ? i : i + "." + f.padEnd(2, "0"));
}

/** A percentage with one decimal, as the server computed it (never re-rounded). */
function pct(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return "unknown";
  const s = n.toString();
  return (s.includes(".") ? s : n.toFixed(1)) + "%";
}

function num(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return "unknown";
  return Number.isInteger(n) ? n.toFixed(1) : n.toString();
}

/** "not_ready" -> "Not ready"; any value the view does not know is shown as it is. */
const OUTCOME_LABELS = {
  ready: "Ready",
  not_ready: "Not ready",
  blocked: "Blocked",
  provisional: "Provisional",
  on_hold: "On hold",
};
function outcomeLabel(o) {
  const s = str(o);
  return OUTCOME_LABELS[s] || (s ? s.replace(/_/g, " ") : "unknown");
}
/** A CSS class for the outcome; unknown outcomes get the neutral one. */
function outcomeClass(o) {
  return OUTCOME_LABELS[str(o)] ? "o-" + str(o) : "o-other";
}

function humanise(key) {
  const s = str(key).replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A pass / fail / unknown chip: a symbol and a word, so it reads without colour. */
function verdictChip(passed) {
  if (passed === true) return h("span", { class: "chip pass" }, "\u2713 pass");
  if (passed === false) return h("span", { class: "chip fail" }, "\u2717 fail");
  return h("span", { class: "chip unknown" }, "? unknown");
}

function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", null, title), ...children);
}

/** Any value, rendered generically: what a newer server adds still shows up, as text. */
function generic(v, depth) {
  depth = depth || 0;
  if (Array.isArray(v)) {
    if (v.length === 0) return h("span", { class: "muted" }, "none");
    return h("ul", { class: "generic" }, v.map((x) => h("li", null, generic(x, depth + 1))));
  }
  if (isObj(v)) {
    if (depth > 4) return h("code", null, JSON.stringify(v));
    return h(
      "dl",
      { class: "generic" },
      Object.entries(v).map(([k, x]) => [h("dt", null, humanise(k)), h("dd", null, generic(x, depth + 1))]),
    );
  }
  if (v === null || v === undefined) return h("span", { class: "muted" }, "unknown");
  return document.createTextNode(String(v));
}

/** A table from rows and column specs {label, get, k?, cls?}. */
function table(rows, cols, opts) {
  opts = opts || {};
  const thead = h("thead", null, h("tr", null, cols.map((c) => h("th", { scope: "col", class: c.cls }, c.label))));
  const tbody = h(
    "tbody",
    null,
    rows.map((r, i) =>
      h(
        "tr",
        opts.row ? opts.row(r, i) : null,
        cols.map((c) => h("td", { class: c.cls, "data-k": c.k ? c.k(r, i) : null }, c.get(r, i))),
      ),
    ),
  );
  return h("table", { class: opts.cls || null }, thead, tbody);
}

/** The verdict line: the server's own when it sends one, else composed from the figures. */
function composedVerdict(p) {
  if (typeof p.verdict === "string" && p.verdict) return p.verdict;
  const o = str(p.outcome);
  const health = isObj(p.health) ? p.health : {};
  const up = isObj(health.unhealthy_path) ? health.unhealthy_path : null;
  if (o === "blocked") {
    const failing = arr(health.checks).filter((c) => c && c.passed !== true).map((c) => humanise(c.check));
    return (
      "Blocked at the health gate" +
      (failing.length ? " (" + failing.join(", ") + ")" : "") +
      (up && up.reassess_on ? "; reassess on " + up.reassess_on : "")
    );
  }
  const opp = isObj(p.opportunity) ? p.opportunity : null;
  if (o === "ready" && opp) {
    const by = isObj(opp.timeline) && opp.timeline.propose_by ? " by " + opp.timeline.propose_by : "";
    return (
      "Ready: propose a " + str(opp.expansion_type || "expansion") + " expansion of " +
      money(opp.estimated_expansion_arr, opp.currency) + by
    );
  }
  if (o === "not_ready") {
    const sig = isObj(p.signals) ? p.signals : {};
    const failing = arr(sig.readiness).filter((c) => c && c.passed !== true).map((c) => humanise(c.check));
    return "Not ready" + (failing.length ? ": " + failing.join(", ") : "");
  }
  if (p.gateOnly) return health.clear_to_expand ? "Clear to expand: the health gate passes" : "The health gate fails";
  return outcomeLabel(o);
}

// ---- Theme -------------------------------------------------------------------------------

function applyTheme(theme) {
  const t = theme === "dark" || theme === "light" ? theme : null;
  const root = document.documentElement;
  if (t) {
    root.dataset.theme = t;
    root.style.colorScheme = t;
  }
}

function applyHostStyles(styles) {
  const vars = isObj(styles) && isObj(styles.variables) ? styles.variables : null;
  if (!vars) return;
  for (const [k, v] of Object.entries(vars)) {
    if (typeof k === "string" && k.startsWith("--") && typeof v === "string") {
      document.documentElement.style.setProperty(k, v);
    }
  }
}

function applyContext(ctx) {
  if (!isObj(ctx)) return;
  if (ctx.theme) applyTheme(ctx.theme);
  if (ctx.styles) applyHostStyles(ctx.styles);
}

// ---- The host bridge ---------------------------------------------------------------------

/**
 * The view side of MCP Apps over postMessage: `ui/initialize`, then
 * `ui/notifications/initialized`; the host then sends `ui/notifications/tool-input` and
 * `ui/notifications/tool-result`. Requests to the host (`tools/call`) get ids of their own.
 */
const Bridge = {
  nextId: 1,
  pending: new Map(),
  handlers: new Map(),
  hostCapabilities: null,
  hostContext: null,
  toolInput: null,

  post(msg) {
    window.parent.postMessage(msg, "*");
  },
  request(method, params) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ jsonrpc: "2.0", id, method, params });
    });
  },
  notify(method, params) {
    this.post({ jsonrpc: "2.0", method, params: params || {} });
  },
  on(method, fn) {
    this.handlers.set(method, fn);
  },
  receive(m) {
    if (!isObj(m) || m.jsonrpc !== "2.0") return;
    if (m.method === undefined && m.id !== undefined) {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(str(m.error.message) || "request failed"));
      else p.resolve(m.result);
      return;
    }
    if (typeof m.method !== "string") return;
    if (m.id !== undefined) {
      // Requests from the host: answer the ones a view must (ping, teardown).
      const known = m.method === "ping" || m.method === "ui/resource-teardown";
      this.post(
        known
          ? { jsonrpc: "2.0", id: m.id, result: {} }
          : { jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "method not found: " + m.method } },
      );
      return;
    }
    const fn = this.handlers.get(m.method);
    if (fn) fn(m.params || {});
  },
  canCallTools() {
    return isObj(this.hostCapabilities) && this.hostCapabilities.serverTools !== undefined;
  },
  callTool(name, args) {
    return this.request("tools/call", { name, arguments: args });
  },
  async connect(appName) {
    window.addEventListener("message", (e) => {
      if (e.source === window.parent) this.receive(e.data);
    });
    this.on("ui/notifications/host-context-changed", (p) => {
      this.hostContext = Object.assign({}, this.hostContext, p);
      applyContext(p);
    });
    const result = await this.request("ui/initialize", {
      appInfo: { name: appName, version: "1" },
      appCapabilities: { availableDisplayModes: ["inline"] },
      protocolVersion: PROTOCOL_VERSION,
    });
    this.hostCapabilities = isObj(result) ? result.hostCapabilities : null;
    this.hostContext = isObj(result) && isObj(result.hostContext) ? result.hostContext : {};
    applyContext(this.hostContext);
    this.notify("ui/notifications/initialized", {});
    this.watchSize();
  },
  watchSize() {
    let last = "";
    const send = () => {
      // The body's own height, not the document's: the document is at least as tall as
      // the iframe, so measuring it would let the view grow but never shrink.
      const width = Math.ceil(window.innerWidth);
      const height = Math.ceil(document.body.scrollHeight);
      const key = width + "x" + height;
      if (key !== last) {
        last = key;
        this.notify("ui/notifications/size-changed", { width, height });
      }
    };
    if (typeof ResizeObserver === "function") new ResizeObserver(send).observe(document.body);
    send();
  },
};

/** The structured content of a tool result; a text-only result is shown as text. */
function structuredOf(result) {
  if (!isObj(result)) return null;
  if (isObj(result.structuredContent)) return result.structuredContent;
  return null;
}

function textOf(result) {
  return arr(result && result.content)
    .filter((c) => isObj(c) && c.type === "text")
    .map((c) => str(c.text))
    .join("\n");
}

function showMessage(root, title, text) {
  root.replaceChildren(h("section", { class: "card" }, h("h2", null, title), h("pre", { class: "text" }, text)));
}

/**
 * Starts a view: with data embedded in the document (the file written by `--format html`)
 * it renders that at once; inside a host it runs the handshake and renders each tool result.
 */
function start(appName, render) {
  const root = document.getElementById("app");
  const embedded = document.getElementById("ep-data");
  if (embedded && embedded.textContent.trim() !== "") {
    document.documentElement.dataset.mode = "file";
    let data;
    try {
      data = JSON.parse(embedded.textContent);
    } catch (e) {
      showMessage(root, "This file is damaged", String(e));
      return;
    }
    render(root, data, { standalone: true });
    return;
  }
  document.documentElement.dataset.mode = "app";
  if (window.parent === window) {
    showMessage(root, "Nothing to show", "This view is shown by an MCP host after a tool call.");
    return;
  }
  root.replaceChildren(h("p", { class: "muted", id: "waiting" }, "Waiting for the tool result\u2026"));
  Bridge.on("ui/notifications/tool-input", (p) => {
    Bridge.toolInput = isObj(p.arguments) ? p.arguments : {};
  });
  Bridge.on("ui/notifications/tool-result", (p) => {
    const data = structuredOf(p);
    if (p.isError || !data) {
      showMessage(root, p.isError ? "The tool answered with an error" : "No structured result", textOf(p));
      return;
    }
    render(root, data, { standalone: false });
  });
  Bridge.on("ui/notifications/tool-cancelled", (p) => {
    showMessage(root, "The tool call was cancelled", str(p.reason));
  });
  Bridge.connect(appName).catch((e) => showMessage(root, "The host did not answer", String(e)));
}
