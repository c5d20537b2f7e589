#!/usr/bin/env python3
"""Writes the sample exports under tests/data/import/ from the embedded demo portfolio.

Every format holds the same twelve accounts, so the round-trip tests can check that each
one, imported, plans exactly like the snapshots themselves:
  portfolio.jsonl                        one snapshot a line
  csv/accounts.csv                       one row per account, columns named by snapshot path
  csv/{history,signals,events,goals,churn_signals,features,limits}.csv   long format
  crm/accounts.csv + crm/accounts.map.toml   a CRM export as it comes out ("$108,000",
                                         "04/30/2027", "Yes"), renamed by a mapping file
  crm/usage.csv + crm/usage.map.toml     a CS-platform usage export with US dates

Run from the repository root: python3 scripts/gen-import-samples.py
"""
import csv, json, os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "import")
os.makedirs(OUT, exist_ok=True)
demo = json.load(open(os.path.join(ROOT, "src", "demo", "portfolio.json")))

PATHS = ["id", "name", "segment", "csm", "account_executive", "currency", "as_of",
         "contract.arr", "contract.licensed_seats", "contract.price_per_seat", "contract.plan",
         "contract.renewal_date", "contract.renewal_contentious", "contract.planning_month",
         "usage.active_users", "health.score", "health.components.adoption",
         "health.components.engagement", "health.components.relationship",
         "health.components.value", "health.components.commercial",
         "health.relationship.responsive", "health.relationship.engaged",
         "health.relationship.sponsor", "health.relationship.executive_sponsor_confirmed",
         "health.relationship.champion", "health.relationship_score", "health.value_score",
         "offer.type", "offer.seats", "offer.price_per_seat", "offer.target_plan",
         "offer.target_price_per_seat", "offer.tier_premium_pct", "offer.module",
         "offer.module_price", "offer.module_price_per_seat", "offer.product",
         "offer.product_price", "offer.term_years", "offer.uplift_pct"]

def get(obj, path):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj

def plain(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)

def write(path, header, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)

with open(os.path.join(OUT, "portfolio.jsonl"), "w") as f:
    for a in demo:
        f.write(json.dumps(a, ensure_ascii=False) + "\n")

write(os.path.join(OUT, "csv", "accounts.csv"), PATHS,
      [[plain(get(a, p)) for p in PATHS] for a in demo])

LONG = {
    "history": (lambda a: get(a, "usage.history") or [], ["date", "active_users"]),
    "signals": (lambda a: a.get("signals") or [],
                ["kind", "date", "evidence", "source", "quote", "feature", "tier", "team_size",
                 "users_with_access", "product", "module", "metric"]),
    "events": (lambda a: a.get("events") or [], ["kind", "date", "detail", "open"]),
    "goals": (lambda a: get(a, "health.goals") or [], ["goal", "status"]),
    "churn_signals": (lambda a: get(a, "health.churn_signals") or [],
                      ["kind", "detail", "since", "active"]),
    "features": (lambda a: get(a, "usage.features") or [], ["name", "core", "active_users"]),
    "limits": (lambda a: get(a, "usage.limits") or [], ["metric", "used", "limit", "period"]),
}
for name, (items, cols) in LONG.items():
    rows = []
    for a in demo:
        for it in items(a):
            # Accounts are named by id in some files and by name in others, as exports do.
            ref = a["name"] if name in ("goals", "features") else a["id"]
            rows.append([ref] + [plain(it.get(c)) for c in cols])
    write(os.path.join(OUT, "csv", name + ".csv"), ["account"] + cols, rows)

# The CRM export: its own column names and formats.
CRM = [("Account ID", "id"), ("Account Name", "name"), ("Segment", "segment"),
       ("CS Manager", "csm"), ("Account Owner", "account_executive"), ("Currency", "currency"),
       ("Snapshot Date", "as_of"), ("Annual Recurring Revenue", "contract.arr"),
       ("Licensed Seats", "contract.licensed_seats"), ("Price per Seat", "contract.price_per_seat"),
       ("Edition", "contract.plan"), ("Renewal Date", "contract.renewal_date"),
       ("Renewal At Risk", "contract.renewal_contentious"), ("Budget Month", "contract.planning_month"),
       ("Active Users (30d)", "usage.active_users"), ("Health Score", "health.score"),
       ("Adoption", "health.components.adoption"), ("Engagement", "health.components.engagement"),
       ("Relationship", "health.components.relationship"), ("Value", "health.components.value"),
       ("Commercial", "health.components.commercial"),
       ("Responsive", "health.relationship.responsive"), ("Engaged", "health.relationship.engaged"),
       ("Sponsor", "health.relationship.sponsor"),
       ("Exec Sponsor Confirmed", "health.relationship.executive_sponsor_confirmed"),
       ("Champion", "health.relationship.champion"),
       ("Relationship Score", "health.relationship_score"), ("Value Score", "health.value_score")]
