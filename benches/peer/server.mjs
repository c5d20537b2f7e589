// The peer scripts/bench compares our stdio round trip against: `check_health` on the
// official TypeScript MCP SDK (McpServer over StdioServerTransport, the input checked by a
// zod schema as a TypeScript server declares it), answering the result our server gave for
// the same call (CHECK_HEALTH_RESULT, a JSON file), so both write answers of the same size.
// The peer computes nothing: what is compared is the SDK's per-call machinery against ours
// plus our whole tool (store read, health gate, markdown).
import { readFileSync } from "node:fs";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const result = JSON.parse(readFileSync(process.env.CHECK_HEALTH_RESULT, "utf8"));
const server = new McpServer({ name: "check-health-peer", version: "1.0.0" });
server.registerTool(
  "check_health",
  {
    description: "The health gate of one account (a canned answer of our server's size).",
    inputSchema: { account: z.string() },
  },
  async () => result,
);
await server.connect(new StdioServerTransport());
