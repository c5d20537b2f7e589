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
