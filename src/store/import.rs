//! Importing exports into the store, all or nothing per file.
//!
//! Formats, told apart by extension and, for CSV, by the columns:
//! - `.json`: one snapshot or an array of them; `.jsonl` / `.ndjson`: one snapshot a line.
//!   A snapshot replaces the stored account whole (its lists included).
//! - `.csv` / `.tsv` with one row per account, columns named by snapshot path
//!   (`contract.arr`); a row updates exactly the columns the file has (an empty cell makes
//!   the field unknown) and leaves the rest, lists included, as stored. So a CRM export
//!   and a CS-platform export of the same accounts can be imported one after the other.
//! - long-format CSVs with an `account` column (id or name of a stored account):
//!   `date,active_users` (usage history: upserted by date), signals, events, goals,
//!   churn signals, features and limits (each replaces that list for the accounts it names,
//!   so importing the same export twice changes nothing).
//!
//! Accounts are matched by `id`, else by name (case-insensitive). The whole file is read in
//! one transaction; any bad row rolls it back, and every bad row is reported with its line,
//! column and reason. A dry run does the same and always rolls back.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};
use serde_json::Value;

use crate::model::input::{MAX_LIST_ITEMS, from_str, from_value};
use crate::model::portfolio::{ImportReport, RowError};
use crate::model::snapshot::{ChurnSignal, Event, FeatureUsage, Goal, Signal, UsageLimit};
use crate::model::values::quote;
use crate::model::{Day, FieldError, Snapshot};

use super::csv_source::{Next, Source, preview};
use super::mapping::{self, ACCOUNT_PATHS, Formats, LongKind, Mapping, Ty, ValueMap};
use super::rows::{self, ListKind, norm};
use super::{Sqlite, StoreError};

/// Problems kept per file; past this the report says how many more there were (a file of
/// a million bad rows must not become a million-line reply).
pub const MAX_REPORTED_ERRORS: usize = 100;

/// The largest file an import reads, unless [`SIZE_CAP_ENV`] says otherwise: 512 MiB.
pub const DEFAULT_SIZE_CAP: u64 = 512 << 20;

/// The environment variable that sets the import size cap, in bytes.
pub const SIZE_CAP_ENV: &str = "EXPANSION_PLANNER_IMPORT_MAX_BYTES";

/// The import size cap in force.
pub fn size_cap() -> u64 {
    std::env::var(SIZE_CAP_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_SIZE_CAP)
}

/// The longest column name and problem text a report repeats, in characters.
const MAX_COLUMN_CHARS: usize = 80;
const MAX_PROBLEM_CHARS: usize = 1000;

fn clip(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        return s;
    }
    let n = s.chars().count();
    let head: String = s.chars().take(max).collect();
    format!("{head}… ({n} characters)")
}

/// Stored accounts by id and by normalised name, kept current as the file is applied.
#[derive(Default)]
struct Index {
    by_id: HashMap<String, i64>,
    by_name: HashMap<String, Vec<(i64, bool)>>,
    next_pseudo: i64,
}

impl Index {
    fn load(conn: &Connection) -> Result<Index, StoreError> {
        let mut ix = Index::default();
        let mut st = conn.prepare("SELECT key, id, name_norm FROM accounts")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let key: i64 = r.get(0)?;
            let id: Option<String> = r.get(1)?;
            let name: String = r.get(2)?;
            ix.by_name
                .entry(name)
                .or_default()
                .push((key, id.is_some()));
            if let Some(id) = id {
                ix.by_id.insert(id, key);
            }
        }
        Ok(ix)
    }

    /// The account a record updates: by id, else by an unambiguous name.
    fn existing(&self, id: Option<&str>, name: Option<&str>) -> Result<Option<i64>, String> {
        if let Some(k) = id.and_then(|i| self.by_id.get(i)) {
            return Ok(Some(*k));
        }
        let Some(name) = name else { return Ok(None) };
        let all = self
            .by_name
            .get(&norm(name))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        // With an id, only an account that has none is adopted by name.
        let candidates: Vec<i64> = all
            .iter()
            .filter(|(_, has_id)| id.is_none() || !has_id)
            .map(|(k, _)| *k)
            .collect();
        match candidates.as_slice() {
            [] => Ok(None),
            [k] => Ok(Some(*k)),
            many if id.is_none() => Err(format!(
                "{} stored accounts are named {}: add an id to say which",
                many.len(),
                quote(name)
            )),
            _ => Ok(None),
        }
    }

    /// An account named by a long-format row's `account` cell: id first, then name.
    fn named(&self, cell: &str) -> Result<i64, String> {
        if let Some(k) = self.by_id.get(cell) {
            return Ok(*k);
        }
        match self.by_name.get(&norm(cell)).map(Vec::as_slice) {
            Some([(k, _)]) => Ok(*k),
            Some(many) if many.len() > 1 => Err(format!(
                "{} stored accounts are named {}: use the account's id",
                many.len(),
                quote(cell)
            )),
            _ => Err(format!(
                "no stored account has the id or name {}: import the accounts first",
                quote(cell)
            )),
        }
    }

    fn add(&mut self, key: i64, id: Option<&str>, name: &str) {
        if let Some(id) = id {
            self.by_id.insert(id.to_string(), key);
        }
        let e = self.by_name.entry(norm(name)).or_default();
        if !e.iter().any(|(k, _)| *k == key) {
            e.push((key, id.is_some()));
        }
    }

    /// A stand-in key for an account that would be created when nothing is being written.
    fn pseudo(&mut self) -> i64 {
        self.next_pseudo -= 1;
        self.next_pseudo
    }
}

/// Brings one stored account, by key, into the database an import runs on, before the
/// import reads or changes it (see [`import_opened_staged`]).
pub type Stage<'s> = dyn FnMut(&Connection, i64) -> Result<(), StoreError> + 's;

