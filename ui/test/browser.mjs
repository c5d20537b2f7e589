// The views in a real browser (headless Chromium driven by playwright-core), against the
// built binary: each view is read from the server with resources/read, loaded into the test
// host (harness.html) and fed real tool results; the figures in the DOM are compared with
// structuredContent, a segment row click must reach the server as tools/call, hostile
// account names must stay text, and no request may leave the page. The files written by
// `plan --format html` and `scan --format html` get the same checks.
//
// usage: node browser.mjs BINARY OUT_DIR [SCREENSHOT_DIR]
// (run by scripts/browser-test, which installs what it needs)

import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createInterface } from "node:readline";
import { createRequire } from "node:module";

const here = path.dirname(fileURLToPath(import.meta.url));
const [bin, outDir, shotDir] = process.argv.slice(2);
if (!bin || !outDir) {
  console.error("usage: node browser.mjs BINARY OUT_DIR [SCREENSHOT_DIR]");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
// playwright-core lives where scripts/browser-test installed it (.tools/), not in the repo.
const requireFrom = createRequire(path.join(process.env.PLAYWRIGHT_PREFIX || here, "package.json"));
const { chromium } = requireFrom("playwright-core");
// The host side of the handshake is the official SDK's (installed next to playwright-core).
const bridgeFrom = createRequire(path.join(process.env.EXT_APPS_PREFIX || here, "package.json"));
const { AppBridge } = await import(pathToFileURL(bridgeFrom.resolve("@modelcontextprotocol/ext-apps/app-bridge")).href);

const UI = "io.modelcontextprotocol/ui";
const MIME = "text/html;profile=mcp-app";
const HOSTILE = '<img src=x onerror="window.__pwned=1">';
const MAX_VIEW_BYTES = 150 * 1024;

let passed = 0;
const failures = [];
// What the SDK's AppBridge warns about (a view calling the host before the handshake is
// done, and the like) fails the run, as do notifications it refused to send.
const sdkWarnings = [];
const warn = console.warn;
console.warn = (...args) => {
  sdkWarnings.push(args.map(String).join(" "));
  warn(...args);
};
async function test(name, fn) {
  try {
    await fn();
    passed++;
    console.log("PASS " + name);
  } catch (e) {
    failures.push(name);
    console.log("FAIL " + name + "\n    " + String(e && e.stack ? e.stack : e).split("\n").slice(0, 6).join("\n    "));
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
function eq(actual, expected, msg) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(msg + ": got " + JSON.stringify(actual) + ", expected " + JSON.stringify(expected));
  }
}

// ---- A minimal MCP client over the binary's stdio ----------------------------------------

class Server {
  constructor(args, capabilities) {
    this.proc = spawn(bin, ["serve", ...args], { stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stderr.on("data", () => {});
    this.next = 1;
    this.pending = new Map();
    createInterface({ input: this.proc.stdout }).on("line", (line) => {
      let m;
      try {
        m = JSON.parse(line);
      } catch {
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error.message));
      else p.resolve(m.result);
    });
    this.capabilities = capabilities;
  }
  request(method, params) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.proc.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
    });
  }
  async start() {
    this.init = await this.request("initialize", {
      protocolVersion: "2025-06-18",
      capabilities: this.capabilities,
      clientInfo: { name: "browser-test", version: "1" },
    });
    this.proc.stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n");
    this.tools = (await this.request("tools/list", {})).tools;
    return this;
  }
  async call(name, args) {
    const r = await this.request("tools/call", { name, arguments: args });
    if (r.isError) throw new Error(name + " failed: " + JSON.stringify(r.content));
    return r;
  }
  tool(name) {
    return this.tools.find((t) => t.name === name);
  }
  /** The view linked to a tool, read as a host would: resources/read of _meta.ui.resourceUri. */
  async view(toolName) {
    const tool = this.tool(toolName);
    const uri = tool && tool._meta && tool._meta.ui && tool._meta.ui.resourceUri;
    assert(typeof uri === "string" && uri.startsWith("ui://"), toolName + " has no _meta.ui.resourceUri");
    const read = await this.request("resources/read", { uri });
    const c = read.contents[0];
    eq(c.mimeType, MIME, "mimeType of " + uri);
    return { uri, html: c.text, csp: c._meta && c._meta.ui && c._meta.ui.csp, tool };
  }
  stop() {
    this.proc.stdin.end();
  }
}

