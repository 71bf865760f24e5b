//! The global search: `GET /search` (results grouped by kind, "more" per kind, filters by kind
//! and organization) and `GET /search/suggest` (the first hits of each kind, as JSON, for the box
//! in the top bar). Both find only what the user's organization access lets him see.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::ctx::{CurrentUser, PageCtx};
use super::error::WebError;
use super::render;
use super::signed::Pending;
use super::state::AppState;
use crate::db::{DbConn, DbError};
use crate::orgs::{OrgId, OrgRef, Scope, store as orgs};
use crate::search::Group;
use crate::search::find::{self, Filter, Found, Hit};
use crate::search::mark::Marked;
use crate::search::query::Query;

/// Hits per kind on the first page of results, and in suggestions.
const FIRST: i64 = 5;
/// Hits per page when one kind is shown alone.
const PAGE: i64 = 25;
/// The deepest page offered (pages past it are better found by typing more).
const MAX_PAGE: i64 = 40;

#[derive(Deserialize, Default)]
pub struct SearchParams {
    q: Option<String>,
    kind: Option<String>,
    org: Option<String>,
    page: Option<String>,
}

fn number(name: &str, value: Option<&str>) -> Result<Option<i64>, WebError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| WebError::BadRequest(format!("{name} must be a number"))),
    }
}

impl SearchParams {
    fn filter(&self) -> Result<Filter, WebError> {
        let group = match self
            .kind
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
        {
            None => None,
            Some(k) => Some(Group::parse(k).ok_or_else(|| {
                WebError::BadRequest(format!(
                    "kind must be one of: {}",
                    Group::ALL.map(Group::slug).join(", ")
                ))
            })?),
        };
        Ok(Filter {
            group,
            organization: number("org", self.org.as_deref())?,
        })
    }

    fn page(&self) -> Result<i64, WebError> {
        let page = number("page", self.page.as_deref())?.unwrap_or(1);
        if (1..=MAX_PAGE).contains(&page) {
            Ok(page)
        } else {
            Err(WebError::BadRequest(format!(
                "page must be from 1 to {MAX_PAGE}"
            )))
        }
    }
}