OFFER = [(p, p) for p in PATHS if p.startswith("offer.")]
MONEY = {"contract.arr", "contract.price_per_seat", "offer.price_per_seat",
         "offer.target_price_per_seat", "offer.module_price", "offer.module_price_per_seat",
         "offer.product_price"}
DATES = {"as_of", "contract.renewal_date"}

def crm(v, path):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "Yes" if v else "No"
    if path in MONEY:
        return "${:,.2f}".format(v).replace(".00", "")
    if path in DATES:
        y, m, d = v.split("-")
        return f"{m}/{d}/{y}"
    if isinstance(v, int) and v >= 1000:
        return "{:,}".format(v)
    return str(v)

cols = CRM + OFFER + [("Owner Email", None), ("Last Modified", None)]
rows = []
for a in demo:
    row = [crm(get(a, p), p) if p else "" for _, p in cols]
    row[-2] = a["csm"].lower().replace(" ", ".") + "@example.com"
    row[-1] = "2026-11-14T09:30:00Z"
    rows.append(row)
write(os.path.join(OUT, "crm", "accounts.csv"), [c for c, _ in cols], rows)
with open(os.path.join(OUT, "crm", "accounts.map.toml"), "w") as f:
    f.write('# How this CRM export\'s columns map to snapshot paths.\n')
    f.write('kind = "accounts"\ndate_format = "%m/%d/%Y"\nthousands_separator = ","\n')
    f.write('ignore = ["Owner Email", "Last Modified"]\n\n[columns]\n')
    for c, p in CRM:
        f.write(f'"{c}" = "{p}"\n')

rows = []
for a in demo:
    for h in get(a, "usage.history") or []:
        y, m, d = h["date"].split("-")
        rows.append([a["id"], f"{m}/{d}/{y}", "{:,}".format(h["active_users"])])
write(os.path.join(OUT, "crm", "usage.csv"), ["Account ID", "Day", "Active Users"], rows)
with open(os.path.join(OUT, "crm", "usage.map.toml"), "w") as f:
    f.write('# A CS-platform usage export: one reading per account and day, US dates.\n')
    f.write('kind = "history"\n\n[columns]\n"Account ID" = "account"\n')
    f.write('"Day" = { path = "date", date_format = "%m/%d/%Y" }\n"Active Users" = "active_users"\n')
print("wrote", OUT)

# ---------------------------------------------------------------------------------------
# Vendor exports, one per built-in map (src/store/maps/NAME.toml, also written here), each
# with the vendor's own header row and the way it writes values. Every account-level field
# of the demo portfolio is in each export: under the vendor's standard column where it has
# one, else under a custom property a team must create (the map's comments say which).
# Offers are not CRM data: vendors/offers.csv carries them by snapshot path.
MAPS = os.path.join(ROOT, "src", "store", "maps")
VEND = os.path.join(OUT, "vendors")
os.makedirs(MAPS, exist_ok=True)
os.makedirs(VEND, exist_ok=True)

def money(v, style):
    if v is None:
        return ""
    if style == "plain":
        return ("%.2f" % v).rstrip("0").rstrip(".")
    us = "{:,.2f}".format(v)
    if style == "us":
        return "$" + us
    if style == "usd":
        return "USD " + us
    if style == "eu":
        return us.replace(",", "X").replace(".", ",").replace("X", ".")
    raise ValueError(style)

def count(v, style):
    if v is None:
        return ""
    if style in ("us", "usd"):
        return "{:,}".format(v)
    if style == "eu":
        return "{:,}".format(v).replace(",", ".")
    return str(v)

def num(v, style):
    if v is None:
        return ""
    s = str(int(v)) if float(v).is_integer() else str(v)
    return s.replace(".", ",") if style == "eu" else s

def day(v, fmt):
    if v is None:
        return ""
    y, m, d = v.split("-")
    return fmt.replace("%Y", y).replace("%m", m).replace("%d", d)

TY = {"contract.arr": "money", "contract.price_per_seat": "money",
      "contract.licensed_seats": "int", "contract.planning_month": "int", "usage.active_users": "int",
      "as_of": "date", "contract.renewal_date": "date",
      "contract.renewal_contentious": "bool", "health.relationship.responsive": "bool",
      "health.relationship.engaged": "bool", "health.relationship.executive_sponsor_confirmed": "bool"}
