//! An organization's records: one set of handlers for the five kinds (tabs with counts, a page per
//! record, New, Edit, Delete with confirmation, and Reveal for passwords).

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
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
use crate::orgs::{OrgId, OrgRef, Scope, store as orgs};
use crate::records::fields::{self, Field, Input};
use crate::records::flex::{self, AssetType};
use crate::records::markdown::{self, SanitizedHtml};
use crate::records::store::{self, NewRecord, Record};
use crate::records::values::{self, Checked};
use crate::records::{Kind, RecordError, RecordId};
use crate::validation::FieldErrors;

impl From<RecordError> for WebError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::Invalid(_) => WebError::BadRequest("the form has errors".into()),
            RecordError::NotFound => WebError::NotFound,
            RecordError::Conflict(m) => WebError::Conflict(m),
            RecordError::Crypto => {
                WebError::Internal(anyhow::anyhow!("a password could not be decrypted"))
            }
            RecordError::Db(e) => e.into(),
        }
    }
}

/// The organization of the URL, if the user may see it, and the kind named in the URL.
async fn place(
    state: &web::Data<AppState>,
    user: &User,
    org: i64,
    kind: &str,
) -> Result<(OrgRef, Kind), WebError> {
    let kind = Kind::parse(kind).ok_or(WebError::NotFound)?;
    let scope = Scope::of(user);
    let found = state
        .db(move |conn| orgs::find(conn, scope, OrgId(org)).map_err(DbError::from))
        .await?
        .ok_or(WebError::NotFound)?;
    Ok((found.to_ref(), kind))
}

/// The tabs: each kind with its count.
pub struct Tab {
    pub kind: Kind,
    pub count: i64,
}

#[derive(Template)]
#[template(path = "records/list.html")]
struct ListPage {
    ctx: PageCtx,
    org: OrgRef,
    kind: Kind,
    tabs: Vec<Tab>,
    rows: Vec<Record>,
    types: Vec<AssetType>,
    can_edit: bool,
}

impl ListPage {
    /// How many of this kind the organization has (the tab's count), which may exceed the rows shown.
    fn total(&self) -> i64 {
        self.tabs
            .iter()
            .find(|t| t.kind == self.kind)
            .map_or(0, |t| t.count)
    }

    fn type_name(&self, id: &Option<i64>) -> String {
        id.and_then(|id| self.types.iter().find(|t| t.id == id))
            .map_or_else(String::new, |t| t.name.clone())
    }

