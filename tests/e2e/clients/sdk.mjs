// The official TypeScript MCP SDK client (@modelcontextprotocol/sdk) drives every tool of
// the built server over stdio. The SDK validates each structuredContent against the tool's
// outputSchema itself (callTool throws when it does not match); on top of that every
// inputSchema and outputSchema is compiled by Ajv in strict mode, which refuses unknown
// formats and keywords, and the arguments sent are validated against the inputSchema.
// Any console warning fails the run. Run by scripts/clients.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const warnings = [];
for (const level of ["warn", "error"]) {
  const orig = console[level];
  console[level] = (...args) => {
    warnings.push(`console.${level}: ${args.join(" ")}`);
    orig(...args);
  };
}
const failures = [];
const check = (ok, msg) => {
  if (!ok) failures.push(msg);
};

const bin = process.env.EXPANSION_PLANNER_BIN;
if (!bin) throw new Error("EXPANSION_PLANNER_BIN is not set");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ep-sdk-"));
const OVERSOLD = {
  name: "Oversold Ltd",
  as_of: "2026-11-15",
  account_executive: "Dana",
  contract: { arr: 54000, licensed_seats: 45 },
  usage: { active_users: 12 },
  health: {
    score: 55,
    goals: [{ goal: "Automate reporting", status: "on_track" }],
    relationship: { responsive: true, engaged: true, sponsor: "Lee" },
  },
};
fs.writeFileSync(path.join(dir, "oversold.json"), JSON.stringify(OVERSOLD));

const transport = new StdioClientTransport({
  command: bin,
  args: ["serve", "--demo", "--import-dir", dir],
  env: { ...process.env, RUST_LOG: "warn" },
  stderr: "inherit",
});
const client = new Client({ name: "expansion-planner-e2e-ts", version: "1.0.0" });
await client.connect(transport);

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
const { tools } = await client.listTools();
const inputs = {};
for (const t of tools) {
  try {
    inputs[t.name] = ajv.compile(t.inputSchema);
  } catch (e) {
    failures.push(`${t.name}: inputSchema does not compile in strict mode: ${e.message}`);
  }
  try {
    ajv.compile(t.outputSchema);
  } catch (e) {
    failures.push(`${t.name}: outputSchema does not compile in strict mode: ${e.message}`);
  }
}

const ready = "Northwind";
const steps = [
  "check_health", "find_signals", "quantify_opportunity", "frame_enablement", "plan_timing",
  "design_approach", "assess_risks", "define_success_criteria", "draft_plan",
];
const calls = [];
for (const s of steps) {
  calls.push([s, { account: ready }]);
  calls.push([s, { snapshot: OVERSOLD, as_of: "2026-11-15" }]);
}
calls.push(["draft_plan", { account: ready, detail: "full" }]);
calls.push(["check_framing", { draft: "Would you like to upgrade to Pro?", account: ready }]);
calls.push(["check_framing", { draft: "Can we add 10 more seats?", snapshot: OVERSOLD }]);
calls.push(["list_accounts", { limit: 5 }]);
calls.push(["get_account", { account: ready }]);
calls.push(["plan_segment", { limit: 5 }]);
calls.push(["plan_history", { account: ready }]);
calls.push(["due_reassessments", { as_of: "2027-06-01" }]);
calls.push(["import_accounts", { file: "oversold.json", dry_run: true }]);

const called = new Set();
for (const [name, args] of calls) {
  const validate = inputs[name];
  if (validate && !validate(args)) {
    failures.push(`${name}: arguments ${JSON.stringify(args)} fail its inputSchema: ${ajv.errorsText(validate.errors)}`);
  }
  let r;
  try {
    r = await client.callTool({ name, arguments: args });
  } catch (e) {
    failures.push(`${name} ${JSON.stringify(args)}: ${e.message}`);
    continue;
  }
  called.add(name);
  check(r.isError !== true, `${name}: isError: ${JSON.stringify(r.content).slice(0, 300)}`);
  check(r.structuredContent && typeof r.structuredContent === "object", `${name}: no structuredContent`);
  const text = (r.content || []).filter((c) => c.type === "text").map((c) => c.text).join("\n");
  check(text.trim().length > 0, `${name}: no text content`);
}

// plan_segment pages to the end with next_cursor, every demo account once.
const seen = [];
let cursor;
for (let i = 0; i < 20; i++) {
  const r = await client.callTool({ name: "plan_segment", arguments: cursor ? { limit: 5, cursor } : { limit: 5 } });
  for (const a of r.structuredContent.accounts) seen.push(a.name);
  cursor = r.structuredContent.next_cursor;
  if (!cursor) break;
}
check(seen.length === 12 && new Set(seen).size === 12, `plan_segment paged ${seen.length} rows: ${seen}`);

const missing = tools.map((t) => t.name).filter((n) => !called.has(n));
check(missing.length === 0, `tools never called: ${missing}`);
await client.close();
fs.rmSync(dir, { recursive: true, force: true });

for (const w of warnings) failures.push(w);
if (failures.length) {
  console.log(`TypeScript SDK client: ${failures.length} failure(s):\n  ` + failures.join("\n  "));
  process.exit(1);
}
console.log(`TypeScript SDK client: ${tools.length} tools listed, ${calls.length + 1} calls, every tool called, no warnings`);