for p in PATHS:
    if p.startswith("health.") and p not in TY and not p.startswith("health.relationship."):
        TY[p] = "num"

# Custom properties every CRM lacks, with the names the sample exports give them.
CUSTOM = [("Customer Success Manager", "csm"), ("Account Executive", "account_executive"), ("Segment", "segment"), ("Contract Currency", "currency"),
          ("Snapshot Date", "as_of"), ("ARR", "contract.arr"), ("Licensed Seats", "contract.licensed_seats"),
          ("Price per Seat", "contract.price_per_seat"), ("Plan", "contract.plan"),
          ("Renewal Date", "contract.renewal_date"), ("Renewal At Risk", "contract.renewal_contentious"),
          ("Budget Month", "contract.planning_month"), ("Active Users (30 days)", "usage.active_users"),
          ("Health Score", "health.score"), ("Adoption Score", "health.components.adoption"),
          ("Engagement Score", "health.components.engagement"),
          ("Relationship Component", "health.components.relationship"),
          ("Value Component", "health.components.value"), ("Commercial Score", "health.components.commercial"),
          ("Responsive", "health.relationship.responsive"), ("Engaged", "health.relationship.engaged"),
          ("Executive Sponsor", "health.relationship.sponsor"),
          ("Exec Sponsor Confirmed", "health.relationship.executive_sponsor_confirmed"),
          ("Champion", "health.relationship.champion"), ("Relationship Score", "health.relationship_score"),
          ("Value Score", "health.value_score")]

def custom(except_paths, renames=None):
    renames = renames or {}
    return [(renames.get(p, h), p, "custom") for h, p in CUSTOM if p not in except_paths]

V = {}
V["hubspot-companies"] = dict(
    file="hubspot-companies.csv", bom=True, crlf=True, quote_all=False, date="%Y-%m-%d", style="plain",
    bools=("true", "false"),
    what="HubSpot companies export (CRM > Companies > Export, all properties, CSV)",
    source="HubSpot writes every company property under its label. Standard: Record ID, Company name, Company owner, Create Date, Company Domain Name, Industry, Annual Revenue, Number of Employees, Lifecycle Stage, Phone Number, City, Country/Region, Description, Last Activity Date.",
    cols=[("Record ID", "id", "standard"), ("Company name", "name", "standard"),
          ("Company owner", "account_executive", "standard"),
          ("Create Date", None, "noise"), ("Company Domain Name", None, "noise"), ("Industry", None, "noise"),
          ("Annual Revenue", None, "revenue"), ("Number of Employees", None, "noise"),
          ("Lifecycle Stage", None, "noise"), ("Description", None, "multiline")] + custom(["account_executive"]),
)
V["salesforce-accounts"] = dict(
    file="salesforce-accounts.csv", bom=False, crlf=False, quote_all=True, date="%m/%d/%Y", style="usd",
    bools=("1", "0"), footer=True,
    what="Salesforce account report exported as CSV (Details Only, multi-currency org)",
    source="Salesforce reports write field labels. Standard Account fields: Account ID, Account Name, Account Owner, Type, Industry, Annual Revenue, Employees, Billing Street, Billing City, Billing Country, Account Currency (multi-currency orgs), Created Date, Last Activity. A report export ends with a footer (Grand Totals, Copyright, Confidential, Generated By), skipped.",
    cols=[("Account ID", "id", "standard"), ("Account Name", "name", "standard"),
          ("Account Owner", "account_executive", "standard"), ("Account Currency", "currency", "standard"),
          ("Type", None, "noise"), ("Industry", None, "noise"), ("Annual Revenue", None, "revenue"),
          ("Employees", None, "noise"), ("Billing Street", None, "multiline"), ("Billing City", None, "noise"),
          ("Created Date", None, "noise")] + custom(["currency", "account_executive"]),
)
V["gainsight-companies"] = dict(
    file="gainsight-companies.csv", bom=False, crlf=True, quote_all=False, date="%d.%m.%Y", style="eu",
    bools=("true", "false"), title="Company Health Report",
    what="Gainsight CS Company report exported as CSV, from an instance with European formats",
    source="Gainsight's Company object. Standard: GSID, Name, ARR, MRR, Renewal Date, Original Contract Date, CSM, Current Score (the scorecard's overall score), Stage, Status, Industry, Employees, Users, Lifetime in Months.",
    cols=[("GSID", "id", "standard"), ("Name", "name", "standard"), ("ARR", "contract.arr", "standard"),
          ("MRR", None, "noise"), ("Renewal Date", "contract.renewal_date", "standard"),
          ("Original Contract Date", None, "noise"), ("CSM", "csm", "standard"),
          ("Current Score", "health.score", "standard"), ("Stage", None, "noise"), ("Status", None, "noise"),
          ("Employees", None, "noise")]
         + custom(["id", "name", "contract.arr", "contract.renewal_date", "csm", "health.score"],
                  {"segment": "Segment Code", "contract.renewal_contentious": "Renewal Risk"}),
    values={"Segment Code": {"ENT": "Enterprise", "MM": "Mid-Market", "SMB": "SMB"},
            "Renewal Risk": {"At Risk": "yes", "Not At Risk": "no"}},
)
V["totango-accounts"] = dict(
    file="totango-accounts.csv", bom=True, crlf=False, quote_all=False, date="%Y-%m-%d", style="plain",
    bools=("Yes", "No"),
    what="Totango accounts export (Accounts > Export, account attributes, CSV)",
    source="Totango's system and core account attributes: Account ID, Name, Status, Success Manager, Contract Value, Contract Renewal Date, Contract Start Date, Licenses, Tier, Industry, Create Date, Company Size. Totango writes dates as ISO 8601 and numbers without separators.",
    cols=[("Account ID", "id", "standard"), ("Name", "name", "standard"), ("Status", None, "noise"),
          ("Success Manager", "csm", "standard"), ("Contract Value", "contract.arr", "standard"),
          ("Contract Renewal Date", "contract.renewal_date", "standard"), ("Contract Start Date", None, "noise"),
          ("Licenses", "contract.licensed_seats", "standard"), ("Tier", "segment", "standard"),
          ("Create Date", None, "noise")]
         + custom(["csm", "contract.arr", "contract.renewal_date", "contract.licensed_seats", "segment"],
                  {"csm": "Success Manager"}),
)