/// A link to the results with these narrowings.
fn link(typed: &str, group: Option<Group>, org: Option<i64>, page: i64) -> String {
    let mut pairs: Vec<(&str, String)> = vec![("q", typed.to_owned())];
    if let Some(g) = group {
        pairs.push(("kind", g.slug().to_owned()));
    }
    if let Some(o) = org {
        pairs.push(("org", o.to_string()));
    }
    if page > 1 {
        pairs.push(("page", page.to_string()));
    }
    format!(
        "/search?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

pub struct GroupView {
    pub group: Group,
    /// How many, "1,000+" when capped.
    pub count: String,
    pub hits: Vec<Hit>,
    /// "More" (the first page of this kind alone) when there are more than shown.
    pub more: Option<String>,
}

#[derive(Template)]
#[template(path = "search/results.html")]
struct ResultsPage {
    ctx: PageCtx,
    typed: String,
    filter: Filter,
    org: Option<OrgRef>,
    groups: Vec<GroupView>,
    total: i64,
    /// More than `find::COUNTED` matches: `total` is that many, each count a lower bound.
    capped: bool,
    page: i64,
    previous: Option<String>,
    next: Option<String>,
    /// Links to each kind alone (with its count), and back to all kinds.
    kind_links: Vec<(Group, String, String)>,
    all_kinds: String,
    all_orgs: String,
}

/// `n` with thousands separated, and a "+" when it is a lower bound.
fn shown_count(n: i64, capped: bool) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if capped {
        out.push('+');
    }
    out
}

impl ResultsPage {
    fn counted(&self) -> String {
        shown_count(i64::try_from(find::COUNTED).unwrap_or(i64::MAX), false)
    }

    fn org_link(&self, org: &i64) -> String {
        link(&self.typed, self.filter.group, Some(*org), 1)
    }
}

/// One search on a pooled connection: the hits, and the organization filtered on (404 if hidden).
fn search_on(
    conn: &mut DbConn,
    scope: Scope,
    query: &Query,
    filter: Filter,
    limit: i64,
    offset: i64,
) -> Result<(Found, Option<OrgRef>), WebError> {
    let org = match filter.organization {
        None => None,
        Some(id) => match orgs::find(conn, scope, OrgId(id)).map_err(DbError::from)? {
            Some(o) => Some(o.to_ref()),
            None => return Err(WebError::NotFound),
        },
    };
    let found = find::search(conn, scope, query, filter, limit, offset).map_err(DbError::from)?;
    Ok((found, org))
}

/// Runs one search on the blocking pool (see `search_on`).
async fn run(
    state: &web::Data<AppState>,
    scope: Scope,
    query: Query,
    filter: Filter,
    limit: i64,
    offset: i64,
) -> Result<(Found, Option<OrgRef>), WebError> {
    state
        .db(move |conn| search_on(conn, scope, &query, filter, limit, offset))
        .await
}

pub async fn page(
    state: web::Data<AppState>,
    signed: Pending,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, WebError> {
    let params = params.into_inner();
    // The session check and the search: one closure on one pooled connection.
    let (ctx, _, (filter, page, typed, found, org)) = state
        .db_signed_in(signed, move |conn, user| {
            let filter = params.filter()?;
            let page = params.page()?;
            let typed = params.q.clone().unwrap_or_default();
            let (limit, offset) = match filter.group {
                Some(_) => (PAGE, (page - 1) * PAGE),
                None => (FIRST, 0),
            };
            let (found, org) = match Query::parse(&typed) {
                None => (Found::default(), None),
                Some(query) => search_on(conn, Scope::of(user), &query, filter, limit, offset)?,
            };
            Ok((filter, page, typed, found, org))
        })
        .await?;
    let typed = typed.trim().to_owned();
    let kind_links = found
        .counts
        .iter()
        .map(|(g, n)| {
            let url = link(&typed, Some(*g), filter.organization, 1);
            (*g, shown_count(*n, found.capped), url)
        })
        .collect();
    let groups: Vec<GroupView> = found
        .counts
        .iter()
        .filter(|(g, _)| filter.group.is_none_or(|f| f == *g))
        .map(|(group, count)| GroupView {
            group: *group,
            count: shown_count(*count, found.capped),
            hits: found
                .hits
                .iter()
                .filter(|h| h.group == *group)
                .cloned()
                .collect(),
            more: (filter.group.is_none() && *count > FIRST)
                .then(|| link(&typed, Some(*group), filter.organization, 1)),
        })
        .collect();
    let total = found
        .counts
        .iter()
        .filter(|(g, _)| filter.group.is_none_or(|f| f == *g))
        .map(|(_, n)| n)
        .sum();
    let shown_to = page * PAGE;
    let alone = filter.group.map_or(0, |_| total);
    render::page(&ResultsPage {
        previous: (filter.group.is_some() && page > 1)
            .then(|| link(&typed, filter.group, filter.organization, page - 1)),
        next: (alone > shown_to && page < MAX_PAGE)
            .then(|| link(&typed, filter.group, filter.organization, page + 1)),
        all_kinds: link(&typed, None, filter.organization, 1),
        all_orgs: link(&typed, filter.group, None, 1),
        ctx,
        typed,
        filter,
        org,
        groups,
        total,
        capped: found.capped,
        page,
        kind_links,
    })
}

/// One suggestion in the box's list.
#[derive(Serialize)]
struct Suggestion {
    kind: &'static str,
    kind_title: &'static str,
    url: String,
    organization: String,
    title: Marked,
    excerpt: Option<Marked>,
}

#[derive(Serialize)]
struct Suggestions {
    query: String,
    /// Where all results are.
    all: String,
    hits: Vec<Suggestion>,
}

pub async fn suggest(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, WebError> {
    let typed = params.q.as_deref().unwrap_or_default().trim().to_owned();
    let hits = match Query::parse(&typed) {
        None => Vec::new(),
        Some(query) => {
            let (found, _) =
                run(&state, Scope::of(&user), query, Filter::default(), FIRST, 0).await?;
            found.hits
        }
    };
    let body = Suggestions {
        all: link(&typed, None, None, 1),
        query: typed,
        hits: hits
            .into_iter()
            .map(|h| Suggestion {
                kind: h.group.slug(),
                kind_title: h.group.title(),
                url: h.path(),
                organization: h.organization,
                title: h.title,
                excerpt: h.excerpt,
            })
            .collect(),
    };
    let json = serde_json::to_string(&body)
        .map_err(|e| WebError::Internal(anyhow::anyhow!("suggestions as JSON: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "no-store"))
        .body(json))
}