/// The state of one file's import.
struct Run<'c, 's> {
    conn: &'c Connection,
    /// Brings a stored account in on first use (a PostgreSQL import); `None` on SQLite,
    /// where every account is there already.
    stage: Option<&'s mut Stage<'s>>,
    /// Accounts brought in by `stage`.
    staged: std::collections::HashSet<i64>,
    index: Index,
    report: ImportReport,
    /// Accounts touched by this file, with the line that touched them first.
    touched: HashMap<i64, u64>,
    dropped_errors: u64,
}

impl Run<'_, '_> {
    /// Called with every stored account's key before the import reads or changes it.
    fn stage(&mut self, key: i64) -> Result<(), StoreError> {
        if key <= 0 || self.staged.contains(&key) {
            return Ok(());
        }
        let conn = self.conn;
        if let Some(stage) = self.stage.as_deref_mut() {
            stage(conn, key)?;
        }
        self.staged.insert(key);
        Ok(())
    }

    fn writing(&self) -> bool {
        self.report.errors.is_empty()
    }

    fn err(&mut self, line: u64, column: impl Into<String>, problem: impl Into<String>) {
        if self.report.errors.len() < MAX_REPORTED_ERRORS {
            self.report.errors.push(RowError {
                line,
                column: clip(column.into(), MAX_COLUMN_CHARS),
                problem: clip(problem.into(), MAX_PROBLEM_CHARS),
            });
        } else {
            self.dropped_errors += 1;
        }
    }

    fn field_errors(
        &mut self,
        line: u64,
        errors: Vec<FieldError>,
        column_of: &dyn Fn(&str) -> String,
    ) {
        for e in errors {
            let col = column_of(&e.field);
            self.err(line, col, e.problem);
        }
    }

    /// Records that `key` is touched at `line`; false (and an error) when an earlier row of
    /// this file already did.
    fn touch(&mut self, key: i64, line: u64, what: &str) -> bool {
        if let Some(first) = self.touched.get(&key) {
            let first = *first;
            self.err(
                line,
                "",
                format!(
                    "duplicates line {first}: both rows are the account {what}; one row per account"
                ),
            );
            return false;
        }
        self.touched.insert(key, line);
        true
    }

    /// Upserts a whole snapshot (JSON formats).
    fn whole(&mut self, s: Snapshot, line: u64) -> Result<(), StoreError> {
        let what = identity(&s);
        let key = match self.index.existing(s.id.as_deref(), Some(&s.name)) {
            Ok(k) => k,
            Err(msg) => {
                self.err(line, "name", msg);
                return Ok(());
            }
        };
        if let Some(k) = key {
            self.stage(k)?;
        }
        let k = match key {
            Some(k) => k,
            None if self.writing() => rows::write_account(self.conn, None, &s)?,
            None => self.index.pseudo(),
        };
        if !self.touch(k, line, &what) {
            return Ok(());
        }
        if self.writing() {
            if key.is_some() {
                rows::write_account(self.conn, Some(k), &s)?;
            }
            rows::write_offer(self.conn, k, s.offer.as_ref(), key.is_some())?;
            rows::write_lists(self.conn, k, &s, key.is_some())?;
        }
        self.index.add(k, s.id.as_deref(), &s.name);
        if key.is_some() {
            self.report.updated += 1;
        } else {
            self.report.created += 1;
        }
        Ok(())
    }

    fn parsed_record(
        &mut self,
        parsed: Result<Snapshot, crate::model::InputError>,
        line: u64,
    ) -> Result<(), StoreError> {
        self.report.rows += 1;
        match parsed {
            Ok(s) => self.whole(s, line),
            Err(e) => {
                self.field_errors(line, e.errors, &|f| f.to_string());
                Ok(())
            }
        }
    }
}

/// One snapshot record, parsed and validated. The plain parser runs first; only a record
/// that fails is parsed again with path tracking, for an error that names the field.
fn parse_record(text: &str) -> Result<Snapshot, crate::model::InputError> {
    serde_json::from_str::<Snapshot>(text)
        .or_else(|_| from_str::<Snapshot>(text))
        .and_then(|s| s.validate().map(|()| s))
}

fn identity(s: &Snapshot) -> String {
    match &s.id {
        Some(id) => format!("with id `{id}`"),
        None => format!("named {}", quote(&s.name)),
    }
}

/// A mapping for one import: a file (or a built-in map's name), or the text of a mapping
/// file already read by the caller (the import tool, which opens it confined).
pub enum MapArg<'a> {
    Path(&'a Path),
    Text { name: String, text: String },
}

/// Imports one file. File-level problems (unreadable, unknown type, bad mapping, missing
/// columns) are reported like row problems, at line 0 or 1; only a failing database is `Err`.
pub fn import_file(
    store: &Sqlite,
    file: &Path,
    map: Option<&Path>,
    dry_run: bool,
) -> Result<ImportReport, StoreError> {
    import_file_staged(store, file, map, dry_run, None)
}

/// [`import_file`], bringing each stored account the file names in with `stage` first.
pub fn import_file_staged<'s>(
    store: &Sqlite,
    file: &Path,
    map: Option<&Path>,
    dry_run: bool,
    stage: Option<&'s mut Stage<'s>>,
) -> Result<ImportReport, StoreError> {
    match std::fs::File::open(file) {
        Ok(f) => import_opened_staged(store, file, f, map.map(MapArg::Path), dry_run, stage),
        Err(e) => {
            let mut r = empty_report(file, dry_run);
            r.errors.push(RowError {
                line: 0,
                column: String::new(),
                problem: format!("cannot read {}: {e}", file.display()),
            });
            Ok(r)
        }
    }
}