seg_code = {"Enterprise": "ENT", "Mid-Market": "MM", "SMB": "SMB"}

def noise(h, a, i):
    return {"Create Date": "2021-0%d-1%d" % (1 + i % 9, i % 10), "Company Domain Name": a["name"].lower().replace(" ", "") + ".example",
            "Industry": ["Logistics", "Retail", "Software", "Healthcare"][i % 4],
            "Number of Employees": str(200 + 37 * i), "Lifecycle Stage": "Customer",
            "Type": "Customer - Direct", "Employees": str(200 + 37 * i), "Billing City": "Chicago",
            "Created Date": "0%d/12/2021" % (1 + i % 9), "MRR": "", "Original Contract Date": "01.0%d.2022" % (1 + i % 9),
            "Stage": "Adoption", "Status": "Paying" if "Contract Start Date" in h else "Active",
            "Contract Start Date": "2022-0%d-01" % (1 + i % 9)}.get(h, "")

def vendor_cell(a, h, path, kind, v, i):
    style, bools = v["style"], v["bools"]
    if kind == "revenue":
        # The company's own revenue: many times its ARR, and never ARR.
        return money((get(a, "contract.arr") or 0) * 173, style if style != "usd" else "usd")
    if kind == "multiline":
        return "%d Harbour Road\nSuite %d" % (10 + i, 100 + i) if h == "Billing Street" else \
            "Customer since 2021.\nRenews yearly."
    if kind == "noise":
        if h == "MRR":
            return money(round((get(a, "contract.arr") or 0) / 12, 2), style)
        return noise(h, a, i)
    val = get(a, path)
    if val is None:
        return ""
    if path == "segment" and h == "Segment Code":
        return seg_code[val]
    if path == "contract.renewal_contentious" and h == "Renewal Risk":
        return "At Risk" if val else "Not At Risk"
    t = TY.get(path, "text")
    if t == "money":
        return money(val, style)
    if t == "int":
        return count(val, style)
    if t == "num":
        return num(val, style)
    if t == "date":
        return day(val, v["date"])
    if t == "bool":
        return bools[0] if val else bools[1]
    return str(val)

