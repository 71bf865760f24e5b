//! The Organizations pages (B2, B6): + New and Edit, an organization's page, and the small lookup
//! that the choosers use (the list is in `org_list`).

use actix_multipart::form::MultipartForm;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::ctx::{CurrentUser, PageCtx};
use super::error::WebError;
use super::flash::{self, Flash};
use super::render;
use super::signed::Pending;
use super::state::AppState;
use super::upload::{self, LogoRequest, OrgUpload};
use crate::audit::Event;
use crate::auth::{Action, User, allowed};
use crate::db::DbError;
use crate::orgs::kinds::KindsCache;
use crate::orgs::logos::{self, LogoSize};
use crate::orgs::model::OrgInput;
use crate::orgs::store;
use crate::orgs::{FormProblem, OrgError, OrgForm, OrgId, OrgRef, OrgRow, Scope, create, tree};
use crate::psa::push::{self, Pushed};
use crate::psa::settings::PsaSettings;
use crate::validation::FieldErrors;

impl From<OrgError> for WebError {
    fn from(e: OrgError) -> Self {
        match e {
            OrgError::Invalid(_) | OrgError::LooksLike(_) => {
                WebError::BadRequest("the form has errors".into())
            }
            OrgError::Conflict(m) => WebError::Conflict(m),
            OrgError::Forbidden(m) => WebError::Forbidden(m),
            OrgError::NotFound => WebError::NotFound,
            OrgError::Db(e) => e.into(),
        }
    }
}

/// Types and statuses, for drop-downs and for naming them in lists.
#[derive(Clone, Default)]
pub(super) struct Kinds {
    pub(super) types: Vec<(i64, String, bool)>,
    pub(super) statuses: Vec<(i64, String, bool)>,
}

impl Kinds {
    /// From the process's cache (`KindsCache`: no statement unless they changed).
    pub(super) fn load(conn: &mut crate::db::DbConn, cache: &KindsCache) -> Result<Self, DbError> {
        let lists = cache.lists(conn)?;
        Ok(Self {
            types: lists.types.clone(),
            statuses: lists.statuses.clone(),
        })
    }

    pub(super) fn name(list: &[(i64, String, bool)], id: Option<i64>) -> String {
        id.and_then(|id| list.iter().find(|(k, _, _)| *k == id))
            .map_or_else(String::new, |(_, n, _)| n.clone())
    }
}

pub(super) fn may_create(user: &User) -> bool {
    allowed(user.role, Action::CreateOrganizations) && user.all_organizations
}

// ----- the lookup used by the choosers -----

#[derive(Deserialize)]
pub struct LookupParams {
    #[serde(default)]
    q: String,
}

/// Up to ten organizations (within the user's access) whose name or short name contains `q`.
pub async fn lookup(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    params: web::Query<LookupParams>,
) -> Result<HttpResponse, WebError> {
    let text = params.q.trim().to_owned();
    if text.chars().count() < 2 {
        return Ok(HttpResponse::Ok().json(Vec::<OrgRef>::new()));
    }
    let scope = Scope::of(&user);
    let lists = state.lists.clone();
    let found = state
        .db(move |conn| store::lookup(conn, &lists, scope, &text, 10).map_err(DbError::from))
        .await?;
    Ok(HttpResponse::Ok().json(found))
}

// ----- + New and Edit -----

#[derive(Template)]
#[template(path = "orgs/form.html")]
struct FormPage {
    ctx: PageCtx,
    editing: Option<i64>,
    /// The current logo's size, when editing an organization that has one.
    logo: Option<LogoSize>,
    form: OrgForm,
    errors: FieldErrors,
    similar: Vec<OrgRef>,
    parent_candidates: Vec<OrgRef>,
    kinds: Kinds,
    /// Editing: the PSA section at the bottom of the page.
    psa: Option<PsaSection>,
    /// One-way sync: the PSA (the New form says where syncing organizations belong).
    one_way: Option<&'static str>,
}

/// The bottom of the Edit page: the PSA link, Disable sync and Delete Organization.
struct PsaSection {
    /// The PSA this organization syncs with (then it cannot be deleted until sync is disabled).
    syncs_with: Option<&'static str>,
    company: String,
    can_delete: bool,
    /// Why it is an orphan, if it is.
    orphan: Option<String>,
    /// The PSA that owns name, short name, type and status (one-way sync of a linked organization).
    locked_by: Option<&'static str>,
}

impl PsaSection {
    fn of(org: &OrgRow, user: &User, saved: Option<&PsaSettings>) -> Self {
        Self {
            locked_by: crate::psa::settings::owner_of(saved, org),
            syncs_with: org.syncs_with(),
            company: org.psa_company_id.clone().unwrap_or_default(),
            can_delete: allowed(user.role, Action::DeleteOne),
            orphan: org
                .orphaned_at
                .map(|_| org.orphan_reason.clone().unwrap_or_default()),
        }
    }
}

