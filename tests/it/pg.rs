//! The PostgreSQL fixture: a private cluster, a fresh database per test.
//!
//! The cluster is `EXPANSION_PLANNER_TEST_PG` (a superuser URL) when set (scripts/test sets
//! it), else started here with `scripts/postgres start target/pg-tests`, which installs
//! Debian's postgresql when it is missing. If neither works the test FAILS, saying why:
//! no PostgreSQL test is ever skipped.

use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use expansion_planner::store::Postgres;

/// Runs `scripts/postgres ARGS`, returning its stdout; panics with its stderr on failure.
pub fn script(args: &[&str]) -> String {
    let out = Command::new(crate::root().join("scripts/postgres"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run scripts/postgres {args:?}: {e}"));
    assert!(
        out.status.success(),
        "scripts/postgres {args:?} failed: PostgreSQL is needed for these tests (Debian: apt-get install postgresql, or set EXPANSION_PLANNER_TEST_PG to a superuser URL)\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The superuser URL of the shared test cluster.
pub fn server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("EXPANSION_PLANNER_TEST_PG") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            let dir = crate::root().join("target/pg-tests");
            script(&["start", dir.to_str().unwrap()])
        }
    })
}

/// `url` with its database replaced by `db`.
pub fn with_db(url: &str, db: &str) -> String {
    let (head, _) = url.rsplit_once('/').unwrap();
    format!("{head}/{db}")
}

/// The password in a `postgres://user:password@...` URL.
pub fn password(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let creds = rest.split_once('@').unwrap().0;
    creds.split_once(':').unwrap().1.to_string()
}

/// Creates an empty database on the server `admin` names and returns its URL.
pub fn create_db(admin: &str, prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut client = postgres::Client::connect(admin, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to the test cluster: {e}"));
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    with_db(admin, &name)
}

/// A fresh, empty database's URL on the shared cluster.
pub fn fresh_url() -> String {
    create_db(server(), "t")
}

/// A store on a fresh, empty database.
pub fn store() -> Postgres {
    Postgres::open(&fresh_url()).unwrap()
}

/// A client on the database `url` names, for checks behind the store's back.
pub fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}
