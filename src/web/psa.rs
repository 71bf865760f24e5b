//! PSA settings (Managers and Administrators): the connection, the mapping of types and statuses,
//! Test connection, Sync now, the last data loads and previews (Preview sync is `psa_preview.rs`).

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
use crate::db::DbError;
use crate::orgs::exclusions::{self, Exclusion};
use crate::orgs::kinds::Kind;
use crate::orgs::model::psa_label;
use crate::psa::mapping::{self, Mapping};
use crate::psa::preview::{self, Preview};
use crate::psa::settings::{self, SaveError, SettingsForm};
use crate::psa::sync::{self, Load};
use crate::psa::{self, PsaKind};
use crate::validation::FieldErrors;

/// A type or status with the PSA names mapped to it (as saved, or as typed).
struct MapRow {
    field: String,
    name: String,
    synced: bool,
    psa_names: String,
}

#[derive(Template)]
#[template(path = "settings/psa.html")]
struct PsaPage {
    ctx: PageCtx,
    form: SettingsForm,
    errors: FieldErrors,
    saved: bool,
    kinds: [PsaKind; 2],
    types: Vec<MapRow>,
    statuses: Vec<MapRow>,
    loads: Vec<Load>,
    previews: Vec<Preview>,
    exclusions: Vec<Exclusion>,
    allow_http: bool,
    allow_private: bool,
}

impl PsaPage {
    fn is_kind(&self, kind: &PsaKind) -> bool {
        self.form.kind == kind.as_str()
    }

    fn psa_of(&self, kind: &str) -> &'static str {
        psa_label(kind)
    }

    /// The mapping table's two groups.
    fn groups(&self) -> [(&'static str, &[MapRow]); 2] {
        [("Type", &self.types), ("Status", &self.statuses)]
    }
}

/// What a form sent back with errors shows again instead of what is saved.
#[derive(Default)]
struct Typed {
    settings: Option<SettingsForm>,
    mapping: Option<HashMap<String, String>>,
}

async fn page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    typed: Typed,
    errors: FieldErrors,
) -> Result<HttpResponse, WebError> {
    let (saved, mapping, (loads, previews), exclusions) = state
        .db(|conn| {
            Ok::<_, DbError>((
                settings::load(conn)?,
                Mapping::load(conn)?,
                (sync::recent_loads(conn, 10)?, preview::recent(conn, 5)?),
                exclusions::list(conn)?,
            ))
        })
        .await?;
    let rows = |kind: Kind| {
        mapping
            .values(kind)
            .iter()
            .map(|v| {
                let field = mapping::field_of(kind, v.id);
                let psa_names = match &typed.mapping {
                    Some(typed) => typed.get(&field).cloned().unwrap_or_default(),
                    None => v.psa_names.join(", "),
                };
                MapRow {
                    field,
                    name: v.name.clone(),
                    synced: v.synced,
                    psa_names,
                }
            })
            .collect()
    };
    let (types, statuses) = (rows(Kind::Type), rows(Kind::Status));
    let form = typed.settings.unwrap_or_else(|| {
        saved
            .as_ref()
            .map_or_else(SettingsForm::blank, SettingsForm::of)
    });
    let page = PsaPage {
        ctx,
        form,
        saved: saved.is_some(),
        kinds: PsaKind::ALL,
        types,
        statuses,
        loads,
        previews,
        exclusions,
        allow_http: state.settings.psa_allow_http,
        allow_private: state.settings.psa_allow_private,
        errors,
    };
    let has_errors = !page.errors.is_empty();
    render::form(&page, has_errors)
}

pub async fn show(state: web::Data<AppState>, ctx: PageCtx) -> Result<HttpResponse, WebError> {
    page(&state, ctx, Typed::default(), FieldErrors::default()).await
}

fn back(state: &AppState, flash: &Flash) -> HttpResponse {
    flash::see_other_with("/settings/psa", flash, &state.settings.session_key)
}