impl FormPage {
    fn locked_by(&self) -> Option<&'static str> {
        self.psa.as_ref().and_then(|p| p.locked_by)
    }

    fn action(&self) -> String {
        self.editing.map_or_else(
            || "/organizations".to_owned(),
            |id| format!("/organizations/{id}"),
        )
    }

    fn chosen(&self, list: &str, id: &i64) -> bool {
        list.trim() == id.to_string()
    }
}

/// The PSA settings, if the PSA is set up.
async fn psa_settings(state: &web::Data<AppState>) -> Result<Option<PsaSettings>, WebError> {
    Ok(state
        .db(|conn| crate::psa::settings::load(conn).map_err(DbError::from))
        .await?)
}

/// Under one-way sync, the PSA (the New form says where syncing organizations belong).
fn one_way(saved: Option<&PsaSettings>) -> Option<&'static str> {
    saved.filter(|s| !s.two_way()).map(|s| s.kind.label())
}

async fn load_kinds(state: &web::Data<AppState>) -> Result<Kinds, WebError> {
    let cache = state.kinds.clone();
    Ok(state.db(move |conn| Kinds::load(conn, &cache)).await?)
}

pub async fn new_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
) -> Result<HttpResponse, WebError> {
    if !may_create(&user) {
        return Err(WebError::Forbidden(
            "Only users with access to all organizations can create organizations.".into(),
        ));
    }
    let kinds = load_kinds(&state).await?;
    let saved = psa_settings(&state).await?;
    render::page(&FormPage {
        ctx,
        one_way: one_way(saved.as_ref()),
        editing: None,
        logo: None,
        form: OrgForm::default(),
        errors: FieldErrors::default(),
        similar: vec![],
        parent_candidates: vec![],
        kinds,
        psa: None,
    })
}

/// The form again, as typed, with what is wrong (or what looks like a duplicate).
async fn form_again(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    psa: Option<PsaSection>,
    editing: Option<i64>,
    form: OrgForm,
    error: OrgError,
    logo_chosen: bool,
) -> Result<HttpResponse, WebError> {
    let ids: Vec<i64> = editing.into_iter().collect();
    let cache = state.kinds.clone();
    let (kinds, sizes) = state
        .db(move |conn| Ok::<_, DbError>((Kinds::load(conn, &cache)?, logos::sizes(conn, &ids)?)))
        .await?;
    let saved = psa_settings(state).await?;
    let mut page = FormPage {
        ctx,
        one_way: one_way(saved.as_ref()),
        editing,
        logo: sizes.first().copied(),
        form,
        errors: FieldErrors::default(),
        similar: vec![],
        parent_candidates: vec![],
        kinds,
        psa,
    };
    let status = match error {
        OrgError::Invalid(FormProblem {
            errors,
            parent_candidates,
        }) => {
            page.errors = errors;
            page.parent_candidates = parent_candidates;
            StatusCode::UNPROCESSABLE_ENTITY
        }
        OrgError::LooksLike(similar) => {
            page.similar = similar;
            StatusCode::CONFLICT
        }
        other => return Err(other.into()),
    };
    if logo_chosen {
        page.errors.add("logo", "Choose the logo file again: a browser does not keep a chosen file when a form comes back.");
    }
    render::render(status, &page)
}

/// Two-way sync: the PSA gets the new or changed organization (within the request, briefly).
async fn push(state: &web::Data<AppState>, id: OrgId, created: bool) -> Result<Pushed, WebError> {
    let pool = state.pool.clone();
    let access = crate::psa::PsaAccess::of(&state.settings);
    let pushed = web::block(move || push::after_save(&pool, &access, id, created))
        .await
        .map_err(|_| WebError::from(DbError::Cancelled))??;
    if matches!(pushed, Pushed::Waiting { .. }) {
        state.jobs.wake();
    }
    Ok(pushed)
}