fn empty_report(file: &Path, dry_run: bool) -> ImportReport {
    ImportReport {
        file: file.display().to_string(),
        format: String::new(),
        dry_run,
        written: false,
        rows: 0,
        created: 0,
        updated: 0,
        errors: vec![],
        notes: vec![],
    }
}

/// Imports a file the caller has opened, named `file` in the report (its extension says
/// its format). The file is read from the handle only: nothing is looked up by path again.
pub fn import_opened(
    store: &Sqlite,
    file: &Path,
    opened: std::fs::File,
    map: Option<MapArg<'_>>,
    dry_run: bool,
) -> Result<ImportReport, StoreError> {
    import_opened_staged(store, file, opened, map, dry_run, None)
}

/// [`import_opened`] into a store that holds every account's key, id and name but not yet
/// the accounts themselves: `stage` brings each one in (its whole snapshot) the first time
/// the file names it, before it is read or changed. A PostgreSQL import runs this way
/// against an in-memory copy, so that it costs what the file touches, not the whole store.
pub fn import_opened_staged<'s>(
    store: &Sqlite,
    file: &Path,
    opened: std::fs::File,
    map: Option<MapArg<'_>>,
    dry_run: bool,
    stage: Option<&'s mut Stage<'s>>,
) -> Result<ImportReport, StoreError> {
    let mut report = empty_report(file, dry_run);
    let fail = |mut r: ImportReport, column: &str, problem: String| {
        r.errors.push(RowError {
            line: 0,
            column: column.to_string(),
            problem,
        });
        Ok(r)
    };
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let mapping = match map {
        None => None,
        Some(m) => {
            if !matches!(ext.as_str(), "csv" | "tsv") {
                return fail(
                    report,
                    "",
                    "a mapping file applies to CSV files only".into(),
                );
            }
            let (shown, text) = match m {
                MapArg::Text { name, text } => (name, Ok(text)),
                MapArg::Path(m) => (
                    m.display().to_string(),
                    match mapping::builtin_for(m) {
                        Some(text) => Ok(text.to_string()),
                        None => std::fs::read_to_string(m),
                    },
                ),
            };
            match text {
                Err(e) => {
                    return fail(
                        report,
                        "",
                        format!(
                            "cannot read the mapping file {shown}: {e} (built-in maps: {})",
                            mapping::BUILTIN
                                .iter()
                                .map(|b| b.0)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
                Ok(text) => match Mapping::from_toml(&text) {
                    Ok(mp) => Some(mp),
                    Err(e) => {
                        return fail(report, "", format!("mapping file {shown}: {e}"));
                    }
                },
            }
        }
    };
    let cap = size_cap();
    // The size of the file opened, not of a path looked up before: refused unread.
    if let Ok(m) = opened.metadata()
        && m.len() > cap
    {
        return fail(
            report,
            "",
            format!(
                "{} is {} bytes, over the import size cap of {cap} bytes: split the export, or raise the cap with {SIZE_CAP_ENV}",
                file.display(),
                m.len()
            ),
        );
    }
    let reader = BufReader::with_capacity(1 << 20, opened.take(cap + 1));
    report.format = match ext.as_str() {
        "json" => "json".into(),
        "jsonl" | "ndjson" => "jsonl".into(),
        "csv" | "tsv" => "csv".into(),
        other => {
            return fail(
                report,
                "",
                format!(
                    "unknown file type `.{other}`: use .json (a snapshot or an array), .jsonl (one snapshot a line), or .csv / .tsv"
                ),
            );
        }
    };
    let mut conn = store.conn();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let index = Index::load(&tx)?;
    let mut run = Run {
        conn: &tx,
        stage,
        staged: std::collections::HashSet::new(),
        index,
        report,
        touched: HashMap::new(),
        dropped_errors: 0,
    };
    match ext.as_str() {
        "json" => json(&mut run, reader)?,
        "jsonl" | "ndjson" => jsonl(&mut run, reader)?,
        _ => {
            let mapping = mapping.unwrap_or_default();
            let delimiter = match mapping.delimiter.as_deref() {
                Some(d) => d.bytes().next().unwrap_or(b','),
                None if ext == "tsv" => b'\t',
                None => b',',
            };
            csv_file(&mut run, reader, &mapping, delimiter)?;
        }
    }
    if run.dropped_errors > 0 {
        let n = run.dropped_errors;
        run.report.errors.push(RowError {
            line: 0,
            column: String::new(),
            problem: format!(
                "... and {n} more problems not listed ({} in all): the first {MAX_REPORTED_ERRORS} are above",
                n + MAX_REPORTED_ERRORS as u64
            ),
        });
    }
    let mut report = run.report;
    if report.errors.is_empty() && !dry_run {
        tx.commit()?;
        report.written = true;
    } else {
        tx.rollback()?;
    }
    Ok(report)
}

/// The largest JSON record (one snapshot, one JSONL line) an import reads, in bytes: far
/// above any real account, and what keeps memory bounded whatever the file holds.
pub const MAX_RECORD_BYTES: u64 = 16 << 20;

/// The bytes of a JSON file as serde_json reads them: counts lines, notes the line on which
/// the top-level object or each element of the top-level array starts, and refuses an
/// element larger than [`MAX_RECORD_BYTES`], so that an array is read one element at a time.
struct Tracker<R> {
    inner: R,
    line: u64,
    depth: u32,
    in_str: bool,
    esc: bool,
    in_elem: bool,
    elem_bytes: u64,
    start: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: std::io::Read> std::io::Read for Tracker<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        for &b in out.get(..n).unwrap_or_default() {
            if b == b'\n' {
                self.line += 1;
            }
            if self.depth >= 1 {
                self.elem_bytes += 1;
                if self.elem_bytes > MAX_RECORD_BYTES {
                    return Err(std::io::Error::other(format!(
                        "the record starting at line {} is larger than {} MiB, the largest an import reads",
                        self.start.get(),
                        MAX_RECORD_BYTES >> 20
                    )));
                }
            }
            if self.in_str {
                if self.esc {
                    self.esc = false;
                } else if b == b'\\' {
                    self.esc = true;
                } else if b == b'"' {
                    self.in_str = false;
                }
                continue;
            }
            let begins = !b.is_ascii_whitespace() && b != b',' && b != b']' && b != b'}';
            if self.depth == 0 && b == b'{' || self.depth == 1 && !self.in_elem && begins {
                self.start.set(self.line);
                self.in_elem = true;
                self.elem_bytes = 0;
            }
            match b {
                b'"' => self.in_str = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                b',' if self.depth == 1 => self.in_elem = false,
                _ => {}
            }
        }
        Ok(n)
    }
}

/// Takes a JSON file's top-level object, or each element of its top-level array as it is
/// read, to the import.
struct Records<'r, 'c, 's> {
    run: &'r mut Run<'c, 's>,
    start: std::rc::Rc<std::cell::Cell<u64>>,
    failed: Option<StoreError>,
}

impl Records<'_, '_, '_> {
    fn record(&mut self, v: Value) {
        if self.failed.is_some() {
            return;
        }
        let line = self.start.get();
        if !v.is_object() {
            self.run.report.rows += 1;
            self.run
                .err(line, "", "each array element must be a snapshot object");
            return;
        }
        if let Err(e) = self.run.parsed_record(Snapshot::from_json(v), line) {
            self.failed = Some(e);
        }
    }
}

