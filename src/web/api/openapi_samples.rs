//! One resource of each kind the API serves, written by the same functions that write real
//! ones, so the OpenAPI document's schemas are read from the code that answers (an attribute
//! added there is in the document without anything to update here).

use chrono::NaiveDateTime;
use serde_json::Value;

use super::document;
use super::records_json;
use crate::api::orgs::{OrgColumns, OrgView};
use crate::api::records::Listed;
use crate::api::records_names::kind_of;
use crate::orgs::OrgRef;
use crate::records::fields::{self, Field, Input};
use crate::records::flex::AssetType;
use crate::records::store::Record;
use crate::records::{Kind, RecordId};

fn at() -> NaiveDateTime {
    NaiveDateTime::default()
}

fn organization(base_url: &str) -> Value {
    let row = OrgColumns {
        id: 1,
        name: "Acme".into(),
        short_name: "ACME".into(),
        description: "text".into(),
        quick_notes: "text".into(),
        alert: "text".into(),
        type_id: Some(1),
        status_id: Some(1),
        parent_id: Some(1),
        psa_kind: Some("autotask".into()),
        psa_company_id: Some("1".into()),
        created_at: at(),
        updated_at: at(),
    };
    document::organization(
        base_url,
        &OrgView {
            row,
            type_name: Some("Customer".into()),
            status_name: Some("Active".into()),
            has_logo: true,
            ancestor_ids: vec![1],
        },
    )
}

fn asset_type() -> AssetType {
    AssetType {
        id: 1,
        name: "Licence".into(),
        fields: vec![Field {
            name: "f1".into(),
            label: "Licence key".into(),
            input: Input::Text,
            required: false,
        }],
        definition: String::new(),
    }
}

/// A record with every field filled (a checkbox ticked), so each attribute shows its type.
fn record(kind: Kind) -> Value {
    let asset_type = asset_type();
    let values = fields::with_type(kind, (kind == Kind::FlexibleAsset).then_some(&asset_type))
        .into_iter()
        .map(|f| {
            let value = if f.input == Input::Checkbox {
                "yes"
            } else {
                "text"
            };
            (f.name, value.to_owned())
        })
        .collect();
    let record = Record {
        id: RecordId(1).0,
        organization_id: 1,
        kind,
        title: "text".into(),
        values,
        asset_type_id: (kind == Kind::FlexibleAsset).then_some(1),
        has_secret: kind == Kind::Password,
        created_at: at(),
        updated_at: at(),
    };
    let listed = Listed {
        records: vec![record.clone()],
        organizations: vec![OrgRef {
            id: 1,
            name: "Acme".into(),
            short_name: String::new(),
        }],
        asset_types: vec![asset_type],
    };
    let password = (kind == Kind::Password).then_some("text");
    records_json::record(&listed, &record, password)
}

/// A resource of the path segment `resource` (`organizations`, `configurations`, ...), if the
/// API knows how it looks; its JSON:API type beside it.
pub fn resource(base_url: &str, resource: &str) -> Option<(String, Value)> {
    let sample = match resource {
        "organizations" => organization(base_url),
        "organization_types" => document::kind("organization-types", 1, "Customer", true),
        "organization_statuses" => document::kind("organization-statuses", 1, "Active", true),
        "flexible_asset_types" => records_json::asset_type(&asset_type()),
        other => record(kind_of(other)?),
    };
    let type_name = sample["type"].as_str().unwrap_or(resource).to_owned();
    Some((type_name, sample))
}