    /// A short line under the title: the first few values that are not the title.
    fn summary(&self, record: &Record) -> String {
        let skip = ["first_name", "last_name", "name", "title", "body", "notes"];
        record
            .values
            .iter()
            .filter(|(k, v)| !skip.contains(&k.as_str()) && !v.is_empty())
            .take(3)
            .map(|(_, v)| v.lines().next().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

pub async fn list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, WebError> {
    let (org, kind) = place(&state, &user, path.0, &path.1).await?;
    let org_id = org.id;
    let (counts, rows, types) = state
        .db(move |conn| {
            Ok::<_, DbError>((
                store::counts(conn, org_id)?,
                store::list(conn, org_id, kind)?,
                flex::all(conn)?,
            ))
        })
        .await?;
    let tabs = counts
        .into_iter()
        .map(|(kind, count)| Tab { kind, count })
        .collect();
    render::page(&ListPage {
        ctx,
        org,
        kind,
        tabs,
        rows,
        types,
        can_edit: allowed(user.role, Action::EditRecords),
    })
}

// ----- New and Edit -----

#[derive(Template)]
#[template(path = "records/form.html")]
struct FormPage {
    ctx: PageCtx,
    org: OrgRef,
    kind: Kind,
    /// `Some` when editing.
    record: Option<i64>,
    asset_type: Option<AssetType>,
    fields: Vec<Field>,
    values: HashMap<String, String>,
    errors: FieldErrors,
}

impl FormPage {
    fn value(&self, name: &str) -> String {
        self.values.get(name).cloned().unwrap_or_default()
    }

    fn action(&self) -> String {
        let base = format!(
            "/organizations/{}/records/{}",
            self.org.id,
            self.kind.slug()
        );
        self.record
            .map_or(base.clone(), |id| format!("{base}/{id}"))
    }
}

#[derive(Deserialize)]
pub struct TypeQuery {
    #[serde(rename = "type")]
    asset_type: Option<i64>,
}

async fn asset_type(
    state: &web::Data<AppState>,
    kind: Kind,
    id: Option<i64>,
) -> Result<Option<AssetType>, WebError> {
    if kind != Kind::FlexibleAsset {
        return Ok(None);
    }
    let id = id.ok_or_else(|| WebError::BadRequest("choose a flexible asset type".into()))?;
    let found = state
        .db(move |conn| flex::find(conn, id).map_err(DbError::from))
        .await?;
    found.map(Some).ok_or(WebError::NotFound)
}

pub async fn new_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    path: web::Path<(i64, String)>,
    query: web::Query<TypeQuery>,
) -> Result<HttpResponse, WebError> {
    let (org, kind) = place(&state, &user, path.0, &path.1).await?;
    let asset_type = asset_type(&state, kind, query.asset_type).await?;
    let fields = fields::with_type(kind, asset_type.as_ref());
    render::page(&FormPage {
        ctx,
        org,
        kind,
        record: None,
        asset_type,
        fields,
        values: HashMap::new(),
        errors: FieldErrors::default(),
    })
}

fn see_record(
    state: &AppState,
    org: &OrgRef,
    kind: Kind,
    id: RecordId,
    message: String,
) -> HttpResponse {
    let location = format!("/organizations/{}/records/{}/{}", org.id, kind.slug(), id.0);
    flash::see_other_with(
        &location,
        &Flash::success(message),
        &state.settings.session_key,
    )
}

/// Checks the form against the kind's fields; on errors, `None` and the page set to show them with
/// the values typed (a password's secret is never sent back).
fn check(page: &mut FormPage, editing: bool) -> Option<Checked> {
    match values::check(&page.fields, &page.values, editing) {
        Ok(checked) => Some(checked),
        Err(errors) => {
            page.values.remove("secret");
            page.errors = errors;
            None
        }
    }
}

/// Checks the form, then adds the record (`record` is `None`) or saves it; errors come back on the form.
#[allow(
    clippy::too_many_arguments,
    reason = "the parts of one request, passed once"
)]
async fn save(
    state: web::Data<AppState>,
    ctx: PageCtx,
    user: User,
    org: OrgRef,
    kind: Kind,
    record: Option<i64>,
    type_id: Option<i64>,
    form: HashMap<String, String>,
) -> Result<HttpResponse, WebError> {
    let asset_type = asset_type(&state, kind, type_id).await?;
    // Only flexible assets have a type, whatever the form says.
    let type_id = asset_type.as_ref().map(|t| t.id);
    let fields = fields::with_type(kind, asset_type.as_ref());
    let mut page = FormPage {
        ctx,
        org: org.clone(),
        kind,
        record,
        asset_type,
        fields,
        values: form,
        errors: FieldErrors::default(),
    };
    let Some(checked) = check(&mut page, record.is_some()) else {
        return render::invalid(&page);
    };
    let key = state.settings.data_key.clone();
    let org_for_db = org.clone();
    let id = state
        .db(move |conn| match record {
            Some(id) => store::update(conn, &user, &key, &org_for_db, kind, RecordId(id), &checked)
                .map(|()| RecordId(id)),
            None => {
                let new = NewRecord {
                    org: &org_for_db,
                    kind,
                    asset_type_id: type_id,
                    checked: &checked,
                };
                store::create(conn, &user, &key, &new)
            }
        })
        .await?;
    let verb = if record.is_some() { "saved" } else { "added" };
    Ok(see_record(
        &state,
        &org,
        kind,
        id,
        format!("The {} was {verb}.", kind.noun()),
    ))
}