impl<'de> serde::de::Visitor<'de> for &mut Records<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a snapshot object or an array of snapshots")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let v = serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        self.record(v);
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            self.record(v);
            if self.failed.is_some() {
                break;
            }
        }
        Ok(())
    }
}

/// A `.json` file, read as a stream: one element of the array in memory at a time.
fn json(run: &mut Run<'_, '_>, reader: impl BufRead) -> Result<(), StoreError> {
    let start = std::rc::Rc::new(std::cell::Cell::new(1));
    let tracker = Tracker {
        inner: reader,
        line: 1,
        depth: 0,
        in_str: false,
        esc: false,
        in_elem: false,
        elem_bytes: 0,
        start: start.clone(),
    };
    let mut de = serde_json::Deserializer::from_reader(tracker);
    let mut records = Records {
        run,
        start,
        failed: None,
    };
    let result =
        serde::Deserializer::deserialize_any(&mut de, &mut records).and_then(|()| de.end());
    if let Some(e) = records.failed {
        return Err(e);
    }
    if let Err(e) = result {
        let msg = e.to_string();
        let what = msg
            .rfind(" at line ")
            .and_then(|i| msg.get(..i))
            .unwrap_or(&msg);
        let (line, problem) = match e.classify() {
            serde_json::error::Category::Eof if e.line() <= 1 && e.column() == 0 => (
                1,
                "the file is empty: expected a snapshot object or an array of snapshots"
                    .to_string(),
            ),
            serde_json::error::Category::Io => (0, format!("cannot be read: {what}")),
            serde_json::error::Category::Data => (
                e.line() as u64,
                "must be a snapshot object or an array of snapshots".to_string(),
            ),
            _ => (
                e.line() as u64,
                format!(
                    "is not valid JSON at line {}, column {}: {}",
                    e.line(),
                    e.column(),
                    quote_json(what)
                ),
            ),
        };
        records.run.err(line, "", problem);
    }
    Ok(())
}

/// serde_json's message, its quoted user text shortened.
fn quote_json(msg: &str) -> String {
    crate::model::input::clip_quoted(msg)
}

/// Records parsed ahead of the writer.
const PARSE_AHEAD: usize = 1024;

/// JSON Lines: one thread reads and parses while this one writes, so parsing is off the
/// critical path of a large import. Records arrive in file order.
fn jsonl(run: &mut Run<'_, '_>, mut reader: impl BufRead + Send) -> Result<(), StoreError> {
    type Parsed = (u64, Result<Snapshot, crate::model::InputError>);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Parsed>(PARSE_AHEAD);
        let producer = scope.spawn(move || -> Result<(), (u64, String)> {
            let mut line = Vec::new();
            let mut n = 0_u64;
            loop {
                line.clear();
                // A line is read up to the record cap, never whole: a file of one endless
                // line must not be held in memory.
                match (&mut reader)
                    .take(MAX_RECORD_BYTES + 1)
                    .read_until(b'\n', &mut line)
                {
                    Ok(0) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => return Err((n + 1, format!("cannot be read: {e}"))),
                }
                n += 1;
                if line.len() as u64 > MAX_RECORD_BYTES && line.last() != Some(&b'\n') {
                    return Err((
                        n,
                        format!(
                            "is longer than {} MiB, the largest record an import reads",
                            MAX_RECORD_BYTES >> 20
                        ),
                    ));
                }
                let parsed = match std::str::from_utf8(&line) {
                    Ok(t) if t.trim().is_empty() => continue,
                    Ok(t) => parse_record(t.trim()),
                    Err(_) => Err(crate::model::InputError::one(
                        "",
                        "is not valid UTF-8: save the export as UTF-8",
                    )),
                };
                if tx.send((n, parsed)).is_err() {
                    // The writer stopped (a database failure): nothing more to do.
                    return Ok(());
                }
            }
        });
        let mut written = Ok(());
        for (line, parsed) in rx {
            written = run.parsed_record(parsed, line);
            if written.is_err() {
                break;
            }
        }
        match producer.join() {
            Ok(Ok(())) => {}
            Ok(Err((line, msg))) => run.err(line, "", msg),
            Err(_) => run.err(0, "", "the reading thread failed"),
        }
        written
    })
}