const appsCaps = { extensions: { [UI]: { mimeTypes: [MIME] } } };

// ---- Data: a store with a hostile account name, and a hostile snapshot file ---------------

const work = mkdtempSync(path.join(tmpdir(), "ep-browser-"));
const demo = JSON.parse(readFileSync(path.join(here, "../../src/demo/portfolio.json"), "utf8"));
const hostileName = HOSTILE + " Bluefin";
const hostilePortfolio = demo.map((a) => (a.name === "Bluefin Logistics" ? { ...a, name: hostileName } : a));
writeFileSync(path.join(work, "hostile.json"), JSON.stringify(hostilePortfolio));
const hostileDb = path.join(work, "hostile.db");
execFileSync(bin, ["import", "--db", hostileDb, path.join(work, "hostile.json")], { stdio: "ignore" });
const northwind = demo.find((a) => a.name === "Northwind");
const hostileSnapshot = { ...northwind, name: HOSTILE + " Northwind", id: undefined };
writeFileSync(path.join(work, "hostile-snapshot.json"), JSON.stringify(hostileSnapshot));

// ---- DOM against structuredContent ------------------------------------------------------

function at(obj, keyPath) {
  return keyPath.split(".").reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), obj);
}

/** Every figure the view marks with data-k must show the structured value it names. */
function compareFigures(figures, data, required) {
  const seen = new Set();
  for (const { k, text } of figures) {
    const v = at(data, k);
    if (v === undefined) continue; // view-only labels (the gate marker, the composed verdict)
    seen.add(k);
    if (typeof v === "number") {
      const shown = Number(text.replace(/[^0-9.\-]/g, ""));
      eq(shown, v, "figure " + k + " (shown as " + JSON.stringify(text) + ")");
    } else if (typeof v === "boolean") {
      eq(text, v ? "yes" : "no", "figure " + k);
    } else if (v === null) {
      eq(text, "unknown", "figure " + k);
    } else if (typeof v === "string") {
      // Enumerations are shown humanised ("propose" as "Propose", "not_ready" as "Not ready").
      const norm = (t) => t.toLowerCase().replace(/[ _]+/g, "_");
      assert(text === v || (k === "outcome" ? text.length > 0 : norm(text) === norm(v)), "figure " + k + ": got " + JSON.stringify(text) + ", expected " + JSON.stringify(v));
    }
  }
  for (const k of required) assert(seen.has(k), "the view does not show " + k);
  return seen.size;
}

async function figuresIn(frame) {
  return frame.evaluate(() =>
    Array.from(document.querySelectorAll("[data-k]")).map((el) => ({ k: el.getAttribute("data-k"), text: el.textContent.trim() })),
  );
}

async function outcomeShown(frame) {
  return frame.evaluate(() => {
    const el = document.querySelector('[data-k="outcome"]');
    return el ? el.getAttribute("data-value") : null;
  });
}

async function assertNoInjection(frame, literal) {
  const r = await frame.evaluate(() => ({
    imgs: document.querySelectorAll("img").length,
    pwned: window.__pwned === 1,
    text: document.getElementById("app").textContent,
  }));
  eq(r.imgs, 0, "img elements in the view");
  eq(r.pwned, false, "the onerror handler ran");
  assert(r.text.includes(literal), "the hostile name is not shown as text");
}

/** The theme the document says it has (`attr`, null for none) and the one it looks like. */
async function assertTheme(frame, attr, look) {
  const r = await frame.evaluate(() => {
    const bg = getComputedStyle(document.documentElement).backgroundColor;
    const m = bg.match(/\d+(\.\d+)?/g).map(Number);
    return { theme: document.documentElement.dataset.theme || null, lum: (0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]) / 255 };
  });
  eq(r.theme, attr, "document theme");
  assert(look === "dark" ? r.lum < 0.3 : r.lum > 0.7, look + " theme background luminance " + r.lum.toFixed(2));
}

// ---- Browser ----------------------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});

/** The transport between the AppBridge (here) and the view (in the page's iframe). */
class PageTransport {
  constructor(page) {
    this.page = page;
  }
  async start() {}
  async send(message) {
    await this.page.evaluate((m) => window.sendToView(m), message);
  }
  async close() {
    if (this.onclose) this.onclose();
  }
}

