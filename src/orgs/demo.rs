//! Demo data: realistic organizations (names, short names, types, statuses, and a share of
//! sub-organizations up to three levels deep), so a new user can try Roster and benchmarks have
//! data. Deterministic for a given seed.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::bulk::{self, ROWS_PER_TRANSACTION};
use super::demo_records;
use super::kinds::{self, Kind};
use super::store::OrgValues;
use crate::config::SecretKey;
use crate::db::{DbConn, DbError};

const PREFIXES: &[&str] = &[
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Blue Ridge",
    "Summit",
    "Pioneer",
    "Harbor",
    "Evergreen",
    "Redwood",
    "Silver Lake",
    "Granite",
    "Lakeside",
    "Maple",
    "Riverbend",
    "Sterling",
    "Cascade",
    "Beacon",
    "Crescent",
    "Ironwood",
    "Keystone",
    "Meridian",
    "Oakridge",
    "Pinnacle",
    "Prairie",
    "Sunrise",
    "Trinity",
    "Westfield",
    "Ärztehaus",
    "Müller",
    "Østby",
    "Brightview",
    "Cornerstone",
    "Highland",
    "Liberty",
    "Mosaic",
    "Nova",
    "Orchard",
    "Parkside",
    "Quarry",
    "Skyline",
];
const TRADES: &[&str] = &[
    "Dental",
    "Law",
    "Logistics",
    "Accounting",
    "Health",
    "Manufacturing",
    "Realty",
    "Veterinary",
    "Insurance",
    "Architecture",
    "Construction",
    "Engineering",
    "Pharmacy",
    "Hospitality",
    "Retail",
    "Credit Union",
    "Consulting",
    "Marketing",
    "Printing",
    "Auto Repair",
    "Physical Therapy",
    "Orthodontics",
    "Design",
    "Freight",
    "Catering",
    "Brewing",
    "Landscaping",
    "Plumbing",
    "Electric",
    "School",
];
const PLACES: &[&str] = &[
    "Denver", "Austin", "Boise", "Tulsa", "Omaha", "Raleigh", "Tampa", "Fresno", "Spokane",
    "Madison", "Albany", "Dayton", "Reno", "Toledo", "Mesa", "Eugene", "Salem", "Provo", "Akron",
    "Macon", "Berlin", "Köln", "Oslo", "Leeds", "York", "Cork", "Lyon", "Graz", "Basel", "Delft",
];
const SUFFIXES: &[&str] = &[
    "LLC",
    "Inc.",
    "Group",
    "Partners",
    "Ltd",
    "& Co.",
    "Associates",
    "GmbH",
];
const BRANCHES: &[&str] = &[
    "North",
    "South",
    "East",
    "West",
    "Downtown",
    "Annex",
    "Clinic",
    "Warehouse",
    "Lab",
];

pub struct DemoSummary {
    pub organizations: usize,
    pub sub_organizations: usize,
    pub records: usize,
}

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// Picks from `ids` with the given weights (in percent); the rest go to the last one.
fn weighted(rng: &mut StdRng, ids: &[i64], weights: &[u32]) -> Option<i64> {
    let mut roll = rng.random_range(0..100u32);
    for (id, w) in ids.iter().zip(weights) {
        if roll < *w {
            return Some(*id);
        }
        roll -= w;
    }
    ids.last().copied()
}

fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphabetic()))
        .flat_map(char::to_uppercase)
        .take(4)
        .collect()
}

/// After a bulk load the planner needs fresh statistics (autovacuum would get there later), of
/// the search index too; on PostgreSQL the vacuum also moves the trigram indexes' pending lists
/// into the indexes (every search reads a pending list whole) and marks the pages all-visible.
fn refresh_statistics(conn: &mut DbConn) -> Result<(), DbError> {
    use diesel::connection::SimpleConnection;
    let sql = match conn.backend() {
        crate::db::Backend::Postgres => "VACUUM ANALYZE organizations, search_terms, search_values",
        crate::db::Backend::Sqlite => "ANALYZE",
    };
    conn.batch_execute(sql)?;
    Ok(())
}

/// Organizations per statement: a later statement's organizations may be children of an earlier
/// one's (whose ids are known by then). On SQLite each statement also adds a segment to the
/// trigram indexes (merged as they grow): the fewer, the less merging.
const ROWS_PER_STATEMENT: usize = 1_000;

/// One demo organization before it is written.
struct Planned {
    name: String,
    short_name: String,
    type_id: Option<i64>,
    status_id: Option<i64>,
    /// (id, name, depth) of its parent.
    parent: Option<(i64, String, u8)>,
}