for name, v in V.items():
    cols = v["cols"]
    rows = [[vendor_cell(a, h, p, k, v, i) for h, p, k in cols] for i, a in enumerate(demo)]
    nl = "\r\n" if v["crlf"] else "\n"
    path = os.path.join(VEND, v["file"])
    with open(path, "w", newline="", encoding="utf-8-sig" if v["bom"] else "utf-8") as f:
        if v.get("title"):
            f.write(v["title"] + nl + nl)
        w = csv.writer(f, lineterminator=nl, quoting=csv.QUOTE_ALL if v["quote_all"] else csv.QUOTE_MINIMAL)
        w.writerow([h for h, _, _ in cols])
        w.writerows(rows)
        if v.get("footer"):
            f.write(nl)
            w.writerow(["Grand Totals (%d records)" % len(demo)] + [""] * (len(cols) - 1))
            f.write(nl)
            for line in ["Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved.",
                         "Confidential Information - Do Not Distribute",
                         "Generated By:  Dana Whitfield  11/15/2026 9:30 AM", "Acme Analytics, Inc."]:
                w.writerow([line])
    sep = {"plain": (",", "."), "us": (",", "."), "usd": (",", "."), "eu": (".", ",")}[v["style"]]
    with open(os.path.join(MAPS, name + ".toml"), "w") as f:
        f.write(f"# Built-in map `{name}`: {v['what']}.\n")
        f.write("# Written by scripts/gen-import-samples.py; tests/data/import/vendors/%s is a sample export.\n#\n" % v["file"])
        for line in ("# " + v["source"]).split(". "):
            pass
        import textwrap
        for line in textwrap.wrap(v["source"], 88):
            f.write("# " + line + "\n")
        f.write("#\n# Columns under \"Standard\" are the vendor's own; those under \"CUSTOM\" are properties the\n"
                "# vendor does not have: create them, or rename these lines to the names your team uses.\n"
                "# Start from a copy: `expansion-planner import --suggest-map YOUR.csv` writes one for your file.\n")
        f.write('kind = "accounts"\n')
        f.write("# Every column may be missing: one map serves exports with fewer of them; the import\n"
                "# report lists the absent ones, and their fields are left as stored.\noptional = true\n")
        f.write("# Exports carry many more columns than a plan needs; the report lists those not imported.\nunmapped = \"ignore\"\n")
        f.write(f'date_format = "{v["date"]}"\nthousands_separator = "{sep[0]}"\ndecimal_separator = "{sep[1]}"\n')
        if v["bools"][0] not in ("true", "1"):
            pass
        if any(k == "revenue" for _, _, k in cols):
            f.write("\n# `Annual Revenue` is the customer company's own yearly revenue, not the ARR it pays you.\n"
                    "# It is deliberately not mapped; an import refuses a map that sends it to contract.arr\n"
                    "# unless the column says `revenue_is_arr = true`.\n")
        if name == "totango-accounts":
            f.write("\n# Totango's `Contract Value` holds MRR or ARR, as your instance defines it: this map reads it as\n"
                    "# ARR. If yours holds MRR, map an ARR attribute to contract.arr instead.\n")
        f.write("\n[columns]\n# Standard\n")
        for h, p, k in cols:
            if k == "standard":
                f.write(f'"{h}" = "{p}"\n')
        f.write("# CUSTOM: properties your team must create or rename\n")
        for h, p, k in cols:
            if k == "custom":
                f.write(f'"{h}" = "{p}"\n')
        for col, vm in (v.get("values") or {}).items():
            f.write(f'\n[values."{col}"]\n')
            for a_, b_ in vm.items():
                f.write(f'"{a_}" = "{b_}"\n')

# Mixpanel: Insights, metric "Unique users" of your activity event, broken down by the group
# key, by day, exported as CSV. The group key column is named after your key (company_id).
rows = []
for a in demo:
    for h in get(a, "usage.history") or []:
        rows.append([h["date"], a["id"], "{:,}".format(h["active_users"])])
with open(os.path.join(VEND, "mixpanel-usage.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["Date", "company_id", "Unique Users"])
    w.writerows(rows)
with open(os.path.join(MAPS, "mixpanel-usage.toml"), "w") as f:
    f.write("""# Built-in map `mixpanel-usage`: Mixpanel Insights, daily unique users by account, exported as CSV.
# Written by scripts/gen-import-samples.py; tests/data/import/vendors/mixpanel-usage.csv is a sample export.
#
# Build the report as: metric `Unique users` of the event that means "used the product",
# broken down by your account group key (Group Analytics), line chart by day; Export > CSV.
# Standard: `Date` and the metric column (`Unique Users`). CUSTOM: the breakdown column is
# named after your group key property (`company_id` here): rename it to yours. Its values
# must be the ids (or names) of accounts already imported.
kind = "history"
date_format = "%Y-%m-%d"
thousands_separator = ","
decimal_separator = "."

[columns]
# Standard
"Date" = "date"
"Unique Users" = "active_users"
# CUSTOM: your group key
"company_id" = "account"
""")

offer_paths = [p for p in PATHS if p.startswith("offer.")]
write(os.path.join(VEND, "offers.csv"), ["id"] + offer_paths,
      [[a["id"]] + [plain(get(a, p)) for p in offer_paths] for a in demo])
print("wrote", VEND, "and", MAPS)
