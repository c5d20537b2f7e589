//! The tools over the account store. What they answer is computed by [`crate::listing`]
//! (paging, rendering, import reports) through [`crate::answers`]; this module only names
//! and describes them.

use super::schemas::{input, output};
use super::tools::ToolDef;
use crate::answers;
use crate::listing::{
    AccountArgs, DueArgs, HistoryPage, ImportArgs, ListArgs, SegmentArgs, SegmentPage,
};
use crate::model::portfolio::{AccountList, DueList, ImportReport, StoredAccount};

pub const LIST_ACCOUNTS: ToolDef = ToolDef {
    name: "list_accounts",
    title: "List stored accounts",
    description: "Lists stored accounts (optionally one segment, one CSM's book or one outcome) with outcome, status, utilisation, score and top reason. Call it to find what `account` to pass to a step tool. Pages: `limit` and `cursor` in, `next_cursor` out; `total` counts every match.",
    input: input::<ListArgs>,
    output: output::<AccountList>,
    run: answers::list_accounts,
    reads_account: false,
    read_only: true,
};

pub const GET_ACCOUNT: ToolDef = ToolDef {
    name: "get_account",
    title: "Read a stored account",
    description: "A stored account's whole snapshot (contract, usage, health, signals, events, offer) and its latest saved plan, by name or id. An unknown name is an error listing the closest matches.",
    input: input::<AccountArgs>,
    output: output::<StoredAccount>,
    run: answers::get_account,
    reads_account: false,
    read_only: true,
};

pub const PLAN_SEGMENT: ToolDef = ToolDef {
    name: "plan_segment",
    title: "Plan a whole segment",
    description: "The expansion view of a segment, a CSM's book (`csm`) or every stored account: counts by outcome and status, the ready accounts ranked by expected expansion ARR, right-size candidates, reassessments due, the most common failing gate check, and a row per account. Pages: `limit` and `cursor` in, `next_cursor` out, the summary on every page. Present the markdown as it is; for one account's plan call draft_plan.",
    input: input::<SegmentArgs>,
    output: output::<SegmentPage>,
    run: answers::plan_segment,
    reads_account: false,
    read_only: true,
};

pub const PLAN_HISTORY: ToolDef = ToolDef {
    name: "plan_history",
    title: "Plan history of an account",
    description: "Every plan draft_plan saved for a stored account, oldest first, and how it moved between them (e.g. `utilisation 26.7% -> 64.0%; outcome blocked -> ready`). `include_markdown: true` adds each plan's text.",
    input: input::<AccountArgs>,
    output: output::<HistoryPage>,
    run: answers::plan_history,
    reads_account: false,
    read_only: true,
};

pub const DUE_REASSESSMENTS: ToolDef = ToolDef {
    name: "due_reassessments",
    title: "Reassessments due",
    description: "Stored accounts whose latest saved plan set a reassessment date on or before `as_of` (default today): blocked accounts to check again. Optionally one segment or CSM's book. Pages like list_accounts. Follow up with draft_plan for each.",
    input: input::<DueArgs>,
    output: output::<DueList>,
    run: answers::due_reassessments,
    reads_account: false,
    read_only: true,
};

pub const IMPORT_ACCOUNTS: ToolDef = ToolDef {
    name: "import_accounts",
    title: "Import an account export",
    description: "Imports a CRM or CS-platform export into the store: JSON (a snapshot or an array), JSONL, or CSV (one row per account with columns named by snapshot path such as `contract.arr`, or long format with an `account` column); `map` names a TOML column mapping. Upserts by id, else name. All or nothing: any bad row imports nothing and is reported with line, column and reason; `dry_run` only reports. Reads only under the server's --import-dir directories.",
    input: input::<ImportArgs>,
    output: output::<ImportReport>,
    run: answers::import_accounts,
    reads_account: false,
    read_only: false,
};