/// A failed save: its field errors for the page, or an error for the error page.
fn rejected(e: SaveError) -> Result<FieldErrors, WebError> {
    match e {
        SaveError::Invalid(errors) => Ok(errors),
        SaveError::Db(e) => Err(DbError::from(e).into()),
        SaveError::Sealed => Err(WebError::Internal(e.into())),
    }
}

pub async fn save(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let (key, policy, typed) = (
        state.settings.data_key.clone(),
        psa::PsaAccess::of(&state.settings).policy,
        form.clone(),
    );
    let saved = state
        .db(move |conn| Ok::<_, DbError>(settings::save(conn, &user, &typed, &key, policy)))
        .await?;
    let errors = match saved {
        Ok(()) => {
            state.jobs.wake();
            return Ok(back(
                &state,
                &Flash::success("PSA settings saved. The first data load starts now."),
            ));
        }
        Err(e) => rejected(e)?,
    };
    // Secrets are never sent back to the browser.
    let form = SettingsForm {
        public_key: String::new(),
        private_key: String::new(),
        secret: String::new(),
        ..form
    };
    let typed = Typed {
        settings: Some(form),
        mapping: None,
    };
    page(&state, ctx, typed, errors).await
}

#[derive(Deserialize)]
pub struct MappingForm {
    #[serde(flatten)]
    fields: HashMap<String, String>,
}

pub async fn save_mapping(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<MappingForm>,
) -> Result<HttpResponse, WebError> {
    let fields = form.fields;
    let typed = fields.clone();
    let saved = state
        .db(move |conn| Ok::<_, DbError>(mapping::save_mapping(conn, &user, &typed)))
        .await?;
    let errors = match saved {
        Ok(()) => {
            return Ok(back(
                &state,
                &Flash::success("The mapping of types and statuses was saved."),
            ));
        }
        Err(e) => rejected(e)?,
    };
    let typed = Typed {
        settings: None,
        mapping: Some(fields),
    };
    page(&state, ctx, typed, errors).await
}

pub async fn test_connection(
    state: web::Data<AppState>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let access = psa::PsaAccess::of(&state.settings);
    let saved = state
        .db(|conn| settings::load(conn).map_err(DbError::from))
        .await?;
    let Some(saved) = saved else {
        return Ok(back(&state, &Flash::error("Save the PSA settings first.")));
    };
    let label = saved.kind.label();
    let checked = web::block(move || saved.test(&access))
        .await
        .map_err(|_| WebError::from(DbError::Cancelled))?;
    let flash = match checked {
        Ok(v) => Flash::success(format!(
            "Connected to {label}. Its company types: {}. Its statuses: {}.",
            v.types.join(", "),
            v.statuses.join(", ")
        )),
        Err(reason) => Flash::error(format!("The connection to {label} failed: {reason}")),
    };
    Ok(back(&state, &flash))
}

pub async fn sync_now(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let queued = state
        .db(move |conn| {
            if settings::load(conn)?.is_none() {
                return Ok::<_, DbError>(false);
            }
            sync::queue_load(conn, Some(&user))?;
            Ok(true)
        })
        .await?;
    if !queued {
        return Ok(back(&state, &Flash::error("Save the PSA settings first.")));
    }
    state.jobs.wake();
    Ok(back(
        &state,
        &Flash::success("The data load has started; its counts appear below when it is done."),
    ))
}

/// Include again: the next data load brings the company back (the PSA is not asked: a company it
/// no longer has just stops being excluded).
pub async fn include_again(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let id = *id;
    let gone = state
        .db(move |conn| exclusions::include_again(conn, &user, id).map_err(DbError::from))
        .await?;
    let flash = match gone {
        Some(e) => Flash::success(format!(
            "{} (company {}) is included again: the next data load brings it back.",
            e.name, e.company_id
        )),
        None => Flash::info("That company is not excluded (any more)."),
    };
    Ok(back(&state, &flash))
}
