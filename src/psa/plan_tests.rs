//! The decision on its own: no database, no PSA.

use std::collections::{HashMap, HashSet};

use super::*;
use crate::psa::mapping::MappedValue;

const CUSTOMER: i64 = 1;
const PROSPECT: i64 = 2;
const ACTIVE: i64 = 10;

fn value(id: i64, name: &str, synced: bool) -> MappedValue {
    MappedValue {
        id,
        name: name.into(),
        synced,
        psa_names: Vec::new(),
    }
}

fn mapping() -> Mapping {
    Mapping::of(
        vec![
            value(CUSTOMER, "Customer", true),
            value(PROSPECT, "Prospect", false),
        ],
        vec![value(ACTIVE, "Active", true)],
    )
}

fn company(id: &str, name: &str) -> Company {
    Company {
        id: id.into(),
        name: name.into(),
        short_name: name.into(),
        type_name: Some("Customer".into()),
        status_name: Some("Active".into()),
        deleted: false,
    }
}

fn org(id: i64, name: &str, company: Option<&str>) -> HeldOrg {
    HeldOrg {
        id,
        name: name.into(),
        short_name: name.into(),
        type_id: Some(CUSTOMER),
        status_id: Some(ACTIVE),
        parent_id: None,
        description: String::new(),
        quick_notes: String::new(),
        alert: String::new(),
        company: company.map(Into::into),
        orphaned_at: None,
    }
}

fn decisions(plan: &Plan) -> Vec<(Decision, String)> {
    plan.steps
        .iter()
        .map(|s| (s.decision, s.company_id.clone()))
        .collect()
}

#[test]
fn each_company_and_each_linked_organization_gets_one_decision() {
    let mut prospect = company("6", "Prospect Co");
    prospect.type_name = Some("Prospect".into());
    let companies = vec![
        company("1", "Acme Inc"),
        company("2", "Contoso"),
        company("3", "Twin"),
        company("4", "Globex"),
        company("5", "Globex"),
        prospect,
        company("7", "Excluded Co"),
        company("8", "Same"),
    ];
    let held = Held {
        linked: vec![
            org(10, "Acme", Some("1")),
            org(11, "Gone", Some("99")),
            org(12, "Excluded Co", Some("7")),
            org(13, "Same", Some("8")),
        ],
        named: HashMap::from([
            ("Contoso".to_owned(), vec![org(20, "Contoso", None)]),
            (
                "Twin".to_owned(),
                vec![org(21, "Twin", None), org(22, "Twin", None)],
            ),
        ]),
        excluded: HashSet::from(["7".to_owned()]),
    };
    let plan = decide(PsaKind::ConnectWise, &companies, &mapping(), &held);
    assert_eq!(
        decisions(&plan),
        vec![
            (Decision::Update, "1".into()),
            (Decision::Link, "2".into()),
            (Decision::Create, "3".into()),
            (Decision::Create, "4".into()),
            (Decision::SameName, "5".into()),
            (Decision::NotSyncing, "6".into()),
            (Decision::Excluded, "7".into()),
            (Decision::Unchanged, "8".into()),
            (Decision::Orphan, "99".into()),
        ]
    );
    assert_eq!(
        plan.steps[0].detail,
        "name \u{201c}Acme\u{201d} \u{2192} \u{201c}Acme Inc\u{201d}; short name \u{201c}Acme\u{201d} \u{2192} \u{201c}Acme Inc\u{201d}"
    );
    assert!(plan.steps[2].detail.contains("2 organizations are named"));
    assert_eq!(
        plan.steps[8].detail,
        "The company is no longer in ConnectWise Manage."
    );
    assert_eq!(plan.report.len(), 3, "{:?}", plan.report);
    let counts = plan.counts();
    assert_eq!((counts.created, counts.linked, counts.orphaned), (2, 1, 1));
}

#[test]
fn the_fingerprint_ignores_order_and_sees_every_change() {
    let a = vec![company("1", "Acme"), company("2", "Contoso")];
    let b = vec![company("2", "Contoso"), company("1", "Acme")];
    assert_eq!(fingerprint(&a), fingerprint(&b));
    let mut renamed = a.clone();
    renamed[0].short_name = "ACME".into();
    assert_ne!(fingerprint(&a), fingerprint(&renamed));
    let mut deleted = a.clone();
    deleted[1].deleted = true;
    assert_ne!(fingerprint(&a), fingerprint(&deleted));
}

#[test]
fn the_digest_changes_with_what_the_plan_does() {
    let companies = vec![company("1", "Acme")];
    let none = Held::default();
    let named = Held {
        named: HashMap::from([("Acme".to_owned(), vec![org(5, "Acme", None)])]),
        ..Held::default()
    };
    let create = decide(PsaKind::Autotask, &companies, &mapping(), &none);
    let link = decide(PsaKind::Autotask, &companies, &mapping(), &named);
    assert_eq!(
        create.digest(),
        decide(PsaKind::Autotask, &companies, &mapping(), &none).digest()
    );
    assert_ne!(create.digest(), link.digest());
}

/// The organizations named like the companies are looked up by their name key, not read
/// through the index led by `deleted_at` (SQLite, under the statistics of a large table).
#[test]
fn sqlite_finds_organizations_named_like_companies_by_their_key() {
    use crate::db::sqlite_plans::{plan, skewed, statements_of};
    let mut conn = skewed();
    // A whole chunk of names: with two, the key's index was chosen even beside `deleted_at`'s.
    let companies: Vec<Company> = (0..NAMES_PER_QUERY)
        .map(|i| Company {
            id: i.to_string(),
            name: format!("Company {i}"),
            short_name: String::new(),
            type_name: None,
            status_name: None,
            deleted: false,
        })
        .collect();
    let statements = statements_of(&mut conn, |c| {
        Held::load(c, PsaKind::ConnectWise, &companies).expect("held");
    });
    let named = statements
        .iter()
        .find(|sql| sql.contains("`name_key` IN"))
        .unwrap_or_else(|| panic!("{statements:#?}"));
    let steps = plan(&mut conn, named);
    assert!(
        steps.iter().any(|s| s.contains("organizations_name_key")),
        "{steps:#?}"
    );
    assert!(
        !steps.iter().any(|s| s.contains("organizations_alive_by")),
        "{steps:#?}"
    );
}