/// One CSV column and where it goes.
struct Target {
    index: usize,
    source: String,
    path: String,
    ty: Ty,
    date_format: Option<String>,
    values: ValueMap,
}

/// Names shown in a note, the first few and how many more.
fn some_names(names: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut out: Vec<String> = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{}`", preview(n)))
        .collect();
    if names.len() > SHOWN {
        out.push(format!("and {} more", names.len() - SHOWN));
    }
    out.join(", ")
}

fn csv_file(
    run: &mut Run<'_, '_>,
    reader: impl std::io::Read,
    mapping: &Mapping,
    delimiter: u8,
) -> Result<(), StoreError> {
    let mut src = Source::new(reader, delimiter, size_cap());
    let known = |c: &str| {
        mapping.columns.contains_key(c)
            || ACCOUNT_PATHS.iter().any(|(p, _)| *p == c)
            || c == "account"
    };
    let header = src.header(&known);
    let (header_line, headers) = match header {
        Ok(Some(h)) => h,
        Ok(None) => {
            run.err(1, "", "the file is empty: a header row is needed");
            return Ok(());
        }
        Err((line, e)) => {
            run.err(line, "", format!("the header row cannot be read: {e}"));
            return Ok(());
        }
    };
    let result = csv_rows(run, &mut src, header_line, &headers, mapping);
    run.report.notes.append(&mut src.notes);
    result
}

fn csv_rows<R: std::io::Read>(
    run: &mut Run<'_, '_>,
    src: &mut Source<R>,
    header_line: u64,
    headers: &csv::StringRecord,
    mapping: &Mapping,
) -> Result<(), StoreError> {
    let hl = header_line;
    // Each header to its raw target: mapped path, the name itself, or ignored.
    let mut raw: Vec<(usize, String, String, Option<String>)> = Vec::new();
    let mut seen_sources = HashSet::new();
    let ignore_unmapped = mapping.unmapped.as_deref() == Some("ignore");
    let mut unmapped: Vec<(usize, String)> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim().to_string();
        if !seen_sources.insert(h.clone()) {
            run.err(hl, h.clone(), "appears twice in the header");
            continue;
        }
        if let Some(spec) = mapping.columns.get(&h) {
            raw.push((
                i,
                h.clone(),
                spec.path().trim().to_string(),
                spec.date_format().map(str::to_string),
            ));
        } else if mapping.ignore.contains(&h) {
            continue;
        } else {
            unmapped.push((i, h));
        }
    }
    let mut absent = Vec::new();
    for name in mapping.columns.keys() {
        if seen_sources.contains(name.trim()) {
            continue;
        }
        if mapping.is_optional(name) {
            absent.push(name.clone());
        } else {
            run.err(
                hl,
                name.clone(),
                "is named in the mapping file, but the file has no such column (mark it `optional = true` in the mapping file, or set `optional = true` at the top, if some exports lack it)",
            );
        }
    }
    for name in mapping.values.keys() {
        if !seen_sources.contains(name.trim()) && !mapping.is_optional(name) {
            run.err(
                hl,
                name.clone(),
                "has a value map (`[values]`) in the mapping file, but the file has no such column",
            );
        }
    }
    if !absent.is_empty() {
        run.report.notes.push(format!(
            "optional columns of the mapping this file does not have, left as stored: {}",
            some_names(&absent)
        ));
    }
    let is_long = raw.iter().any(|(_, _, p, _)| p == "account")
        || unmapped.iter().any(|(_, h)| h == "account");
    let kind: Option<LongKind> = match mapping.kind.as_deref() {
        Some("accounts") => None,
        Some(k) => LongKind::from_name(k),
        None if is_long => {
            let mut names: Vec<&str> = raw
                .iter()
                .map(|(_, _, p, _)| p.as_str())
                .chain(unmapped.iter().map(|(_, h)| h.as_str()))
                .filter(|p| *p != "account")
                .collect();
            names.sort_unstable();
            let fits: Vec<LongKind> = LongKind::ALL
                .into_iter()
                .filter(|k| {
                    let f = k.fields();
                    f.iter()
                        .filter(|(_, _, req)| *req)
                        .all(|(n, _, _)| names.contains(n))
                        && (ignore_unmapped
                            || names.iter().all(|n| f.iter().any(|(m, _, _)| m == n)))
                })
                .collect();
            // When no kind has all its required columns, the kind that knows every column
            // and misses the fewest required ones is meant, if there is exactly one: then
            // the missing columns are reported by name below.
            let missing = |k: &LongKind| {
                k.fields()
                    .iter()
                    .filter(|(n, _, req)| *req && !names.contains(n))
                    .count()
            };
            let knows_all = |k: &LongKind| {
                names
                    .iter()
                    .all(|n| k.fields().iter().any(|(m, _, _)| m == n))
            };
            let closest: Vec<LongKind> = if fits.is_empty() {
                let known: Vec<LongKind> = LongKind::ALL.into_iter().filter(knows_all).collect();
                let least = known.iter().map(missing).min().unwrap_or(0);
                known.into_iter().filter(|k| missing(k) == least).collect()
            } else {
                Vec::new()
            };
            match (fits.as_slice(), closest.as_slice()) {
                ([k], _) | ([], [k]) => Some(*k),
                ([], _) => {
                    run.err(
                        hl,
                        "",
                        format!(
                            "an `account` column makes this a long-format file, but its columns ({}) fit none of: {}",
                            names.join(", "),
                            LongKind::ALL
                                .iter()
                                .map(|k| format!(
                                    "{} (account, {})",
                                    k.name(),
                                    k.fields()
                                        .iter()
                                        .filter(|f| f.2)
                                        .map(|f| f.0)
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ))
                                .collect::<Vec<_>>()
                                .join("; ")
                        ),
                    );
                    return Ok(());
                }
                (many, _) => {
                    run.err(
                        hl,
                        "",
                        format!(
                            "the columns fit several long formats ({}): set `kind` in a mapping file",
                            many.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
                        ),
                    );
                    return Ok(());
                }
            }
        }
        None => None,
    };
    let allowed: Vec<(&str, Ty)> = match kind {
        None => ACCOUNT_PATHS.to_vec(),
        Some(k) => std::iter::once(("account", Ty::Text))
            .chain(k.fields().iter().map(|(n, t, _)| (*n, *t)))
            .collect(),
    };
    let ty_of = |p: &str| allowed.iter().find(|(n, _)| *n == p).map(|(_, t)| *t);
    let mut targets: Vec<Target> = Vec::new();
    for (i, source, path, fmt) in raw {
        match ty_of(&path) {
            Some(ty) => targets.push(Target {
                index: i,
                values: ValueMap::new(mapping.values.get(&source).unwrap_or(&BTreeMap::new())),
                source,
                path,
                ty,
                date_format: fmt,
            }),
            None => run.err(
                hl,
                source,
                format!(
                    "is mapped to `{path}`, which is not a {}",
                    what_allowed(kind)
                ),
            ),
        }
    }
    let mut ignored = Vec::new();
    for (i, h) in unmapped {
        match ty_of(&h) {
            Some(ty) => targets.push(Target {
                index: i,
                values: ValueMap::new(mapping.values.get(&h).unwrap_or(&BTreeMap::new())),
                source: h.clone(),
                path: h,
                ty,
                date_format: None,
            }),
            None if ignore_unmapped => ignored.push(h),
            None => run.err(
                hl,
                h,
                format!(
                    "is neither mapped in a mapping file nor a {} (map it with --map, or list it under `ignore`)",
                    what_allowed(kind)
                ),
            ),
        }
    }
    let mut by_path: HashMap<&str, &str> = HashMap::new();
    for t in &targets {
        if let Some(other) = by_path.insert(t.path.as_str(), t.source.as_str()) {
            run.err(
                hl,
                t.source.clone(),
                format!("and column `{other}` both go to `{}`", t.path),
            );
        }
    }
    let required: Vec<&str> = match kind {
        None => vec![],
        Some(k) => std::iter::once("account")
            .chain(k.fields().iter().filter(|f| f.2).map(|f| f.0))
            .collect(),
    };
    for r in required {
        if !targets.iter().any(|t| t.path == r) {
            run.err(hl, r, "is a required column and the file does not have it");
        }
    }
    if kind.is_none() && !targets.iter().any(|t| t.path == "id" || t.path == "name") {
        run.err(
            hl,
            "name",
            "is a required column (or `id`): without either, no row says which account it is",
        );
    }
    if !ignored.is_empty() {
        run.report.notes.push(format!(
            "columns not imported (`unmapped = \"ignore\"`): {}",
            some_names(&ignored)
        ));
    }
    run.report.format = format!("csv:{}", kind.map(LongKind::name).unwrap_or("accounts"));
    if !run.report.errors.is_empty() {
        // The columns are wrong: reading rows would only repeat it on every line.
        return Ok(());
    }
    let formats = mapping.formats();
    match kind {
        None => account_rows(run, src, &targets, &formats),
        Some(LongKind::History) => history_rows(run, src, &targets, &formats),
        Some(k) => list_rows(run, src, &targets, &formats, k),
    }
}

