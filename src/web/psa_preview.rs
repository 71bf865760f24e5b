//! Preview sync (PSA settings, Managers and Administrators): start a preview (with the saved
//! mapping, or with the mapping form's unsaved one), its report page (progress, counts, each
//! company's fate, filterable), and Apply these changes. The use cases are `psa::preview`.

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
use crate::jobs::Job;
use crate::psa::plan::Decision;
use crate::psa::preview::{self, Item, Preview, QueueError, state};
use crate::psa::settings;
use crate::psa::sync::{self, Load};

/// Lines the report page lists at most (the counts say how many there are).
const LINES: i64 = 1_000;

#[derive(Template)]
#[template(path = "psa/preview.html")]
struct ReportPage {
    ctx: PageCtx,
    preview: Preview,
    job: Option<Job>,
    items: Vec<Item>,
    shown: Option<Decision>,
    load: Option<Load>,
    decisions: [Decision; 8],
}

impl ReportPage {
    fn refreshes(&self) -> bool {
        self.preview.in_progress() || self.preview.state == state::APPLYING
    }

    fn read_so_far(&self) -> i64 {
        self.job.as_ref().map_or(0, |j| j.progress_done)
    }

    fn count_of(&self, d: &Decision) -> i32 {
        self.preview.count(*d)
    }

    fn is_shown(&self, d: &Decision) -> bool {
        self.shown == Some(*d)
    }

    fn listed(&self) -> i64 {
        match self.shown {
            Some(d) => i64::from(self.preview.count(d)),
            None => Decision::ALL
                .iter()
                .map(|d| i64::from(self.preview.count(*d)))
                .sum(),
        }
    }

    /// Whether the list shows only the first `LINES`.
    fn truncated(&self) -> bool {
        self.listed() > i64::try_from(self.items.len()).unwrap_or(i64::MAX)
    }

    /// "Matched" as the data loads count it.
    fn matched(&self) -> i32 {
        self.preview.linked + self.preview.unchanged
    }

    fn report_lines(&self) -> Vec<&str> {
        self.preview
            .report
            .lines()
            .filter(|l| !l.is_empty())
            .collect()
    }
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(flatten)]
    fields: HashMap<String, String>,
}

enum Started {
    Queued(i64),
    Busy(i64),
    Invalid(String),
    NotSetUp,
}

fn back(state: &AppState, to: &str, flash: &Flash) -> HttpResponse {
    flash::see_other_with(to, flash, &state.settings.session_key)
}

fn report_path(id: i64) -> String {
    format!("/settings/psa/previews/{id}")
}

/// Preview sync; from the mapping form (`with_mapping`), with the mapping as typed there.
pub async fn start(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<StartForm>,
) -> Result<HttpResponse, WebError> {
    let typed = form
        .fields
        .contains_key("with_mapping")
        .then_some(form.fields);
    let started = state
        .db(move |conn| {
            let Some(saved) = settings::load(conn)? else {
                return Ok::<_, DbError>(Started::NotSetUp);
            };
            Ok(
                match preview::queue_preview(conn, &user, saved.kind, typed.as_ref()) {
                    Ok(id) => Started::Queued(id),
                    Err(QueueError::Busy(id)) => Started::Busy(id),
                    Err(QueueError::Invalid(errors)) => Started::Invalid(
                        errors.iter().map(|(_, m)| m).collect::<Vec<_>>().join(" "),
                    ),
                    Err(QueueError::Db(e)) => return Err(e.into()),
                },
            )
        })
        .await?;
    Ok(match started {
        Started::Queued(id) => {
            state.jobs.wake();
            back(
                &state,
                &report_path(id),
                &Flash::info("The preview has started: nothing is changed until you apply it."),
            )
        }
        Started::Busy(id) => back(
            &state,
            &report_path(id),
            &Flash::error(
                "A preview is already being made (this one): wait for it to finish, then preview again.",
            ),
        ),
        Started::Invalid(why) => back(
            &state,
            "/settings/psa",
            &Flash::error(format!("The mapping cannot be previewed: {why}")),
        ),
        Started::NotSetUp => back(
            &state,
            "/settings/psa",
            &Flash::error("Save the PSA settings first."),
        ),
    })
}

#[derive(Deserialize)]
pub struct ShowParams {
    #[serde(default)]
    show: Option<String>,
}

pub async fn show(
    state: web::Data<AppState>,
    ctx: PageCtx,
    id: web::Path<i64>,
    params: web::Query<ShowParams>,
) -> Result<HttpResponse, WebError> {
    let id = *id;
    let shown = params.show.as_deref().and_then(Decision::parse);
    let found = state
        .db(move |conn| {
            let Some(preview) = preview::find(conn, id)? else {
                return Ok::<_, DbError>(None);
            };
            let items = preview::items(conn, id, shown, LINES)?;
            let job = preview::job_of(conn, &preview)?;
            let load = match preview.load_id {
                Some(load) => sync::find_load(conn, load)?,
                None => None,
            };
            Ok(Some((preview, items, job, load)))
        })
        .await?;
    let Some((preview, items, job, load)) = found else {
        return Err(WebError::NotFound);
    };
    render::page(&ReportPage {
        ctx,
        preview,
        job,
        items,
        shown,
        load,
        decisions: Decision::ALL,
    })
}

/// Apply these changes: a data load that carries out the plan if nothing changed since.
pub async fn apply(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let id = *id;
    let queued = state
        .db(move |conn| {
            if preview::find(conn, id)?.is_none() {
                return Ok::<_, DbError>(None);
            }
            Ok(Some(preview::queue_apply(conn, &user, id)?))
        })
        .await?;
    let flash = match queued {
        None => return Err(WebError::NotFound),
        Some(true) => {
            state.jobs.wake();
            Flash::info(
                "Applying: a data load reads the PSA again and carries out this plan if nothing changed since the preview.",
            )
        }
        Some(false) => Flash::error(
            "This preview cannot be applied (it is not finished, or was applied or found out of date already). Preview again.",
        ),
    };
    Ok(back(&state, &report_path(id), &flash))
}