fn saved(state: &AppState, id: OrgId, name: &str, verb: &str, pushed: Pushed) -> HttpResponse {
    let flash = match pushed {
        Pushed::Nothing => Flash::success(format!("{name} was {verb}.")),
        Pushed::Created { psa, company } => Flash::success(format!(
            "{name} was {verb}, and added to {psa} (company {company})."
        )),
        Pushed::Updated { psa } => {
            Flash::success(format!("{name} was {verb}; {psa} has the change too."))
        }
        Pushed::Waiting { psa, reason } => Flash::info(format!(
            "{name} was {verb}. Waiting to sync: {reason}. It will be sent to {psa} as soon as it answers."
        )),
        Pushed::Refused { psa, reason } => Flash::error(format!(
            "{name} was {verb}, but {psa} refused it: {reason}. Correct it and save again."
        )),
        Pushed::AddInPsa { psa } => Flash::info(format!(
            "{name} was {verb}. With one-way sync, add it in {psa} too (with exactly this name): the next data load links them."
        )),
    };
    flash::see_other_with(
        &format!("/organizations/{}", id.0),
        &flash,
        &state.settings.session_key,
    )
}

/// Under one-way sync the PSA owns a linked organization's name, short name, type and status: a
/// change to them that the save did not keep is said so (not "was saved").
fn ignored_by_psa(kept: &OrgRow, typed: &OrgInput, locked_by: Option<&str>) -> Option<String> {
    let psa = locked_by?;
    // The Edit form sends the PSA's type and status not at all (their lists are disabled).
    let same = kept.name == typed.name
        && kept.short_name == typed.short_name
        && typed.type_id.is_none_or(|t| kept.type_id == Some(t))
        && typed.status_id.is_none_or(|s| kept.status_id == Some(s));
    (!same).then(|| {
        format!(
            "{} was saved, but not its name, short name, type or status: {psa} owns them under one-way sync, so the change was ignored. Change them in {psa}; the next data load brings them over.",
            kept.name
        )
    })
}

/// Checks the logo, parses the form and creates (`editing` is `None`) or updates the organization;
/// a form with errors, or a name that looks like another, comes back as typed.
async fn save(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    user: User,
    editing: Option<(i64, PsaSection)>,
    upload: OrgUpload,
) -> Result<HttpResponse, WebError> {
    let (editing, psa) = editing.unzip();
    let (form, request) = upload.accept(&req)?;
    let chosen = matches!(request, LogoRequest::Upload(_));
    // A refused logo, or a form with errors: the form again (a chosen file must be chosen again).
    let checked = match upload::prepare(&state, request).await? {
        Err(message) => Err((FieldErrors::single("logo", message), false)),
        Ok(logo) => OrgInput::try_from(&form)
            .map(|input| (logo, input))
            .map_err(|errors| (errors, chosen)),
    };
    let (logo, input) = match checked {
        Ok(checked) => checked,
        Err((errors, chosen)) => {
            let problem = FormProblem {
                errors,
                ..FormProblem::default()
            };
            return form_again(
                &state,
                ctx,
                psa,
                editing,
                form,
                OrgError::Invalid(problem),
                chosen,
            )
            .await;
        }
    };
    let name = input.name.clone();
    let locked_by = psa.as_ref().and_then(|p| p.locked_by);
    let result = state
        .db(move |conn| match editing {
            None => create::create(conn, &user, &input, &logo).map(|id| (id, None)),
            Some(id) => {
                let fields = &crate::psa::settings::OneWay;
                let id = create::update(conn, &user, OrgId(id), &input, &logo, fields)?;
                let kept = store::find(conn, Scope::of(&user), id)?.ok_or(OrgError::NotFound)?;
                Ok((id, ignored_by_psa(&kept, &input, locked_by)))
            }
        })
        .await;
    let verb = if editing.is_some() {
        "saved"
    } else {
        "created"
    };
    match result {
        Ok((id, Some(ignored))) => Ok(flash::see_other_with(
            &format!("/organizations/{}", id.0),
            &Flash::info(ignored),
            &state.settings.session_key,
        )),
        Ok((id, None)) => {
            let pushed = push(&state, id, editing.is_none()).await?;
            Ok(saved(&state, id, &name, verb, pushed))
        }
        Err(e @ (OrgError::Invalid(_) | OrgError::LooksLike(_))) => {
            form_again(&state, ctx, psa, editing, form, e, chosen).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn create(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    CurrentUser(user): CurrentUser,
    MultipartForm(upload): MultipartForm<OrgUpload>,
) -> Result<HttpResponse, WebError> {
    save(state, ctx, req, user, None, upload).await
}

async fn visible_org(
    state: &web::Data<AppState>,
    user: &User,
    id: i64,
) -> Result<OrgRow, WebError> {
    let scope = Scope::of(user);
    state
        .db(move |conn| store::find(conn, scope, OrgId(id)).map_err(DbError::from))
        .await?
        .ok_or(WebError::NotFound)
}

pub async fn edit_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let org = visible_org(&state, &user, *id).await?;
    let saved = psa_settings(&state).await?;
    let psa = PsaSection::of(&org, &user, saved.as_ref());
    let parent = org.parent_id;
    let scope = Scope::of(&user);
    let logo = org.logo();
    let cache = state.kinds.clone();
    let (kinds, ancestry) = state
        .db(move |conn| {
            let all = tree::ancestry(conn, parent)?;
            let ancestry = visible_ancestry(conn, scope, all)?;
            let kinds = Kinds::load(conn, &cache)?;
            Ok::<_, DbError>((kinds, ancestry))
        })
        .await?;
    let parent_name = ancestry.last().map(|p| p.name.clone()).unwrap_or_default();
    let form = OrgForm {
        name: org.name,
        short_name: org.short_name,
        type_id: org.type_id.map(|i| i.to_string()).unwrap_or_default(),
        status_id: org.status_id.map(|i| i.to_string()).unwrap_or_default(),
        parent_id: org.parent_id.map(|i| i.to_string()).unwrap_or_default(),
        parent_name,
        description: org.description,
        quick_notes: org.quick_notes,
        alert: org.alert,
        confirm_similar: String::new(),
    };
    render::page(&FormPage {
        ctx,
        one_way: one_way(saved.as_ref()),
        editing: Some(org.id),
        logo,
        form,
        errors: FieldErrors::default(),
        similar: vec![],
        parent_candidates: vec![],
        kinds,
        psa: Some(psa),
    })
}

pub async fn update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
    MultipartForm(upload): MultipartForm<OrgUpload>,
) -> Result<HttpResponse, WebError> {
    let org = visible_org(&state, &user, *id).await?;
    let saved = psa_settings(&state).await?;
    let psa = PsaSection::of(&org, &user, saved.as_ref());
    save(state, ctx, req, user, Some((org.id, psa)), upload).await
}

/// The ancestors the user may see of `all` (an organization outside their access does not exist
/// for them).
fn visible_ancestry(
    conn: &mut crate::db::DbConn,
    scope: Scope,
    all: Vec<OrgRef>,
) -> Result<Vec<OrgRef>, DbError> {
    if scope.all {
        return Ok(all);
    }
    let ids: Vec<i64> = all.iter().map(|o| o.id).collect();
    let seen = store::refs(conn, scope, &ids)?;
    Ok(all
        .into_iter()
        .filter(|o| seen.iter().any(|s| s.id == o.id))
        .collect())
}

// ----- an organization's page -----

#[derive(Template)]
#[template(path = "orgs/show.html")]
struct ShowPage {
    ctx: PageCtx,
    org: OrgRow,
    logo: Option<LogoSize>,
    tabs: Vec<super::records::Tab>,
    type_name: String,
    status_name: String,
    ancestry: Vec<OrgRef>,
    children: Vec<OrgRef>,
    children_total: i64,
    history: Vec<Event>,
    can_edit: bool,
    /// Two-way sync that could not be made yet: why.
    waiting: Option<String>,
}

impl ShowPage {
    fn psa_name(&self) -> &'static str {
        crate::orgs::model::psa_label(self.org.psa_kind.as_deref().unwrap_or_default())
    }
}

