//! The Organizations list (B1, B2): search, filters, sorting, anchored pages and the counts above them.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::ctx::PageCtx;
use super::error::WebError;
use super::orgs::{Kinds, may_create};
use super::render;
use super::signed::Pending;
use super::state::AppState;
use crate::auth::{Action, allowed};
use crate::orgs::logos::LogoSize;
use crate::orgs::paging::{Anchor, MAX_SKIP};
use crate::orgs::store::{self, ListQuery, Sort};
use crate::orgs::{ListItem, OrgRef, Scope};

#[derive(Deserialize, Default)]
pub struct ListParams {
    q: Option<String>,
    #[serde(rename = "type")]
    type_id: Option<String>,
    status: Option<String>,
    psa: Option<String>,
    parent: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    after: Option<String>,
    before: Option<String>,
    skip: Option<String>,
}

fn id_param(name: &str, value: Option<&str>) -> Result<Option<i64>, WebError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| WebError::BadRequest(format!("{name} must be one of the listed values"))),
    }
}

impl ListParams {
    /// The row a page link starts from, if it names one.
    fn anchor(&self) -> Result<Option<Anchor>, WebError> {
        let skip = id_param("skip", self.skip.as_deref())?.unwrap_or(0);
        if !(0..=MAX_SKIP).contains(&skip) {
            return Err(WebError::BadRequest(format!(
                "skip must be a number from 0 to {MAX_SKIP}"
            )));
        }
        Ok(
            match (
                id_param("after", self.after.as_deref())?,
                id_param("before", self.before.as_deref())?,
            ) {
                (Some(id), _) => Some(Anchor::After { id, skip }),
                (None, Some(id)) => Some(Anchor::Before { id, skip }),
                (None, None) => None,
            },
        )
    }

    fn query(&self, per_page: i64) -> Result<ListQuery, WebError> {
        let sort = match self.sort.as_deref().filter(|s| !s.is_empty()) {
            None => Sort::default(),
            Some(s) => Sort::parse(s)
                .ok_or_else(|| WebError::BadRequest("this sort order is not offered".into()))?,
        };
        let psa_linked = match self.psa.as_deref() {
            None | Some("") => None,
            Some("linked") => Some(true),
            Some("unlinked") => Some(false),
            Some(_) => {
                return Err(WebError::BadRequest(
                    "the PSA filter is linked or unlinked".into(),
                ));
            }
        };
        let page = match self.page.as_deref().filter(|p| !p.is_empty()) {
            None => 1,
            Some(p) => p
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| WebError::BadRequest("page must be a number from 1".into()))?,
        };
        Ok(ListQuery {
            text: self.q.clone().filter(|q| !q.trim().is_empty()),
            type_id: id_param("type", self.type_id.as_deref())?,
            status_id: id_param("status", self.status.as_deref())?,
            psa_linked,
            parent: id_param("parent", self.parent.as_deref())?,
            sort,
            page,
            per_page,
            anchor: self.anchor()?,
        })
    }
}

struct ListRow {
    org: ListItem,
    logo: Option<LogoSize>,
    type_name: String,
    status_name: String,
    parent: Option<OrgRef>,
    updated: String,
}

#[derive(Template)]
#[template(path = "orgs/list.html")]
struct ListPage {
    ctx: PageCtx,
    q: String,
    type_id: Option<i64>,
    status_id: Option<i64>,
    psa: String,
    sort: &'static str,
    sorts: [(Sort, &'static str, &'static str); 4],
    parent: Option<OrgRef>,
    kinds: Kinds,
    rows: Vec<ListRow>,
    /// How many organizations match, or when `capped` how many they are more than.
    total: i64,
    capped: bool,
    page: i64,
    /// The last page, or when `capped` the last page counted.
    last_page: i64,
    per_page: i64,
    /// Whether a page follows this one.
    next: bool,
    /// The current filters as a query string, without the page.
    filters: String,
    can_create: bool,
    can_bulk_delete: bool,
    filtered: bool,
}

