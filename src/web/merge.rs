//! Merge duplicate organizations (issue 16): choosing the organization to keep, the confirmation
//! page with what moves, and the merge. The use cases are `orgs::merge` and `orgs::merge_apply`.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::csrf_form::CsrfForm;
use super::ctx::{CurrentUser, PageCtx};
use super::deletes::grace_label;
use super::error::WebError;
use super::flash::{self, Flash};
use super::render;
use super::state::AppState;
use crate::orgs::merge::{self, LogoOutcome, MergePlan, PsaOutcome};
use crate::orgs::merge_apply;
use crate::orgs::{OrgId, OrgRef, OrgRow, Scope};

/// How many organizations the chooser lists besides those that look alike.
const CHOICES: i64 = 500;

#[derive(Template)]
#[template(path = "orgs/merge_choose.html")]
struct ChoosePage {
    ctx: PageCtx,
    org: OrgRow,
    alike: Vec<OrgRef>,
    others: Vec<OrgRef>,
}

#[derive(Template)]
#[template(path = "orgs/merge_confirm.html")]
struct ConfirmPage {
    ctx: PageCtx,
    plan: MergePlan,
    grace: String,
}

impl ConfirmPage {
    fn logo_text(&self) -> &'static str {
        match self.plan.logo {
            LogoOutcome::None => "neither has a logo",
            LogoOutcome::Kept => "the kept organization keeps its own logo",
            LogoOutcome::Moved => "the logo moves (the kept organization has none)",
        }
    }

    fn psa_text(&self) -> String {
        match &self.plan.psa {
            PsaOutcome::None => "neither is linked to a PSA".to_owned(),
            PsaOutcome::Kept(link) => format!("stays linked to {link}"),
            PsaOutcome::Moved(link) => format!("the link to {link} moves to the kept organization"),
        }
    }
}

#[derive(Deserialize)]
pub struct IntoParams {
    #[serde(default)]
    into: Option<String>,
}

/// The organization to keep, from `into=` (a number, or nothing chosen yet).
fn kept_id(into: Option<&str>) -> Result<Option<OrgId>, WebError> {
    match into.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => text.parse().map(|id| Some(OrgId(id))).map_err(|_| {
            WebError::BadRequest("Choose the organization to keep from the list.".into())
        }),
    }
}

/// Without `into`: choose the organization to keep. With it: what the merge moves.
pub async fn page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
    params: web::Query<IntoParams>,
) -> Result<HttpResponse, WebError> {
    let (scope, merged) = (Scope::of(&user), OrgId(*id));
    let Some(kept) = kept_id(params.into.as_deref())? else {
        let lists = state.lists.clone();
        let (org, alike, others) = state
            .db(move |conn| merge::candidates(conn, &lists, scope, merged, CHOICES))
            .await?;
        return render::page(&ChoosePage {
            ctx,
            org,
            alike,
            others,
        });
    };
    let plan = state
        .db(move |conn| merge::plan(conn, scope, merged, kept))
        .await?;
    render::page(&ConfirmPage {
        ctx,
        plan,
        grace: grace_label(state.settings.jobs.delete_grace),
    })
}

#[derive(Deserialize)]
pub struct MergeForm {
    #[serde(default)]
    into: Option<String>,
}

pub async fn merge(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<MergeForm>,
) -> Result<HttpResponse, WebError> {
    let merged = OrgId(*id);
    let kept = kept_id(form.into.as_deref())?.ok_or_else(|| {
        WebError::BadRequest("Choose the organization to keep from the list.".into())
    })?;
    let grace = state.settings.jobs.delete_grace;
    let done = state
        .db(move |conn| merge_apply::merge(conn, &user, merged, kept, grace))
        .await?;
    if grace.is_zero() {
        state.jobs.wake();
    }
    let message = format!(
        "Merged {} into {} ({} record{}, {} sub-organization{}).",
        done.merged.name,
        done.kept.name,
        done.records,
        if done.records == 1 { "" } else { "s" },
        done.subs,
        if done.subs == 1 { "" } else { "s" },
    );
    let flash = if grace.is_zero() {
        Flash::success(format!("{message} {} is being deleted.", done.merged.name))
    } else {
        Flash::success(format!(
            "{message} Restoring {} until {} undoes the merge.",
            done.merged.name,
            done.purge_at.format("%H:%M UTC")
        ))
        .with_post(
            "Restore",
            format!("/organizations/{}/restore", done.merged.id),
        )
    };
    Ok(flash::see_other_with(
        &format!("/organizations/{}", done.kept.id),
        &flash,
        &state.settings.session_key,
    ))
}
