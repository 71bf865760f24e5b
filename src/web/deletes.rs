//! Deleting organizations (B7, B8): the confirmation pages, the delete and bulk delete, Restore,
//! Disable sync, and the page of a deleted organization with the purge's progress.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::csrf_form::{CsrfForm, NoFields};
use super::ctx::{CurrentUser, PageCtx};
use super::error::WebError;
use super::flash::{self, Flash};
use super::render;
use super::state::AppState;
use crate::auth::{Action, User, allowed};
use crate::db::DbError;
use crate::jobs::State;
use crate::orgs::delete::{self, Deletion, Plan, Requested};
use crate::orgs::{OrgError, OrgId, Scope};

/// "15 minutes", "30 seconds", "at once".
pub fn grace_label(grace: Duration) -> String {
    let secs = grace.as_secs();
    let (n, unit) = match secs {
        0 => return "at once".to_owned(),
        s if s % 3600 == 0 => (s / 3600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

fn subs_phrase(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => " and its sub-organization".to_owned(),
        n => format!(" and its {n} sub-organizations"),
    }
}

fn their(subs: usize) -> &'static str {
    if subs == 0 { "its" } else { "their" }
}

// ----- one organization -----

#[derive(Template)]
#[template(path = "orgs/delete.html")]
struct ConfirmPage {
    ctx: PageCtx,
    plan: Plan,
    refusal: Option<String>,
    typed: String,
    error: Option<String>,
    grace: String,
}

fn refusal_text(plan: &Plan) -> Option<String> {
    delete::refusal(plan).map(|e| match e {
        OrgError::Conflict(m) | OrgError::Forbidden(m) => m,
        other => other.to_string(),
    })
}

pub async fn confirm(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let (scope, id) = (Scope::of(&user), OrgId(*id));
    let plan = state.db(move |conn| delete::plan(conn, scope, id)).await?;
    render::page(&ConfirmPage {
        ctx,
        refusal: refusal_text(&plan),
        plan,
        typed: String::new(),
        error: None,
        grace: grace_label(state.settings.jobs.delete_grace),
    })
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm_name: String,
    /// The checkbox "bring it back at the next data load" (sent only when ticked).
    #[serde(default)]
    bring_back: Option<String>,
}

/// Where to go after a delete, and what to say there.
fn after_delete(state: &AppState, user: &User, done: &Requested) -> HttpResponse {
    let progress = format!("/organizations/{}", done.root.id);
    let name = &done.root.name;
    let what = format!(
        "{name}{} with all {} data",
        subs_phrase(done.subs),
        their(done.subs)
    );
    let until = done.purge_at.format("%H:%M UTC");
    let flash = if done.already {
        Flash::info(format!("{name} is already deleted.")).with_link("See progress", progress)
    } else if state.settings.jobs.delete_grace.is_zero() {
        Flash::success(format!(
            "{name}{} {} being deleted, with all {} data. It may take a few moments.",
            subs_phrase(done.subs),
            if done.subs == 0 { "is" } else { "are" },
            their(done.subs)
        ))
        .with_link("See progress", progress)
    } else if allowed(user.role, Action::ManageData) {
        Flash::success(format!("Deleted {what}. You can restore it until {until}.")).with_post(
            "Restore",
            format!("/organizations/{}/restore", done.root.id),
        )
    } else {
        Flash::success(format!(
            "Deleted {what}. A Manager or Administrator can restore it until {until}."
        ))
    };
    flash::see_other_with("/organizations", &flash, &state.settings.session_key)
}

pub async fn delete(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> Result<HttpResponse, WebError> {
    let (id, grace, actor) = (OrgId(*id), state.settings.jobs.delete_grace, user.clone());
    let (typed, bring_back) = (form.confirm_name.clone(), form.bring_back.is_some());
    let result = state
        .db(move |conn| {
            let confirmed = delete::Confirmed {
                typed: &typed,
                bring_back,
            };
            delete::request(conn, &actor, id, confirmed, grace)
        })
        .await;
    match result {
        Ok(done) => {
            if grace.is_zero() {
                state.jobs.wake();
            }
            Ok(after_delete(&state, &user, &done))
        }
        Err(OrgError::Invalid(problem)) => {
            let scope = Scope::of(&user);
            let plan = state.db(move |conn| delete::plan(conn, scope, id)).await?;
            render::invalid(&ConfirmPage {
                ctx,
                refusal: refusal_text(&plan),
                plan,
                typed: form.confirm_name,
                error: problem.errors.get("confirm_name").map(str::to_owned),
                grace: grace_label(grace),
            })
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn restore(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let id = OrgId(*id);
    let (root, count) = state
        .db(move |conn| delete::restore(conn, &user, id))
        .await?;
    let message = format!(
        "Restored {}{}.",
        root.name,
        subs_phrase(count.saturating_sub(1))
    );
    Ok(flash::see_other_with(
        &format!("/organizations/{}", root.id),
        &Flash::success(message),
        &state.settings.session_key,
    ))
}

pub async fn disable_sync(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let id = OrgId(*id);
    let org = state
        .db(move |conn| delete::disable_sync(conn, &user, id))
        .await?;
    Ok(flash::see_other_with(
        &format!("/organizations/{}/edit#psa", org.id),
        &Flash::success(format!(
            "Sync is disabled for {}. The PSA was not changed, and data loads leave its company alone (PSA settings list it, with Include again); the organization can now be deleted.",
            org.name
        )),
        &state.settings.session_key,
    ))
}

// ----- the page of a deleted organization -----

#[derive(Template)]
#[template(path = "orgs/deletion.html")]
struct DeletionPage {
    ctx: PageCtx,
    deletion: Deletion,
    can_restore: bool,
    /// The user sees every organization of the deletion (else the page names only his).
    whole: bool,
    /// The organization's audit trail, kept after the purge.
    history: Vec<crate::audit::Event>,
}

impl DeletionPage {
    fn waiting(&self) -> bool {
        self.deletion.state() == State::Queued
    }

    fn running(&self) -> bool {
        self.deletion.state() == State::Running
    }

    fn finished(&self) -> bool {
        self.deletion.state() == State::Done
    }

    fn purge_at(&self) -> String {
        self.deletion
            .job
            .run_after
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string()
    }

    fn deleted_at(&self) -> String {
        self.deletion
            .job
            .created_at
            .format("%Y-%m-%d %H:%M UTC")
            .to_string()
    }
}

/// The page of an organization that is deleted: its purge's progress while it waits or runs
/// (updating by itself), then "deleted" (410). `None` when there is no such deletion to show.
pub async fn deletion_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    user: &User,
    id: OrgId,
) -> Result<Option<HttpResponse>, WebError> {
    let scope = Scope::of(user);
    let found = state
        .db(move |conn| {
            let Some(deletion) = delete::status(conn, scope, id)? else {
                return Ok::<_, DbError>(None);
            };
            // Its history names what was deleted: only for whom sees all of it.
            let history = if deletion.whole {
                crate::orgs::access::history(conn, scope, deletion.payload.root, 20)?
            } else {
                Vec::new()
            };
            Ok(Some((deletion, history)))
        })
        .await?;
    let Some((deletion, history)) = found else {
        return Ok(None);
    };
    let status = if deletion.state() == State::Done {
        StatusCode::GONE
    } else {
        StatusCode::OK
    };
    let page = DeletionPage {
        ctx,
        can_restore: allowed(user.role, Action::ManageData) && deletion.restorable(),
        whole: deletion.whole,
        deletion,
        history,
    };
    render::render(status, &page).map(Some)
}

// ----- bulk delete -----

/// The ids of the selected organizations (`ids=1&ids=2`, as check boxes send them).
fn selected(pairs: &[(String, String)]) -> Result<Vec<i64>, WebError> {
    let mut ids = Vec::new();
    for (key, value) in pairs.iter().filter(|(k, _)| k == "ids") {
        let id = value
            .trim()
            .parse::<i64>()
            .map_err(|_| WebError::BadRequest(format!("{key} must be organization numbers")))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.len() > BULK_MAX {
        return Err(WebError::BadRequest(format!(
            "Select at most {BULK_MAX} organizations at a time."
        )));
    }
    Ok(ids)
}

/// The most organizations one bulk delete takes (two pages of the list).
const BULK_MAX: usize = 100;

/// What the bulk form asks to be typed.
const BULK_WORD: &str = "DELETE";

#[derive(Template)]
#[template(path = "orgs/bulk_delete.html")]
struct BulkPage {
    ctx: PageCtx,
    plans: Vec<(Plan, Option<String>)>,
    error: Option<String>,
    grace: String,
    word: &'static str,
}

impl BulkPage {
    fn deletable(&self) -> usize {
        self.plans.iter().filter(|(_, r)| r.is_none()).count()
    }
}

async fn bulk_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    user: &User,
    ids: Vec<i64>,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let scope = Scope::of(user);
    let plans = state
        .db(move |conn| delete::plans(conn, scope, &ids).map_err(DbError::from))
        .await?;
    let plans = plans
        .into_iter()
        .map(|p| {
            let refusal = refusal_text(&p);
            (p, refusal)
        })
        .collect();
    let page = BulkPage {
        ctx,
        plans,
        grace: grace_label(state.settings.jobs.delete_grace),
        word: BULK_WORD,
        error,
    };
    render::form(&page, page.error.is_some())
}

fn nothing_selected(state: &AppState) -> HttpResponse {
    flash::see_other_with(
        "/organizations",
        &Flash::error("Select the organizations to delete first."),
        &state.settings.session_key,
    )
}

pub async fn bulk_confirm(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    CurrentUser(user): CurrentUser,
) -> Result<HttpResponse, WebError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| WebError::BadRequest("the selection could not be read".into()))?;
    let ids = selected(&pairs)?;
    if ids.is_empty() {
        return Ok(nothing_selected(&state));
    }
    bulk_page(&state, ctx, &user, ids, None).await
}

pub async fn bulk_delete(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let ids = selected(&pairs)?;
    if ids.is_empty() {
        return Ok(nothing_selected(&state));
    }
    let typed = pairs
        .iter()
        .find(|(k, _)| k == "confirm")
        .map(|(_, v)| v.trim())
        .unwrap_or_default();
    if typed != BULK_WORD {
        let error = format!("Type {BULK_WORD} in capitals to confirm.");
        return bulk_page(&state, ctx, &user, ids, Some(error)).await;
    }
    let (grace, actor) = (state.settings.jobs.delete_grace, user.clone());
    let bulk = state
        .db(move |conn| delete::request_many(conn, &actor, &ids, grace))
        .await?;
    if grace.is_zero() {
        state.jobs.wake();
    }
    let mut message = match bulk.deleted.len() {
        0 => "Nothing was deleted.".to_owned(),
        1 => "Deleted 1 organization with its sub-organizations and data.".to_owned(),
        n => format!("Deleted {n} organizations with their sub-organizations and data."),
    };
    if !bulk.skipped.is_empty() {
        let names: Vec<String> = bulk
            .skipped
            .iter()
            .map(|(o, why)| format!("{} ({why})", o.name))
            .collect();
        message.push_str(&format!(" Skipped: {}", names.join("; ")));
    }
    if !bulk.deleted.is_empty() && !grace.is_zero() {
        message.push_str(" Restore them from Manage Data until their purge starts.");
    }
    let flash = if bulk.deleted.is_empty() {
        Flash::error(message)
    } else {
        Flash::success(message).with_link("Manage Data", "/manage-data".to_owned())
    };
    Ok(flash::see_other_with(
        "/organizations",
        &flash,
        &state.settings.session_key,
    ))
}

// ----- Manage Data -----

#[derive(Template)]
#[template(path = "manage/index.html")]
struct ManagePage {
    ctx: PageCtx,
    deletions: Vec<Deletion>,
    grace: String,
    groups: Vec<crate::psa::orphans::Group>,
    orphans: Vec<crate::psa::orphans::Orphan>,
}

/// How far back Manage Data lists deletions.
const RECENT_DAYS: i64 = 7;

pub async fn manage_data(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
) -> Result<HttpResponse, WebError> {
    let scope = Scope::of(&user);
    let (deletions, groups, orphans) = state
        .db(move |conn| {
            Ok::<_, DbError>((
                delete::recent(conn, scope, RECENT_DAYS, 200)?,
                crate::psa::orphans::synced_groups(conn, scope)?,
                crate::psa::orphans::orphans(conn, scope)?,
            ))
        })
        .await?;
    render::page(&ManagePage {
        ctx,
        deletions,
        grace: grace_label(state.settings.jobs.delete_grace),
        groups,
        orphans,
    })
}