/// What the demo draws from: the kinds, the names taken, and the organizations that may still
/// get children (written in an earlier insert, so their ids are known).
struct Draw {
    rng: StdRng,
    types: Vec<i64>,
    statuses: Vec<i64>,
    names: HashSet<String>,
    parents: Vec<(i64, String, u8)>,
}

impl Draw {
    fn plan(&mut self) -> Planned {
        let rng = &mut self.rng;
        let parent = (!self.parents.is_empty() && rng.random_range(0..100) < 20)
            .then(|| self.parents[rng.random_range(0..self.parents.len())].clone());
        let mut name = match &parent {
            Some((_, parent, _)) => format!("{parent} {}", pick(rng, BRANCHES)),
            None => format!(
                "{} {} {} ({})",
                pick(rng, PREFIXES),
                pick(rng, TRADES),
                pick(rng, SUFFIXES),
                pick(rng, PLACES)
            ),
        };
        if !self.names.insert(name.clone()) {
            name = format!("{name} {}", self.names.len());
            self.names.insert(name.clone());
        }
        Planned {
            short_name: format!("{}-{:05}", initials(&name), self.names.len()),
            type_id: weighted(rng, &self.types, &[70, 10, 10, 5, 5]),
            status_id: weighted(rng, &self.statuses, &[85, 15]),
            name,
            parent,
        }
    }
}

/// Adds `count` organizations through `bulk::insert`, a statement at a time (so that later ones
/// may be children of earlier ones), each with `records` records
/// spread over the five kinds (passwords encrypted with `key`), all in multi-row inserts. The
/// counts follow by their triggers, the search index by the bulk inserts' own index rows; no
/// similar-name check (that is for a person at the form).
pub fn seed(
    conn: &mut DbConn,
    count: usize,
    seed: u64,
    records: usize,
    key: &SecretKey,
) -> Result<DemoSummary, DbError> {
    let ids_of = |list: Vec<(i64, String, bool)>| list.into_iter().map(|(id, _, _)| id).collect();
    let mut draw = Draw {
        rng: StdRng::seed_from_u64(seed),
        types: ids_of(kinds::all(conn, Kind::Type)?),
        statuses: ids_of(kinds::all(conn, Kind::Status)?),
        names: HashSet::new(),
        parents: Vec::new(),
    };
    let subs = bulk::with_bulk_settings(conn, |conn| write(conn, &mut draw, count, records, key))?;
    refresh_statistics(conn)?;
    crate::search::index::optimize(conn)?;
    Ok(DemoSummary {
        organizations: count,
        sub_organizations: subs,
        records: count * records,
    })
}

/// Writes `count` organizations drawn from `draw`, `ROWS_PER_TRANSACTION` a transaction; returns
/// how many are sub-organizations.
fn write(
    conn: &mut DbConn,
    draw: &mut Draw,
    count: usize,
    records: usize,
    key: &SecretKey,
) -> Result<usize, DbError> {
    let asset_type = if records > 0 {
        demo_records::asset_type(conn)?
    } else {
        0
    };
    let mut subs = 0;
    let mut done = 0;
    while done < count {
        let in_transaction = (count - done).min(ROWS_PER_TRANSACTION);
        bulk::write(conn, |conn| {
            let mut written = 0;
            while written < in_transaction {
                let n = (in_transaction - written).min(ROWS_PER_STATEMENT);
                let planned: Vec<Planned> = (0..n).map(|_| draw.plan()).collect();
                let values: Vec<OrgValues<'_>> = planned
                    .iter()
                    .map(|p| OrgValues {
                        name: &p.name,
                        short_name: &p.short_name,
                        type_id: p.type_id,
                        status_id: p.status_id,
                        parent_id: p.parent.as_ref().map(|p| p.0),
                        description: "",
                        quick_notes: "",
                        alert: "",
                    })
                    .collect();
                let ids = bulk::insert(conn, &values, None)?;
                let mut batch = Vec::with_capacity(n * records);
                for (p, id) in planned.iter().zip(&ids) {
                    for k in 0..records {
                        batch.push(demo_records::plan(&mut draw.rng, *id, &p.short_name, k));
                    }
                }
                demo_records::insert(conn, key, asset_type, &batch)?;
                for (p, id) in planned.into_iter().zip(ids) {
                    let depth = p.parent.as_ref().map_or(0, |p| p.2 + 1);
                    subs += usize::from(p.parent.is_some());
                    if depth < 2 && p.name.len() < 80 {
                        draw.parents.push((id.0, p.name, depth));
                    }
                }
                written += n;
            }
            Ok::<_, DbError>(())
        })?;
        done += in_transaction;
    }
    Ok(subs)
}