/**
 * Loads a view in the test host with a real result: the official AppBridge answers the
 * view's `ui/initialize`, sends the tool input and result once the view is initialized,
 * follows its size, and forwards its `tools/call` requests to the server (recorded in
 * `calls`). Returns the page, the view's frame and the bridge.
 */
async function host(server, view, opts) {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 }, colorScheme: opts.theme });
  const external = [];
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith("file:") && !u.startsWith("about:") && !u.startsWith("data:")) external.push(u);
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const calls = [];
  const transport = new PageTransport(page);
  const bridge = new AppBridge(
    null,
    { name: "expansion-planner-test-host", version: "1" },
    { serverTools: {}, logging: {} },
    {
      hostContext: {
        theme: opts.theme,
        displayMode: "inline",
        availableDisplayModes: ["inline"],
        containerDimensions: { width: 1000 },
        toolInfo: { tool: { name: view.tool.name, inputSchema: view.tool.inputSchema } },
        locale: "en-US",
        platform: "web",
      },
    },
  );
  bridge.oncalltool = async (params) => {
    calls.push(params);
    if (opts.answer) return opts.answer(params);
    return server.request("tools/call", opts.forward ? opts.forward(params) : params);
  };
  bridge.addEventListener("sizechange", (p) => {
    if (typeof p.height === "number") page.evaluate((h) => window.setViewHeight(h), p.height).catch(() => {});
  });
  bridge.addEventListener("initialized", () => {
    bridge
      .sendToolInput({ arguments: opts.arguments })
      .then(() => bridge.sendToolResult(opts.result))
      .catch((e) => sdkWarnings.push("sending the tool result: " + String(e)));
  });
  await page.exposeFunction("toHost", (m) => {
    if (transport.onmessage) transport.onmessage(m);
  });
  await page.goto(pathToFileURL(path.join(here, "harness.html")).href);
  await bridge.connect(transport);
  await page.evaluate(([html, csp]) => window.startView(html, csp), [view.html, view.csp]);
  const handle = await page.waitForSelector("iframe");
  const frame = await handle.contentFrame();
  await frame.waitForSelector(opts.ready, { timeout: 10000 });
  // Let the size-changed notification settle the iframe's height.
  await page.waitForTimeout(150);
  return { page, frame, external, errors, calls, bridge };
}

async function shoot(page, name) {
  const file = path.join(outDir, name + ".png");
  // Content below the viewport is not painted: make the viewport as tall as the view.
  const height = await page.evaluate(() => document.querySelector("iframe").getBoundingClientRect().height);
  await page.setViewportSize({ width: 1000, height: Math.ceil(height) });
  await page.waitForTimeout(100);
  const iframe = await page.$("iframe");
  await iframe.screenshot({ path: file });
  if (shotDir) {
    mkdirSync(shotDir, { recursive: true });
    copyFileSync(file, path.join(shotDir, name + ".png"));
  }
}

const demoServer = await new Server(["--demo"], appsCaps).start();
const hostileServer = await new Server(["--db", hostileDb], appsCaps).start();