fn what_allowed(kind: Option<LongKind>) -> String {
    match kind {
        None => "snapshot path such as contract.arr or usage.active_users".into(),
        Some(k) => format!(
            "column of the {} format (account, {})",
            k.name(),
            k.fields()
                .iter()
                .map(|f| f.0)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Reads the next data row; a malformed one is reported and skipped.
fn next_record<R: std::io::Read>(
    run: &mut Run<'_, '_>,
    src: &mut Source<R>,
    rec: &mut csv::StringRecord,
) -> Option<u64> {
    loop {
        match src.next_row() {
            Next::End => return None,
            Next::Row(line, r) => {
                run.report.rows += 1;
                *rec = r;
                return Some(line);
            }
            Next::Bad(line, msg) => {
                run.report.rows += 1;
                run.err(line, "", msg);
            }
        }
    }
}

/// Parses every mapped cell of a row, value maps applied; `None` when any cell was bad
/// (reported). Each value comes with the currency a money cell was written in.
fn cells(
    run: &mut Run<'_, '_>,
    rec: &csv::StringRecord,
    line: u64,
    targets: &[Target],
    formats: &Formats,
) -> Option<Vec<mapping::Cell>> {
    let mut out = Vec::with_capacity(targets.len());
    let mut ok = true;
    for t in targets {
        let cell = t.values.apply(rec.get(t.index).unwrap_or_default());
        match mapping::read_cell(cell, t.ty, formats, t.date_format.as_deref()) {
            Ok(v) => out.push(v),
            Err(e) => {
                ok = false;
                run.err(line, t.source.clone(), e);
                out.push(mapping::Cell {
                    value: None,
                    currency: None,
                });
            }
        }
    }
    ok.then_some(out)
}

/// The column a field path came from, or the path when no column did.
fn column_for(targets: &[Target], field: &str) -> String {
    targets
        .iter()
        .find(|t| t.path == field)
        .or_else(|| {
            targets
                .iter()
                .filter(|t| {
                    field.starts_with(&format!("{}.", t.path))
                        || field.starts_with(&format!("{}[", t.path))
                })
                .max_by_key(|t| t.path.len())
        })
        .map(|t| t.source.clone())
        .unwrap_or_else(|| field.to_string())
}

fn text_of(v: &mapping::Cell) -> Option<&str> {
    match &v.value {
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    }
}

fn account_rows<R: std::io::Read>(
    run: &mut Run<'_, '_>,
    rdr: &mut Source<R>,
    targets: &[Target],
    formats: &Formats,
) -> Result<(), StoreError> {
    let mut rec = csv::StringRecord::new();
    let col_of = |f: &str| column_for(targets, f);
    while let Some(line) = next_record(run, rdr, &mut rec) {
        let Some(values) = cells(run, &rec, line, targets, formats) else {
            continue;
        };
        let get = |p: &str| {
            targets
                .iter()
                .position(|t| t.path == p)
                .and_then(|i| values.get(i))
                .and_then(text_of)
        };
        let (id, name) = (get("id"), get("name"));
        if id.is_none() && name.is_none() {
            run.err(
                line,
                "",
                "id and name are both empty: one is needed to know which account this is",
            );
            continue;
        }
        let key = match run.index.existing(id, name) {
            Ok(k) => k,
            Err(msg) => {
                run.err(line, col_of("name"), msg);
                continue;
            }
        };
        if let Some(k) = key {
            run.stage(k)?;
        }
        // Start from what is stored and overlay the file's columns.
        let mut obj = match key.filter(|k| *k > 0) {
            Some(k) => match rows::load(run.conn, k, true)? {
                Some(s) => match serde_json::to_value(&s) {
                    Ok(Value::Object(o)) => o,
                    _ => serde_json::Map::new(),
                },
                None => serde_json::Map::new(),
            },
            None => serde_json::Map::new(),
        };
        let mut written: Vec<(&Target, mapping::Written, String)> = Vec::new();
        for (t, v) in targets.iter().zip(values) {
            if let Some(w) = v.currency {
                let shown = rec.get(t.index).unwrap_or_default().trim().to_string();
                written.push((t, w, shown));
            }
            mapping::set_path(&mut obj, &t.path, v.value);
        }
        let s = match Snapshot::from_json(Value::Object(obj)) {
            Ok(s) => s,
            Err(e) => {
                run.field_errors(line, e.errors, &col_of);
                continue;
            }
        };
        // A money cell written in another currency than the account's is refused: read as
        // the account's currency it would be a plausible wrong number.
        let currency = s.currency.as_deref().unwrap_or("USD").to_ascii_uppercase();
        let mut foreign = false;
        for (t, w, shown) in written {
            if !w.fits(&currency) {
                foreign = true;
                run.err(
                    line,
                    t.source.clone(),
                    format!(
                        "{} is written in `{}`, but the account's currency is {currency}{}: amounts in {currency} are accepted, written without a currency or with its own symbol or code",
                        quote(&shown),
                        w.0,
                        if targets.iter().any(|t| t.path == "currency") {
                            ""
                        } else {
                            " (the file has no currency column; set one, or map it, if the account is in another currency)"
                        }
                    ),
                );
            }
        }
        if foreign {
            continue;
        }
        let what = identity(&s);
        let k = match key {
            Some(k) => k,
            None if run.writing() => rows::write_account(run.conn, None, &s)?,
            None => run.index.pseudo(),
        };
        if !run.touch(k, line, &what) {
            continue;
        }
        if run.writing() {
            if key.is_some() {
                rows::write_account(run.conn, Some(k), &s)?;
            }
            rows::write_offer(run.conn, k, s.offer.as_ref(), key.is_some())?;
        }
        run.index.add(k, s.id.as_deref(), &s.name);
        if key.is_some() {
            run.report.updated += 1;
        } else {
            run.report.created += 1;
        }
    }
    Ok(())
}

fn history_rows<R: std::io::Read>(
    run: &mut Run<'_, '_>,
    rdr: &mut Source<R>,
    targets: &[Target],
    formats: &Formats,
) -> Result<(), StoreError> {
    let find = |p: &str| targets.iter().find(|t| t.path == p);
    let (Some(acc_t), Some(date_t), Some(users_t)) =
        (find("account"), find("date"), find("active_users"))
    else {
        return Ok(());
    };
    let date_fmt = date_t
        .date_format
        .clone()
        .or_else(|| formats.date_format.clone());
    let mut rec = csv::StringRecord::new();
    let mut seen: HashMap<i64, HashSet<Day>> = HashMap::new();
    let mut last: Option<(String, i64)> = None;
    while let Some(line) = next_record(run, rdr, &mut rec) {
        let cell = acc_t.values.apply(rec.get(acc_t.index).unwrap_or_default());
        let key = match &last {
            Some((c, k)) if c == cell => Ok(*k),
            _ if cell.is_empty() => {
                Err("is required: the id or name of a stored account".to_string())
            }
            _ => run.index.named(cell),
        };
        let key = match key {
            Ok(k) => {
                run.stage(k)?;
                last = Some((cell.to_string(), k));
                Some(k)
            }
            Err(e) => {
                run.err(line, acc_t.source.clone(), e);
                None
            }
        };
        let date = match date_t
            .values
            .apply(rec.get(date_t.index).unwrap_or_default())
        {
            "" => Err("is required".to_string()),
            d => mapping::date(d, date_fmt.as_deref()),
        };
        let date = match date {
            Ok(d) => Some(d),
            Err(e) => {
                run.err(line, date_t.source.clone(), e);
                None
            }
        };
        let users = match users_t
            .values
            .apply(rec.get(users_t.index).unwrap_or_default())
        {
            "" => Err("is required".to_string()),
            u => mapping::int(u, formats),
        };
        let users = match users {
            Ok(u) => Some(u),
            Err(e) => {
                run.err(line, users_t.source.clone(), e);
                None
            }
        };
        let (Some(key), Some(date), Some(active_users)) = (key, date, users) else {
            continue;
        };
        let first = !seen.contains_key(&key);
        if !seen.entry(key).or_default().insert(date) {
            run.err(
                line,
                date_t.source.clone(),
                format!("repeats {date} for this account: one reading per date"),
            );
            continue;
        }
        if first {
            run.report.updated += 1;
        }
        if run.writing() {
            rows::insert_history(
                run.conn,
                key,
                &crate::model::snapshot::UsagePoint { date, active_users },
            )?;
        }
    }
    if run.writing() {
        let mut st = run
            .conn
            .prepare_cached("SELECT count(*) FROM usage_history WHERE account = ?1")?;
        for key in seen.keys() {
            rows::repack_readings(run.conn, *key)?;
            let n: i64 = st.query_row([key], |r| r.get(0))?;
            if usize::try_from(n).unwrap_or(usize::MAX) > MAX_LIST_ITEMS {
                run.err(
                    0,
                    "",
                    format!(
                        "an account would have {n} usage.history readings; at most {MAX_LIST_ITEMS}"
                    ),
                );
            }
        }
    }
    Ok(())
}

/// A list item read from a long-format row.
enum Item {
    Signal(Signal),
    Event(Event),
    Goal(Goal),
    Churn(ChurnSignal),
    Feature(FeatureUsage),
    Limit(UsageLimit),
}

fn item_of(kind: LongKind, v: Value) -> Result<Item, crate::model::InputError> {
    Ok(match kind {
        LongKind::Signals => Item::Signal(from_value(v)?),
        LongKind::Events => Item::Event(from_value(v)?),
        LongKind::Goals => Item::Goal(from_value(v)?),
        LongKind::ChurnSignals => Item::Churn(from_value(v)?),
        LongKind::Features => Item::Feature(from_value(v)?),
        LongKind::Limits | LongKind::History => Item::Limit(from_value(v)?),
    })
}

/// The snapshot's own rules for one item (evidence not empty, team size >= access...).
fn item_problems(item: &Item) -> Vec<FieldError> {
    let mut s = Snapshot {
        name: "import".into(),
        ..Snapshot::default()
    };
    match item {
        Item::Signal(x) => s.signals.push(x.clone()),
        Item::Event(x) => s.events.push(x.clone()),
        Item::Goal(x) => s.health.goals.push(x.clone()),
        Item::Churn(x) => s.health.churn_signals.push(x.clone()),
        Item::Feature(x) => s.usage.features.push(x.clone()),
        Item::Limit(x) => s.usage.limits.push(x.clone()),
    }
    s.validate()
        .err()
        .map(|e| {
            e.errors
                .into_iter()
                .map(|f| FieldError {
                    field: f
                        .field
                        .split_once("].")
                        .map(|(_, rest)| rest.to_string())
                        .unwrap_or(f.field),
                    problem: f.problem,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn list_rows<R: std::io::Read>(
    run: &mut Run<'_, '_>,
    rdr: &mut Source<R>,
    targets: &[Target],
    formats: &Formats,
    kind: LongKind,
) -> Result<(), StoreError> {
    let list = match kind {
        LongKind::Signals => ListKind::Signals,
        LongKind::Events => ListKind::Events,
        LongKind::Goals => ListKind::Goals,
        LongKind::ChurnSignals => ListKind::ChurnSignals,
        LongKind::Features => ListKind::Features,
        LongKind::Limits => ListKind::Limits,
        LongKind::History => ListKind::History,
    };
    let mut rec = csv::StringRecord::new();
    let mut order: Vec<i64> = Vec::new();
    let mut items: HashMap<i64, Vec<Item>> = HashMap::new();
    let col_of = |f: &str| column_for(targets, f);
    while let Some(line) = next_record(run, rdr, &mut rec) {
        let Some(values) = cells(run, &rec, line, targets, formats) else {
            continue;
        };
        let mut obj = serde_json::Map::new();
        let mut account = None;
        for (t, v) in targets.iter().zip(values) {
            if t.path == "account" {
                account = v.value;
            } else if let Some(v) = v.value {
                obj.insert(t.path.clone(), v);
            }
        }
        let key = match account.as_ref().and_then(|v| v.as_str()) {
            None => {
                run.err(
                    line,
                    col_of("account"),
                    "is required: the id or name of a stored account",
                );
                continue;
            }
            Some(a) => match run.index.named(a) {
                Ok(k) => {
                    run.stage(k)?;
                    k
                }
                Err(e) => {
                    run.err(line, col_of("account"), e);
                    continue;
                }
            },
        };
        let item = match item_of(kind, Value::Object(obj)) {
            Ok(i) => i,
            Err(e) => {
                run.field_errors(line, e.errors, &col_of);
                continue;
            }
        };
        let problems = item_problems(&item);
        if !problems.is_empty() {
            run.field_errors(line, problems, &col_of);
            continue;
        }
        let e = items.entry(key).or_insert_with(|| {
            order.push(key);
            Vec::new()
        });
        if e.len() >= MAX_LIST_ITEMS {
            run.err(
                line,
                "",
                format!(
                    "more than {MAX_LIST_ITEMS} {} rows for one account",
                    kind.name()
                ),
            );
            continue;
        }
        e.push(item);
    }
    run.report.updated = u64::try_from(order.len()).unwrap_or(u64::MAX);
    if !run.writing() {
        return Ok(());
    }
    for key in order {
        rows::clear_list(run.conn, key, list)?;
        for (pos, item) in items.remove(&key).unwrap_or_default().iter().enumerate() {
            match item {
                Item::Signal(x) => rows::insert_signal(run.conn, key, pos, x)?,
                Item::Event(x) => rows::insert_event(run.conn, key, pos, x)?,
                Item::Goal(x) => rows::insert_goal(run.conn, key, pos, x)?,
                Item::Churn(x) => rows::insert_churn(run.conn, key, pos, x)?,
                Item::Feature(x) => rows::insert_feature(run.conn, key, pos, x)?,
                Item::Limit(x) => rows::insert_limit(run.conn, key, pos, x)?,
            }
        }
    }
    Ok(())
}
