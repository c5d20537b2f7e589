#!/usr/bin/env python3
"""End-to-end test of `expansion-planner serve` over stdio, driven by the official
Python MCP SDK (the PyPI package `mcp`, pinned in requirements.txt).

Every test spawns its own server process (so one failure cannot poison the next),
runs the `initialize` handshake and then talks MCP to it exactly as a client would.

    python tests/e2e/test_stdio.py                 # all tests
    python tests/e2e/test_stdio.py blocked prompt  # tests whose name contains a word

Environment:
    EXPANSION_PLANNER_BIN  the server binary (default: target/debug/expansion-planner)
    E2E_TEST_TIMEOUT       seconds allowed per test, server start and stop included (default 60)

Prints one line per test and, last, `N passed, M failed`; exits 1 on any failure.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jsonschema
import mcp.types as types
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.path.abspath(os.environ.get("EXPANSION_PLANNER_BIN") or REPO / "target" / "debug" / "expansion-planner"))
TIMEOUT = float(os.environ.get("E2E_TEST_TIMEOUT") or 60)

TOOLS = {
    "check_health",
    "find_signals",
    "quantify_opportunity",
    "frame_enablement",
    "check_framing",
    "plan_timing",
    "design_approach",
    "assess_risks",
    "define_success_criteria",
    "draft_plan",
}
# The account-store tools; only these and draft_plan (which saves plan history) write.
STORE_TOOLS = {
    "list_accounts",
    "get_account",
    "plan_segment",
    "plan_history",
    "due_reassessments",
    "import_accounts",
}
WRITES = {"draft_plan", "import_accounts"}
STEP_TOOLS = sorted(TOOLS - {"check_framing"})
PROMPTS = {"expansion-plan", "health-check"}

READY = "Northwind"
# An inline account that fails the health gate: 12 of 45 seats active (26.7%), score 55.
OVERSOLD: dict[str, Any] = {
    "name": "Oversold Ltd",
    "as_of": "2026-11-15",
    "contract": {"arr": 54000, "licensed_seats": 45},
    "usage": {"active_users": 12},
    "health": {
        "score": 55,
        "goals": [{"goal": "Automate reporting", "status": "on_track"}],
        "relationship": {"responsive": True, "engaged": True, "sponsor": "Lee"},
    },
}


class Failure(AssertionError):
    pass


def check(cond: object, msg: str) -> None:
    if not cond:
        raise Failure(msg)


def short(value: Any, limit: int = 300) -> str:
    s = value if isinstance(value, str) else json.dumps(value, default=str)
    return s if len(s) <= limit else s[:limit] + "..."


# --- the connection --------------------------------------------------------------------


@asynccontextmanager
async def connect(errlog: Any, mode: str = "legacy"):
    """Spawns the server with the SDK's stdio transport (server stderr to `errlog`) and runs
    the initialize handshake: mode="legacy" makes the SDK send `initialize` rather than
    probe `server/discover` first (mode="auto", the SDK's default, probes)."""
    params = StdioServerParameters(
        command=str(BIN),
        # The embedded demo portfolio, in memory: writes nothing, so import_accounts may read
        # the committed sample exports.
        args=["serve", "--demo", "--import-dir", str(REPO / "tests" / "data" / "import")],
        cwd=str(REPO),
        env={"RUST_LOG": os.environ.get("RUST_LOG", "info"), "NO_COLOR": "1"},
    )
    transport = stdio_client(params, errlog=errlog)
    client_info = types.Implementation(name="expansion-planner-e2e", version="1")
    async with Client(transport, mode=mode, read_timeout_seconds=TIMEOUT, client_info=client_info) as client:
        yield client


class Session:
    """A connected client plus the tool list it advertised, for schema checks."""

    def __init__(self, client: Client, errlog: Any):
        self.client = client
        self.errlog = errlog
        self.tools: dict[str, types.Tool] = {}

    async def load_tools(self) -> dict[str, types.Tool]:
        if not self.tools:
            listed = await self.client.list_tools()
            self.tools = {t.name: t for t in listed.tools}
        return self.tools

    async def call(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Calls a tool that must succeed; checks its structuredContent against its outputSchema."""
        tools = await self.load_tools()
        result = await self.client.call_tool(name, arguments)
        check(not result.is_error, f"{name}({short(arguments, 120)}) failed: {short(text_of(result))}")
        check(isinstance(result.structured_content, dict), f"{name}: no structuredContent")
        check(name in tools, f"{name} was not listed by tools/list")
        validate(name, tools[name].output_schema, result.structured_content)
        return result


def validate(name: str, schema: dict[str, Any] | None, instance: Any) -> None:
    check(isinstance(schema, dict), f"{name}: no outputSchema advertised")
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    errors = sorted(cls(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]]
        raise Failure(f"{name}: structuredContent does not match outputSchema:\n    " + "\n    ".join(lines))


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


# --- the tests -------------------------------------------------------------------------


async def test_initialize(s: Session) -> None:
    init = s.client.session.initialize_result
    check(init is not None, "no initialize result")
    check(init.server_info.name == "expansion-planner", f"server name {init.server_info.name!r}")
    caps = init.capabilities
    for cap in ("tools", "prompts", "resources", "completions"):
        check(getattr(caps, cap) is not None, f"capability {cap} not advertised: {caps}")
    check(init.instructions and "check_health" in init.instructions, "instructions missing or do not name check_health")


async def test_list_tools(s: Session) -> None:
    tools = await s.load_tools()
    want = TOOLS | STORE_TOOLS
    check(set(tools) == want, f"tools: missing {sorted(want - set(tools))}, unexpected {sorted(set(tools) - want)}")
    for name, tool in tools.items():
        schema = tool.output_schema
        check(isinstance(schema, dict) and schema.get("type") == "object", f"{name}: outputSchema {short(schema, 80)}")
        jsonschema.validators.validator_for(schema).check_schema(schema)
        check(tool.input_schema.get("type") == "object", f"{name}: inputSchema is not an object schema")
        check(tool.annotations is not None, f"{name}: no annotations")
        check(tool.annotations.read_only_hint is (name not in WRITES), f"{name}: readOnlyHint is {tool.annotations.read_only_hint!r}")
        check(tool.annotations.destructive_hint is False, f"{name}: destructiveHint is {tool.annotations.destructive_hint!r}")
        check(tool.description, f"{name}: no description")


async def test_list_prompts(s: Session) -> None:
    listed = await s.client.list_prompts()
    prompts = {p.name: p for p in listed.prompts}
    check(set(prompts) == PROMPTS, f"prompts: {sorted(prompts)}")
    for name, prompt in prompts.items():
        args = {a.name: a for a in prompt.arguments or []}
        check("customer" in args, f"{name}: no `customer` argument")
        check(args["customer"].required is True, f"{name}: `customer` is not required")
        if "as_of" in args:
            check(not args["as_of"].required, f"{name}: `as_of` should be optional")


async def test_draft_plan_ready(s: Session) -> None:
    result = await s.call("draft_plan", {"account": READY})
    sc = result.structured_content
    check(sc["outcome"] == "ready", f"outcome {sc['outcome']!r}, expected 'ready'")
    check(sc["account"] == READY, f"account {sc['account']!r}")
    check(len(sc["headline"]["scenarios"]) >= 2, "a ready plan's headline has no scenarios")
    check("opportunity" not in sc, "the default summary repeats the step results")
    full = (await s.call("draft_plan", {"account": READY, "detail": "full"})).structured_content
    check(isinstance(full.get("opportunity"), dict), "a full ready plan has no opportunity")
    text = text_of(result)
    for heading in (f"# Expansion Plan: {READY}", "## Opportunity"):
        check(heading in text, f"markdown lacks {heading!r}: {short(text, 200)}")
    check(text == sc["markdown"], "the text content differs from structuredContent.markdown")


async def test_draft_plan_blocked(s: Session) -> None:
    result = await s.call("draft_plan", {"snapshot": OVERSOLD, "detail": "full"})
    sc = result.structured_content
    check(sc["outcome"] == "blocked", f"outcome {sc['outcome']!r}, expected 'blocked'")
    check("opportunity" not in sc, f"a blocked plan carries an opportunity: {short(sc.get('opportunity'))}")
    health = sc["health"]
    check(health["utilisation_pct"] == 26.7, f"utilisation_pct {health['utilisation_pct']!r}, expected 26.7")
    check(health["clear_to_expand"] is False, "clear_to_expand is not false")
    path = health.get("unhealthy_path") or {}
    seats = [t for t in path.get("recovery_targets", []) if "target_active_users" in t]
    check(len(seats) == 1, f"expected one seat recovery target, got {short(path.get('recovery_targets'))}")
    check(seats[0]["target_active_users"] == 27, f"target_active_users {seats[0]['target_active_users']!r}, expected 27")
    right_size = path.get("right_size") or {}
    check(right_size.get("unused_seats") == 33, f"right_size.unused_seats {right_size.get('unused_seats')!r}, expected 33")
    text = text_of(result)
    check("# Expansion Plan: Oversold Ltd" in text, f"markdown heading missing: {short(text, 120)}")
    check("## Opportunity" not in text, "a blocked plan's markdown has an Opportunity section")


async def test_every_tool_matches_its_output_schema(s: Session) -> None:
    for who in ({"account": READY}, {"snapshot": OVERSOLD}):
        outcomes = set()
        for name in STEP_TOOLS:
            result = await s.call(name, who)
            outcomes.add(result.structured_content.get("outcome", result.structured_content.get("clear_to_expand")))
        blocked = "snapshot" in who
        step_outcomes = outcomes - {True, False}
        check(step_outcomes == ({"blocked"} if blocked else {"ready"}), f"{short(who, 40)}: outcomes {outcomes}")
        framed = await s.call("check_framing", {**who, "draft": "Would you like to upgrade? Can we add 10 more seats?"})
        fc = framed.structured_content
        check(fc["ok"] is False and fc["findings"], f"check_framing found no sales phrasing: {short(fc)}")
        check(fc["outcome"] == ("blocked" if blocked else "ready"), f"check_framing outcome {fc['outcome']!r}")


async def test_every_store_tool_and_paging(s: Session) -> None:
    names: list[str] = []
    cursor = None
    for _ in range(20):
        args: dict[str, Any] = {"limit": 5}
        if cursor:
            args["cursor"] = cursor
        page = (await s.call("plan_segment", args)).structured_content
        check(page["total_accounts"] == 12, f"plan_segment total_accounts {page['total_accounts']!r}")
        names += [a["name"] for a in page["accounts"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    check(len(names) == 12 and len(set(names)) == 12, f"plan_segment paged {names}")
    listed = (await s.call("list_accounts", {"limit": 5})).structured_content
    check(listed["total"] == 12 and len(listed["accounts"]) == 5 and listed.get("next_cursor"), f"list_accounts {short(listed)}")
    rest = (await s.call("list_accounts", {"limit": 10, "cursor": listed["next_cursor"]})).structured_content
    check(len(rest["accounts"]) == 7 and "next_cursor" not in rest, f"list_accounts second page {short(rest)}")
    got = (await s.call("get_account", {"account": READY})).structured_content
    check(got["snapshot"]["name"] == READY, f"get_account {short(got)}")
    await s.call("plan_history", {"account": READY})
    await s.call("due_reassessments", {"as_of": "2027-06-01"})
    report = (await s.call("import_accounts", {"file": "portfolio.jsonl", "dry_run": True})).structured_content
    check(report["written"] is False, f"import_accounts dry run wrote: {short(report)}")


async def test_malformed_argument_then_recovers(s: Session) -> None:
    bad = copy.deepcopy(OVERSOLD)
    bad["contract"]["licensed_seats"] = "45"
    result = await s.client.call_tool("draft_plan", {"snapshot": bad})
    check(result.is_error is True, f"isError is {result.is_error!r} for licensed_seats as a string")
    text = text_of(result)
    check("licensed_seats" in text, f"error text does not name licensed_seats: {short(text)}")
    # An unknown field is an input error too, not a crash.
    result = await s.client.call_tool("check_health", {"account": READY, "acount": "typo"})
    check(result.is_error is True, f"isError is {result.is_error!r} for an unknown argument")
    # The server is still up and answers the next call normally.
    after = await s.call("draft_plan", {"account": READY})
    check(after.structured_content["outcome"] == "ready", "the call after the error did not succeed")


async def test_expansion_plan_prompt(s: Session) -> None:
    prompt = await s.client.get_prompt("expansion-plan", {"customer": READY})
    check(prompt.messages, "the prompt has no messages")
    content = prompt.messages[0].content
    check(isinstance(content, types.TextContent), f"first message is {type(content).__name__}, not text")
    text = content.text
    check(f"Expansion Plan: {READY}" in text, f"prompt lacks 'Expansion Plan: {READY}': {short(text, 200)}")
    plan = (await s.call("draft_plan", {"account": READY})).structured_content
    pct = f"{plan['headline']['utilisation_pct']:.1f}%"
    check(pct in text, f"prompt lacks the seat utilisation figure {pct}")
    check(plan["markdown"] in text, "prompt does not carry the plan markdown exactly as draft_plan returns it")


async def test_complete_customer(s: Session) -> None:
    ref = types.PromptReference(name="expansion-plan")
    result = await s.client.complete(ref, {"name": "customer", "value": "Nor"})
    values = result.completion.values
    check(READY in values, f"completion values {values}")
    check(values[0] == READY, f"prefix match should come first: {values}")


async def test_read_policy(s: Session) -> None:
    result = await s.client.read_resource("expansion://policy")
    check(len(result.contents) == 1, f"{len(result.contents)} contents")
    content = result.contents[0]
    check(isinstance(content, types.TextResourceContents), f"contents are {type(content).__name__}")
    check(content.mime_type == "application/json", f"mimeType {content.mime_type!r}")
    policy = json.loads(content.text)
    check(isinstance(policy, dict) and policy, "policy is not a JSON object")
    check(isinstance(policy.get("utilisation_gate_pct"), (int, float)), "policy has no utilisation_gate_pct")


async def test_sdk_default_negotiation(s: Session) -> None:
    """A client on the SDK's default mode="auto" (what most 2.x clients use) probes
    `server/discover` and falls back to `initialize` if it must; either way the tools work."""
    async with connect(s.errlog, mode="auto") as client:
        check(client.protocol_version, "no protocol version negotiated")
        result = await Session(client, s.errlog).call("draft_plan", {"account": READY})
        check(result.structured_content["outcome"] == "ready", "draft_plan on the auto-negotiated session")


TESTS: list[Callable[[Session], Awaitable[None]]] = [
    test_initialize,
    test_list_tools,
    test_list_prompts,
    test_draft_plan_ready,
    test_draft_plan_blocked,
    test_every_tool_matches_its_output_schema,
    test_every_store_tool_and_paging,
    test_malformed_argument_then_recovers,
    test_expansion_plan_prompt,
    test_complete_customer,
    test_read_policy,
    test_sdk_default_negotiation,
]


# --- the runner ------------------------------------------------------------------------


async def run_one(test: Callable[[Session], Awaitable[None]], errlog: Any) -> None:
    async with connect(errlog) as client:
        await test(Session(client, errlog))


def root_cause(e: BaseException) -> BaseException:
    """The first leaf of an exception group: anyio task groups wrap what a test raised."""
    while isinstance(getattr(e, "exceptions", None), tuple) and e.exceptions:
        e = e.exceptions[0]
    return e


def log_tail(log: Any, lines: int = 15) -> str:
    try:
        log.flush()
        log.seek(0)
        tail = log.read().splitlines()[-lines:]
    except (OSError, ValueError):
        return ""
    return "\n".join("    | " + line for line in tail)


def main(argv: list[str]) -> int:
    if not BIN.is_file() or not os.access(BIN, os.X_OK):
        print(f"error: no server binary at {BIN}: run `cargo build` or set EXPANSION_PLANNER_BIN", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    selected = [t for t in TESTS if not argv or any(a in t.__name__ for a in argv)]
    if not selected:
        print(f"error: no test name contains any of {argv}", file=sys.stderr)
    passed = failed = 0
    for test in selected:
        name = test.__name__.removeprefix("test_")
        started = time.monotonic()
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as log:
            try:
                asyncio.run(asyncio.wait_for(run_one(test, log), TIMEOUT))
            except BaseException as raised:  # noqa: BLE001 - a test's failure of any kind is reported, not raised
                if isinstance(raised, KeyboardInterrupt):
                    raise
                e = root_cause(raised)
                failed += 1
                took = time.monotonic() - started
                if isinstance(e, (asyncio.TimeoutError, TimeoutError)):
                    why = f"timed out after {TIMEOUT:g}s"
                elif isinstance(e, Failure):
                    why = str(e)
                else:
                    why = "".join(traceback.format_exception_only(type(e), e)).strip()
                    if os.environ.get("E2E_TRACEBACK"):
                        why += "\n" + "".join(traceback.format_exception(raised))
                print(f"FAIL {name} ({took:.2f}s): {why}", flush=True)
                tail = log_tail(log)
                if tail:
                    print(f"    server stderr (last lines):\n{tail}", flush=True)
            else:
                passed += 1
                print(f"ok   {name} ({time.monotonic() - started:.2f}s)", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed or not selected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
