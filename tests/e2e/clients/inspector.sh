#!/usr/bin/env bash
# The MCP Inspector CLI (pinned in package.json) drives every tool of the built server over
# stdio, launched from the README's first registration (mcp.json, with the built binary
# first on PATH), including calls that pass a whole snapshot. Fails on a failed call, a
# tool error, a missing structuredContent, or any warning the Inspector prints.
# Run by scripts/clients, which sets INSPECTOR and EXPANSION_PLANNER_BIN.
set -euo pipefail
: "${INSPECTOR:?}" "${EXPANSION_PLANNER_BIN:?}"
bin_dir=$(cd "$(dirname "$EXPANSION_PLANNER_BIN")" && pwd)
export PATH="$bin_dir:$PATH" MCP_INSPECTOR_SECRET_STORE=memory
server=$(python3 -c 'import json; print(next(iter(json.load(open("mcp.json"))["mcpServers"])))')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
SNAPSHOT='{"name":"Oversold Ltd","as_of":"2026-11-15","contract":{"arr":54000,"licensed_seats":45},"usage":{"active_users":12},"health":{"score":55,"goals":[{"goal":"Automate reporting","status":"on_track"}],"relationship":{"responsive":true,"engaged":true,"sponsor":"Lee"}}}'
echo "$SNAPSHOT" >"$work/oversold.json"

failures=0
calls=0
# inspect LABEL EXPECT -- inspector arguments...: runs one Inspector call; EXPECT is a
# Python expression over `r` (the JSON answer) that must hold.
inspect() {
  local label=$1 expect=$2
  shift 3
  calls=$((calls + 1))
  local out="$work/out.json" err="$work/err.txt"
  if ! "$INSPECTOR" --cli "$@" >"$out" 2>"$err"; then
    echo "FAIL $label: the Inspector exited non-zero" >&2
    cat "$err" "$out" >&2
    failures=$((failures + 1))
    return
  fi
  # The secret-store notice is the Inspector's own; anything else that warns is ours.
  if grep -iv 'secret\|keychain\|mcp_inspector_secret_store' "$err" | grep -iq 'warn'; then
    echo "FAIL $label: the Inspector warned:" >&2
    grep -i 'warn' "$err" | head -5 >&2
    failures=$((failures + 1))
    return
  fi
  if ! python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if ($expect) else 1)" "$out"; then
    echo "FAIL $label: expected $expect, got: $(head -c 400 "$out")" >&2
    failures=$((failures + 1))
    return
  fi
  echo "ok   $label"
}

reg=(--config mcp.json --server "$server")
ok='r.get("isError") is not True and isinstance(r.get("structuredContent"), dict) and r["content"][0]["text"].strip()'

inspect "tools/list" 'len(r["tools"]) == 16' -- --strict "${reg[@]}" --method tools/list
for tool in check_health find_signals quantify_opportunity frame_enablement plan_timing \
            design_approach assess_risks define_success_criteria draft_plan; do
  inspect "$tool account=Northwind" "$ok" -- "${reg[@]}" --method tools/call --tool-name "$tool" \
    --tool-arg account=Northwind
done
# A snapshot passed whole, as the Inspector sends a JSON value: the gate fails and says so.
for tool in check_health find_signals draft_plan; do
  inspect "$tool snapshot=<json>" "$ok and (r['structuredContent'].get('outcome') == 'blocked' or r['structuredContent'].get('clear_to_expand') is False)" \
    -- "${reg[@]}" --method tools/call --tool-name "$tool" --tool-arg "snapshot=$SNAPSHOT"
done
inspect "check_framing" "$ok" -- "${reg[@]}" --method tools/call --tool-name check_framing \
  --tool-arg "draft=Would you like to upgrade to Pro?" --tool-arg account=Northwind
inspect "list_accounts" "$ok and r['structuredContent']['total'] == 12 and 'next_cursor' in r['structuredContent']" \
  -- "${reg[@]}" --method tools/call --tool-name list_accounts --tool-arg limit=5
inspect "get_account" "$ok" -- "${reg[@]}" --method tools/call --tool-name get_account --tool-arg account=Northwind
inspect "plan_segment" "$ok and r['structuredContent']['page']['returned'] == 5" \
  -- "${reg[@]}" --method tools/call --tool-name plan_segment --tool-arg limit=5
inspect "plan_history" "$ok" -- "${reg[@]}" --method tools/call --tool-name plan_history --tool-arg account=Northwind
inspect "due_reassessments" "$ok" -- "${reg[@]}" --method tools/call --tool-name due_reassessments \
  --tool-arg as_of=2027-06-01
# import_accounts reads only under an --import-dir, which the registration does not give.
inspect "import_accounts (dry run)" "$ok and r['structuredContent']['written'] is False" \
  -- "$EXPANSION_PLANNER_BIN" serve --demo --import-dir "$work" --method tools/call \
  --tool-name import_accounts --tool-arg file=oversold.json --tool-arg dry_run=true
inspect "prompts/get expansion-plan Northwind" '"# Expansion Plan: Northwind" in r["messages"][0]["content"]["text"]' \
  -- "${reg[@]}" --method prompts/get --prompt-name expansion-plan --prompt-args customer=Northwind

if [ "$failures" -gt 0 ]; then
  echo "MCP Inspector CLI: $failures of $calls calls failed" >&2
  exit 1
fi
echo "MCP Inspector CLI: $calls calls, every tool, no warnings"