pub async fn create(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    path: web::Path<(i64, String)>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<HttpResponse, WebError> {
    let (org, kind) = place(&state, &user, path.0, &path.1).await?;
    let type_id = form.get("asset_type_id").and_then(|v| v.parse().ok());
    save(state, ctx, user, org, kind, None, type_id, form).await
}

/// The organization of the URL (if the user may see it) and one of its records, in one trip to
/// the database; a record of another organization or kind is not found.
async fn place_record(
    state: &web::Data<AppState>,
    user: &User,
    path: &(i64, String, i64),
) -> Result<(OrgRef, Kind, Record), WebError> {
    let kind = Kind::parse(&path.1).ok_or(WebError::NotFound)?;
    let scope = Scope::of(user);
    let (org, id) = (path.0, RecordId(path.2));
    let (org, record) = state
        .db(move |conn| {
            let org = orgs::find(conn, scope, OrgId(org))?.ok_or(RecordError::NotFound)?;
            let record = store::get(conn, org.id, kind, id)?;
            Ok::<_, RecordError>((org.to_ref(), record))
        })
        .await?;
    Ok((org, kind, record))
}

pub async fn edit_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    path: web::Path<(i64, String, i64)>,
) -> Result<HttpResponse, WebError> {
    let (org, kind, record) = place_record(&state, &user, &path).await?;
    let asset_type = asset_type(&state, kind, record.asset_type_id).await?;
    let fields = fields::with_type(kind, asset_type.as_ref());
    let values = record.values.clone().into_iter().collect();
    render::page(&FormPage {
        ctx,
        org,
        kind,
        record: Some(record.id),
        asset_type,
        fields,
        values,
        errors: FieldErrors::default(),
    })
}

pub async fn update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    path: web::Path<(i64, String, i64)>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<HttpResponse, WebError> {
    let (org, kind, record) = place_record(&state, &user, &path).await?;
    save(
        state,
        ctx,
        user,
        org,
        kind,
        Some(record.id),
        record.asset_type_id,
        form,
    )
    .await
}

// ----- a record's page, Reveal and Delete -----

#[derive(Template)]
#[template(path = "records/show.html")]
struct ShowPage {
    ctx: PageCtx,
    org: OrgRef,
    kind: Kind,
    record: Record,
    fields: Vec<Field>,
    asset_type: Option<AssetType>,
    body: Option<SanitizedHtml>,
    revealed: Option<String>,
    /// A password's one-time-password secret: whether it has one, and it once revealed.
    has_otp: bool,
    revealed_otp: Option<String>,
    can_edit: bool,
    can_delete: bool,
}

impl ShowPage {
    fn value(&self, name: &str) -> String {
        self.record.values.get(name).cloned().unwrap_or_default()
    }
}

async fn show_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    user: &User,
    path: &(i64, String, i64),
    revealed: Option<(String, Option<String>)>,
) -> Result<ShowPage, WebError> {
    let (org, kind, record) = place_record(state, user, path).await?;
    let id = RecordId(record.id);
    let has_otp = kind == Kind::Password
        && state
            .db(move |conn| store::has_otp(conn, id).map_err(DbError::from))
            .await?;
    let (revealed, revealed_otp) = revealed.map_or((None, None), |(s, otp)| (Some(s), otp));
    let asset_type = asset_type(state, kind, record.asset_type_id).await?;
    let fields = fields::with_type(kind, asset_type.as_ref())
        .into_iter()
        .filter(|f| f.input != Input::Markdown)
        .collect();
    let body = (kind == Kind::Document)
        .then(|| markdown::render(record.values.get("body").map_or("", String::as_str)));
    Ok(ShowPage {
        ctx,
        org,
        kind,
        record,
        fields,
        asset_type,
        body,
        revealed,
        has_otp,
        revealed_otp,
        can_edit: allowed(user.role, Action::EditRecords),
        can_delete: allowed(user.role, Action::DeleteOne),
    })
}

pub async fn show(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    path: web::Path<(i64, String, i64)>,
) -> Result<HttpResponse, WebError> {
    render::page(&show_page(&state, ctx, &user, &path, None).await?)
}