/// How many sub-organizations the page lists before linking to the filtered list.
const CHILDREN_SHOWN: i64 = 50;

pub async fn show(
    state: web::Data<AppState>,
    signed: Pending,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let id = OrgId(*id);
    let cache = state.kinds.clone();
    // The session check and the page's reads: one closure on one pooled connection.
    let (ctx, user, found) = state
        .db_signed_in(signed, move |conn, user| {
            let scope = Scope::of(user);
            let Some((org, parent)) = store::find_with_parent(conn, scope, id)? else {
                return Ok(None);
            };
            let all = tree::ancestry_from(conn, parent)?;
            let ancestry = visible_ancestry(conn, scope, all)?;
            let (children, children_total) = store::children(conn, scope, id, CHILDREN_SHOWN)?;
            let kinds = Kinds::load(conn, &cache)?;
            Ok(Some(ShowPage {
                ctx: PageCtx::default(),
                type_name: Kinds::name(&kinds.types, org.type_id),
                status_name: Kinds::name(&kinds.statuses, org.status_id),
                logo: org.logo(),
                tabs: super::records::tabs(crate::records::store::counts(conn, id.0)?),
                history: crate::orgs::access::history(conn, scope, id.0, 20)?,
                waiting: push::waiting(conn, id.0)?,
                org,
                ancestry,
                children,
                children_total,
                can_edit: allowed(user.role, Action::EditRecords),
            }))
        })
        .await?;
    match found {
        Some(page) => render::page(&ShowPage { ctx, ..page }),
        // Deleted: where its purge stands, or 404.
        None => super::deletes::deletion_page(&state, ctx, &user, id)
            .await?
            .ok_or(WebError::NotFound),
    }
}