await test("the views are linked from the tools and read back as MCP App HTML under 150 KB", async () => {
  for (const [tool, uri] of [["draft_plan", "ui://expansion-planner/plan"], ["plan_segment", "ui://expansion-planner/segment"], ["check_health", "ui://expansion-planner/plan"]]) {
    const v = await demoServer.view(tool);
    eq(v.uri, uri, tool + " resourceUri");
    assert(v.html.startsWith("<!DOCTYPE html>"), uri + " is not an HTML document");
    assert(Buffer.byteLength(v.html) < MAX_VIEW_BYTES, uri + " is " + Buffer.byteLength(v.html) + " bytes");
    for (const k of ["connectDomains", "resourceDomains", "frameDomains", "baseUriDomains"]) eq(v.csp[k], [], uri + " csp." + k);
    assert(!/\bsrc\s*=\s*["']?https?:|<link\b|@import|\bfetch\(|XMLHttpRequest|WebSocket/i.test(v.html), uri + " refers to the network");
  }
  const listed = (await demoServer.request("resources/list", {})).resources.map((r) => r.uri);
  assert(listed.includes("ui://expansion-planner/plan") && listed.includes("ui://expansion-planner/segment"), "ui:// resources not listed: " + listed);
});

/** draft_plan arguments: the full plan where the tool has a `detail` switch. */
function planArgs(server, args) {
  const schema = server.tool("draft_plan").inputSchema;
  return schema && schema.properties && schema.properties.detail ? { ...args, detail: "full" } : args;
}

await test("plan view, ready plan: every figure equals structuredContent (light theme)", async () => {
  const args = planArgs(demoServer, { account: "Northwind" });
  const result = await demoServer.call("draft_plan", args);
  const data = result.structuredContent;
  eq(data.outcome, "ready", "Northwind's outcome");
  const view = await demoServer.view("draft_plan");
  const { page, frame, external, errors, bridge } = await host(demoServer, view, { arguments: args, result, theme: "light", ready: '[data-k="opportunity.scenarios.0.expansion_arr"]' });
  eq(await outcomeShown(frame), "ready", "outcome shown");
  eq(bridge.getAppVersion(), { name: "expansion-planner plan view", version: "1" }, "appInfo the host received");
  eq(bridge.getAppCapabilities(), { availableDisplayModes: ["inline"] }, "appCapabilities the host received");
  const required = [
    "account", "as_of", "health.utilisation_pct", "health.score", "health.status",
    "opportunity.estimated_expansion_arr", "opportunity.nrr_after_pct", "opportunity.confidence", "opportunity.current_arr",
    "timing.recommendation", "opportunity.timeline.propose_by",
    ...data.opportunity.scenarios.map((_, i) => "opportunity.scenarios." + i + ".expansion_arr"),
    ...data.approach.steps.map((_, i) => "approach.steps." + i + ".date"),
    ...data.risks.risks.map((_, i) => "risks.risks." + i + ".risk"),
    ...data.health.checks.map((_, i) => "health.checks." + i + ".actual"),
  ];
  compareFigures(await figuresIn(frame), data, required);
  const chips = await frame.evaluate(() => Array.from(document.querySelectorAll(".checks li")).map((li) => [li.dataset.check, li.dataset.passed, li.querySelector(".chip").textContent]));
  const expected = [...data.health.checks, ...data.signals.readiness].map((c) => [c.check, String(c.passed), c.passed ? "\u2713 pass" : c.passed === false ? "\u2717 fail" : "? unknown"]);
  eq(chips, expected, "gate and readiness checks");
  const evidence = await frame.evaluate(() => document.getElementById("app").textContent);
  for (const s of data.signals.signals) assert(evidence.includes(s.evidence), "signal evidence missing: " + s.evidence);
  for (const r of data.risks.risks) assert(evidence.includes(r.gating_action), "gating action missing: " + r.gating_action);
  assert(!evidence.includes("Recovery before any expansion"), "a ready plan shows recovery");
  await assertTheme(frame, "light", "light");
  eq(external, [], "network requests");
  eq(errors, [], "script errors");
  await shoot(page, "plan-ready");
  await page.close();
});

await test("plan view, blocked plan: recovery targets and reassessment date instead (dark theme)", async () => {
  const args = planArgs(demoServer, { account: "Bluefin Logistics" });
  const result = await demoServer.call("draft_plan", args);
  const data = result.structuredContent;
  eq(data.outcome, "blocked", "Bluefin's outcome");
  const view = await demoServer.view("draft_plan");
  const { page, frame, external, errors } = await host(demoServer, view, { arguments: args, result, theme: "dark", ready: '[data-k="health.unhealthy_path.reassess_on"]' });
  eq(await outcomeShown(frame), "blocked", "outcome shown");
  const up = data.health.unhealthy_path;
  const required = [
    "health.utilisation_pct", "health.score", "health.unhealthy_path.reassess_on",
    ...up.recovery_targets.flatMap((_, i) => ["current", "target", "by"].map((f) => "health.unhealthy_path.recovery_targets." + i + "." + f)),
    "health.unhealthy_path.right_size.unused_seats", "health.unhealthy_path.right_size.recommended_seats",
  ];
  const figures = await figuresIn(frame);
  compareFigures(figures, data, required);
  assert(!figures.some((f) => f.k.startsWith("opportunity.") || f.k.startsWith("approach.")), "a blocked plan shows expansion figures");
  const failed = await frame.evaluate(() => Array.from(document.querySelectorAll('.checks li[data-passed="false"]')).map((li) => li.dataset.check));
  eq(failed, data.health.checks.filter((c) => c.passed === false).map((c) => c.check), "failing checks");
  const word = await frame.evaluate(() => document.querySelector(".gauge-word").textContent);
  eq(word, "below the gate", "gauge label (readable without colour)");
  await assertTheme(frame, "dark", "dark");
  eq(external, [], "network requests");
  eq(errors, [], "script errors");
  await shoot(page, "plan-blocked");
  await page.close();
});

await test("segment view: distribution, accounts, ranking and right-size equal structuredContent; sorting; a row click calls draft_plan", async () => {
  const result = await demoServer.call("plan_segment", {});
  const data = result.structuredContent;
  const view = await demoServer.view("plan_segment");
  const { page, frame, external, errors, calls } = await host(demoServer, view, { arguments: {}, result, theme: "light", ready: "table.accounts" });
  const required = [
    "total_accounts",
    ...Object.keys(data.distribution).map((k) => "distribution." + k),
    ...Object.keys(data.status_distribution).map((k) => "status_distribution." + k),
    ...data.ranked_ready.map((_, i) => "ranked_ready." + i + ".expansion_arr_100"),
    ...data.right_size_candidates.map((_, i) => "right_size_candidates." + i + ".arr_at_stake"),
  ];
  assert(data.ranked_ready.length > 0 && data.right_size_candidates.length > 0, "the demo segment has ranked and right-size rows");
  compareFigures(await figuresIn(frame), data, required);
  const rows = () => frame.evaluate(() => Array.from(document.querySelectorAll("table.accounts tbody tr")).map((tr) => tr.dataset.account));
  eq(await rows(), data.accounts.map((a) => a.name), "account rows in the server's order");
  const utilCells = await frame.evaluate(() => Array.from(document.querySelectorAll('table.accounts tbody td[data-col="utilisation_pct"]')).map((td) => td.textContent));
  eq(utilCells.map((t) => Number(t.replace("%", ""))), data.accounts.map((a) => a.utilisation_pct), "utilisation column");
  await frame.click('button[data-sort="utilisation_pct"]');
  const byUtil = [...data.accounts].sort((a, b) => b.utilisation_pct - a.utilisation_pct || a.name.localeCompare(b.name)).map((a) => a.name);
  eq(await rows(), byUtil, "rows sorted by utilisation, highest first");
  await frame.click('button[data-sort="utilisation_pct"]');
  eq(await rows(), [...data.accounts].sort((a, b) => a.utilisation_pct - b.utilisation_pct || a.name.localeCompare(b.name)).map((a) => a.name), "rows sorted by utilisation, lowest first");
  await frame.click('button[data-sort="name"]');
  await shoot(page, "segment");
  const target = data.accounts.find((a) => a.name === "Northwind");
  await frame.click('table.accounts tbody tr[data-account="Northwind"]');
  await frame.waitForFunction(() => /Ready|Blocked|Not ready/.test((document.getElementById("draft-status") || {}).textContent || ""), null, { timeout: 10000 });
  eq(calls, [{ name: "draft_plan", arguments: { account: target.id, as_of: target.as_of } }], "tools/call sent by the row click");
  const status = await frame.evaluate(() => document.getElementById("draft-status").textContent);
  assert(status.includes("Northwind") && status.includes("Ready"), "the draft's outcome is shown: " + status);
  eq(external, [], "network requests");
  eq(errors, [], "script errors");
  await page.close();
});

await test("segment view, paged answer: the next pages are fetched with the cursor and join the table", async () => {
  const result = await demoServer.call("plan_segment", {});
  const all = result.structuredContent;
  // Pages of 5, cut from the real answer, the way a paged plan_segment answers.
  const page = (from) => {
    const accounts = all.accounts.slice(from, from + 5);
    const next = from + 5 < all.accounts.length ? String(from + 5) : undefined;
    return { ...all, accounts, ...(next ? { next_cursor: next } : {}) };
  };
  const first = page(0);
  delete first.markdown;
  const view = await demoServer.view("plan_segment");
  const h = await host(demoServer, view, {
    arguments: {},
    result: { content: [{ type: "text", text: "page 1" }], structuredContent: first },
    theme: "light",
    ready: "#load-more",
    answer: (p) => ({ content: [{ type: "text", text: "page" }], structuredContent: page(Number(p.arguments.cursor)) }),
  });
  const rows = () => h.frame.evaluate(() => document.querySelectorAll("table.accounts tbody tr").length);
  eq(await rows(), 5, "rows of the first page");
  await h.frame.click("#load-more");
  await h.frame.waitForFunction(() => document.querySelectorAll("table.accounts tbody tr").length === 10);
  await h.frame.click("#load-more");
  await h.frame.waitForFunction(() => document.querySelectorAll("table.accounts tbody tr").length === 12);
  eq(await h.frame.evaluate(() => document.getElementById("load-more")), null, "a button after the last page");
  eq(h.calls.map((c) => c.arguments.cursor), ["5", "10"], "cursors sent");
  eq(h.calls.map((c) => c.name), ["plan_segment", "plan_segment"], "tool called for the pages");
  eq(h.errors, [], "script errors");
  await h.page.close();
});

await test("hostile account names render as text in the views (segment and plan)", async () => {
  const seg = await hostileServer.call("plan_segment", {});
  assert(seg.structuredContent.accounts.some((a) => a.name === hostileName), "the hostile account is in the segment");
  const segView = await hostileServer.view("plan_segment");
  let h = await host(hostileServer, segView, { arguments: {}, result: seg, theme: "light", ready: "table.accounts" });
  await assertNoInjection(h.frame, hostileName);
  eq(h.external, [], "network requests");
  await h.page.close();
  const args = planArgs(hostileServer, { snapshot: hostileSnapshot });
  const plan = await hostileServer.call("draft_plan", args);
  const planView = await hostileServer.view("draft_plan");
  h = await host(hostileServer, planView, { arguments: args, result: plan, theme: "dark", ready: '[data-k="account"]' });
  await assertNoInjection(h.frame, HOSTILE + " Northwind");
  eq(await h.frame.evaluate(() => document.querySelector('[data-k="account"]').textContent), HOSTILE + " Northwind", "account name");
  eq(h.external, [], "network requests");
  await h.page.close();
});

await test("check_health result: the plan view stops at the gate; the host's theme change is followed", async () => {
  const args = { account: "Bluefin Logistics" };
  const result = await demoServer.call("check_health", args);
  const data = result.structuredContent;
  const view = await demoServer.view("check_health");
  const h = await host(demoServer, view, { arguments: args, result, theme: "light", ready: '[data-k="health.unhealthy_path.reassess_on"]' });
  const figures = await figuresIn(h.frame);
  // The view draws a HealthResult under `health`: compare against that shape.
  compareFigures(figures, { health: data, account: data.account }, ["health.utilisation_pct", "health.score", "health.unhealthy_path.reassess_on"]);
  eq(await outcomeShown(h.frame), "blocked", "outcome shown for a failed gate");
  await assertTheme(h.frame, "light", "light");
  await h.bridge.sendHostContextChange({ theme: "dark" });
  await h.frame.waitForFunction(() => document.documentElement.dataset.theme === "dark");
  await assertTheme(h.frame, "dark", "dark");
  eq(h.errors, [], "script errors");
  await h.page.close();
});

await test("a summary draft_plan answer: the view asks the host for detail full and draws it", async () => {
  const args = { account: "Northwind" };
  const full = (await demoServer.call("draft_plan", planArgs(demoServer, args))).structuredContent;
  // The summary as the contract describes it: outcome, verdict, headline figures, markdown.
  const summary = { outcome: full.outcome, account: full.account, as_of: full.as_of, verdict: "Ready: propose in December", utilisation_pct: full.health.utilisation_pct, markdown: "" };
  const hasDetail = !!(demoServer.tool("draft_plan").inputSchema.properties || {}).detail;
  const view = await demoServer.view("draft_plan");
  const h = await host(demoServer, view, {
    arguments: args,
    result: { content: [{ type: "text", text: "summary" }], structuredContent: summary },
    theme: "light",
    ready: '[data-k="opportunity.scenarios.0.expansion_arr"]',
    // A server without the detail switch always answers in full.
    forward: (p) => (hasDetail ? p : { ...p, arguments: Object.fromEntries(Object.entries(p.arguments).filter(([k]) => k !== "detail")) }),
  });
  eq(h.calls, [{ name: "draft_plan", arguments: { account: "Northwind", detail: "full" } }], "tools/call for the full plan");
  compareFigures(await figuresIn(h.frame), full, ["health.utilisation_pct", "opportunity.estimated_expansion_arr"]);
  eq(h.errors, [], "script errors");
  await h.page.close();
});

await test("a result with fields and outcomes the view does not know is still drawn", async () => {
  const args = planArgs(demoServer, { account: "Northwind" });
  const result = await demoServer.call("draft_plan", args);
  const data = { ...result.structuredContent, outcome: "under_review", new_section: { note: "added by a newer server" } };
  const view = await demoServer.view("draft_plan");
  const h = await host(demoServer, view, { arguments: args, result: { ...result, structuredContent: data }, theme: "light", ready: '[data-k="outcome"]' });
  const text = await h.frame.evaluate(() => document.getElementById("app").textContent);
  assert(text.includes("under review") && text.includes("added by a newer server"), "unknown outcome or field not shown");
  eq(h.errors, [], "script errors");
  await h.page.close();
});

function writeFile(args, name) {
  const out = execFileSync(bin, args, { maxBuffer: 64 * 1024 * 1024 });
  const file = path.join(outDir, name + ".html");
  writeFileSync(file, out);
  return { file, html: out.toString("utf8") };
}

async function openFile(file, theme, ready) {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 }, colorScheme: theme });
  const external = [];
  page.on("request", (r) => {
    if (!r.url().startsWith("file:")) external.push(r.url());
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector(ready, { timeout: 10000 });
  return { page, frame: page.mainFrame(), external, errors };
}

await test("plan --format html: one offline file, data embedded and escaped", async () => {
  const { file, html } = writeFile(["plan", path.join(work, "hostile-snapshot.json"), "--format", "html"], "plan-file");
  assert(!html.includes(HOSTILE), "the hostile name appears unescaped in the file");
  const json = JSON.parse(execFileSync(bin, ["plan", path.join(work, "hostile-snapshot.json"), "--format", "json"]).toString());
  const h = await openFile(file, "light", '[data-k="account"]');
  await assertNoInjection(h.frame, HOSTILE + " Northwind");
  compareFigures(await figuresIn(h.frame), json, ["account", "health.utilisation_pct", "opportunity.estimated_expansion_arr"]);
  eq(h.external, [], "network requests");
  eq(h.errors, [], "script errors");
  await h.page.close();
});

await test("plan --demo --format html: every plan of the portfolio in one file", async () => {
  const { file } = writeFile(["plan", "--demo", "--format", "html"], "plan-demo-file");
  const plans = JSON.parse(execFileSync(bin, ["plan", "--demo", "--format", "json"], { maxBuffer: 64 * 1024 * 1024 }).toString());
  const h = await openFile(file, "light", "article.plan");
  const shown = await h.frame.evaluate(() => Array.from(document.querySelectorAll("article.plan")).map((a) => [a.querySelector('[data-k="account"]').textContent, a.dataset.outcome]));
  eq(shown, plans.map((p) => [p.account, p.outcome]), "plans in the file");
  eq(h.errors, [], "script errors");
  await h.page.close();
});

await test("scan --format html: the segment file, hostile names as text, rows not clickable", async () => {
  const { file, html } = writeFile(["scan", "--db", hostileDb, "--format", "html"], "scan-file");
  assert(!html.includes(HOSTILE), "the hostile name appears unescaped in the file");
  const json = JSON.parse(execFileSync(bin, ["scan", "--db", hostileDb, "--format", "json"]).toString());
  const h = await openFile(file, "dark", "table.accounts");
  await assertNoInjection(h.frame, hostileName);
  compareFigures(await figuresIn(h.frame), json, ["total_accounts", ...Object.keys(json.distribution).map((k) => "distribution." + k)]);
  eq(await h.frame.evaluate(() => document.querySelectorAll("tr.clickable").length), 0, "clickable rows in a file");
  // No host here: the file follows the browser's colour scheme.
  await assertTheme(h.frame, null, "dark");
  eq(h.external, [], "network requests");
  eq(h.errors, [], "script errors");
  await h.page.close();
});

await test("the SDK's host side had nothing to warn about", async () => {
  eq(sdkWarnings, [], "AppBridge warnings");
});

await browser.close();
demoServer.stop();
hostileServer.stop();
console.log(passed + " passed, " + failures.length + " failed");
process.exit(failures.length === 0 ? 0 : 1);