pub async fn reveal(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    path: web::Path<(i64, String, i64)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let (org, kind) = place(&state, &user, path.0, &path.1).await?;
    if kind != Kind::Password {
        return Err(WebError::NotFound);
    }
    let key = state.settings.data_key.clone();
    let (actor, id, org_for_db) = (user.clone(), RecordId(path.2), org.clone());
    let secret = state
        .db(move |conn| store::reveal_with_otp(conn, &actor, &key, &org_for_db, id))
        .await?;
    render::page(&show_page(&state, ctx, &user, &path, Some(secret)).await?)
}

#[derive(Template)]
#[template(path = "records/delete.html")]
struct DeletePage {
    ctx: PageCtx,
    org: OrgRef,
    kind: Kind,
    record: Record,
}

pub async fn confirm_delete(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    path: web::Path<(i64, String, i64)>,
) -> Result<HttpResponse, WebError> {
    let (org, kind, record) = place_record(&state, &user, &path).await?;
    render::page(&DeletePage {
        ctx,
        org,
        kind,
        record,
    })
}

pub async fn delete(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    path: web::Path<(i64, String, i64)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let (org, kind) = place(&state, &user, path.0, &path.1).await?;
    let (id, org_for_db) = (RecordId(path.2), org.clone());
    let title = state
        .db(move |conn| store::delete(conn, &user, &org_for_db, kind, id))
        .await?;
    let location = format!("/organizations/{}/records/{}", org.id, kind.slug());
    Ok(flash::see_other_with(
        &location,
        &Flash::success(format!("Deleted {title}.")),
        &state.settings.session_key,
    ))
}

/// Counts for the organization page's tabs.
pub fn tabs(counts: Vec<(Kind, i64)>) -> Vec<Tab> {
    counts
        .into_iter()
        .map(|(kind, count)| Tab { kind, count })
        .collect()
}

// ----- flexible asset types (settings) -----

#[derive(Template)]
#[template(path = "settings/asset_types.html")]
struct TypesPage {
    ctx: PageCtx,
    types: Vec<AssetType>,
    type_name: String,
    definition: String,
    errors: FieldErrors,
}

async fn types_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    type_name: String,
    definition: String,
    errors: FieldErrors,
) -> Result<HttpResponse, WebError> {
    let types = state
        .db(|conn| flex::all(conn).map_err(DbError::from))
        .await?;
    let has_errors = !errors.is_empty();
    render::form(
        &TypesPage {
            ctx,
            types,
            type_name,
            definition,
            errors,
        },
        has_errors,
    )
}

pub async fn types(state: web::Data<AppState>, ctx: PageCtx) -> Result<HttpResponse, WebError> {
    types_page(
        &state,
        ctx,
        String::new(),
        String::new(),
        FieldErrors::default(),
    )
    .await
}

#[derive(Deserialize)]
pub struct TypeForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    definition: String,
}

fn back_to_types(state: &AppState, flash: &Flash) -> HttpResponse {
    flash::see_other_with("/settings/asset-types", flash, &state.settings.session_key)
}

pub async fn add_type(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<TypeForm>,
) -> Result<HttpResponse, WebError> {
    let (name, definition) = (form.name.clone(), form.definition.clone());
    match state
        .db(move |conn| flex::add(conn, &user, &name, &definition))
        .await
    {
        Ok(_) => Ok(back_to_types(
            &state,
            &Flash::success(format!("Added the type {}.", form.name.trim())),
        )),
        Err(RecordError::Invalid(errors)) => {
            types_page(&state, ctx, form.name, form.definition, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn remove_type(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let id = *id;
    match state.db(move |conn| flex::remove(conn, &user, id)).await {
        Ok(name) => Ok(back_to_types(
            &state,
            &Flash::success(format!("Removed the type {name}.")),
        )),
        Err(RecordError::Conflict(message)) => Ok(back_to_types(&state, &Flash::error(message))),
        Err(e) => Err(e.into()),
    }
}