impl ListPage {
    /// The link to page `page`: anchored at this page's last row (pages behind it) or first row
    /// (pages in front), so that it is read from there by the sort key (see `orgs::paging`).
    fn page_url(&self, page: impl std::borrow::Borrow<i64>) -> String {
        let page = *page.borrow();
        let mut url = if self.filters.is_empty() {
            format!("/organizations?page={page}")
        } else {
            format!("/organizations?{}&page={page}", self.filters)
        };
        if page == 1 || (page == self.last_page && !self.capped) {
            return url;
        }
        let (anchor, id, between) = match (self.rows.first(), self.rows.last()) {
            (_, Some(last)) if page > self.page => ("after", last.org.id, page - self.page - 1),
            (Some(first), _) if page < self.page => ("before", first.org.id, self.page - page - 1),
            _ => return url,
        };
        url.push_str(&format!("&{anchor}={id}"));
        if between > 0 {
            url.push_str(&format!("&skip={}", between * self.per_page));
        }
        url
    }

    fn is_type(&self, id: &i64) -> bool {
        self.type_id == Some(*id)
    }

    fn is_status(&self, id: &i64) -> bool {
        self.status_id == Some(*id)
    }

    /// The pages to link around the current one (with a capped count: those known to exist,
    /// every page up to one past the counted ones, and the next one).
    fn window(&self) -> Vec<i64> {
        let from = (self.page - 2).max(1);
        let last = match (self.capped, self.next) {
            (false, _) => self.last_page,
            (true, false) => self.page,
            (true, true) => (self.last_page + 1).max(self.page + 1),
        };
        let to = (self.page + 2).min(last);
        (from..=to).collect()
    }

    /// The capped count, written with thousands separators ("1,000").
    fn capped_total(&self) -> String {
        let digits = self.total.to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    }
}

fn filters_query(query: &ListQuery) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(q) = &query.text {
        pairs.push(("q", q.clone()));
    }
    if let Some(id) = query.type_id {
        pairs.push(("type", id.to_string()));
    }
    if let Some(id) = query.status_id {
        pairs.push(("status", id.to_string()));
    }
    if let Some(linked) = query.psa_linked {
        pairs.push(("psa", if linked { "linked" } else { "unlinked" }.to_owned()));
    }
    if let Some(id) = query.parent {
        pairs.push(("parent", id.to_string()));
    }
    if query.sort != Sort::default() {
        pairs.push(("sort", query.sort.key().to_owned()));
    }
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

pub async fn list(
    state: web::Data<AppState>,
    signed: Pending,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, WebError> {
    let params = params.into_inner();
    let psa = params.psa.clone().unwrap_or_default();
    let per_page = state.settings.list_page_size;
    let cache = state.kinds.clone();
    let lists = state.lists.clone();
    // The session check, then the parameters (a bad one is answered only to a signed-in user),
    // then the page's reads: one closure on one pooled connection.
    let (ctx, user, (query, found, parents, kinds, parent)) = state
        .db_signed_in(signed, move |conn, user| {
            let q = params.query(per_page)?;
            let scope = Scope::of(user);
            let found = store::list(conn, &lists, scope, &q)?;
            let parents = store::parents_of(conn, scope, &found.items, q.parent)?;
            let parent = q
                .parent
                .and_then(|id| parents.iter().find(|p| p.id == id).cloned());
            let kinds = Kinds::load(conn, &cache)?;
            Ok((q, found, parents, kinds, parent))
        })
        .await?;
    if query.text.is_some() {
        state.refresh_name_blocks();
    }
    let (total, capped, page, last_page, per_page, next) = (
        found.total,
        found.capped,
        found.page,
        found.last_page(),
        found.per_page,
        found.next,
    );
    let rows = found
        .items
        .into_iter()
        .map(|org| ListRow {
            type_name: Kinds::name(&kinds.types, org.type_id),
            status_name: Kinds::name(&kinds.statuses, org.status_id),
            parent: org
                .parent_id
                .and_then(|id| parents.iter().find(|p| p.id == id).cloned()),
            updated: store::updated_label(org.updated_at),
            logo: org.logo(),
            org,
        })
        .collect();
    let filters = filters_query(&query);
    render::page(&ListPage {
        ctx,
        q: query.text.clone().unwrap_or_default(),
        type_id: query.type_id,
        status_id: query.status_id,
        psa,
        sort: query.sort.key(),
        sorts: Sort::ALL,
        parent,
        kinds,
        rows,
        total,
        capped,
        page,
        last_page,
        per_page,
        next,
        filtered: query.text.is_some()
            || query.type_id.is_some()
            || query.status_id.is_some()
            || query.psa_linked.is_some()
            || query.parent.is_some(),
        filters,
        can_create: may_create(&user),
        can_bulk_delete: allowed(user.role, Action::ManageData),
    })
}
