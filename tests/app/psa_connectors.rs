//! The connectors (`roster::psa::connectwise`, `roster::psa::autotask`) against the test doubles
//! of ConnectWise Manage and Autotask: credentials, paging, create and update, retries and the
//! answers they refuse. The connectors block, so every call runs on the blocking pool.

use std::time::{Duration, Instant};

use roster::psa::autotask::Autotask;
use roster::psa::connectwise::ConnectWise;
use roster::psa::{
    AddressPolicy, Company, CompanyFields, Connection, CreateDefaults, Credentials, Psa, PsaError,
    PsaKind,
};

use crate::psa_doubles::autotask as at;
use crate::psa_doubles::connectwise as cw;
use crate::psa_doubles::{AutotaskDouble, ConnectWiseDouble, Faults};

/// Runs `work` with the connector on the blocking pool.
async fn with<P, T>(psa: P, work: impl FnOnce(&P) -> T + Send + 'static) -> T
where
    P: Psa + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(move || work(&psa))
        .await
        .expect("the connector call panicked")
}

/// Every page of companies, and how many pages it took.
fn read_all(psa: &dyn Psa) -> Result<(Vec<Company>, usize), PsaError> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for pages in 1..=100 {
        let page = psa.companies(cursor.as_deref())?;
        all.extend(page.companies);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok((all, pages)),
        }
    }
    panic!("more than 100 pages");
}

fn fields(name: &str, short_name: &str, type_name: &str, status_name: &str) -> CompanyFields {
    CompanyFields {
        name: name.into(),
        short_name: short_name.into(),
        type_name: type_name.into(),
        status_name: status_name.into(),
    }
}

// ---- ConnectWise ---------------------------------------------------------------------------

fn cw_connection(double: &ConnectWiseDouble) -> Connection {
    Connection {
        kind: PsaKind::ConnectWise,
        base_url: double.base_url(),
        codebase: double.codebase().into(),
        credentials: Credentials::ConnectWise {
            company_id: cw::COMPANY_ID.into(),
            public_key: cw::PUBLIC_KEY.into(),
            private_key: cw::PRIVATE_KEY.into(),
            client_id: cw::CLIENT_ID.into(),
        },
        defaults: CreateDefaults {
            site: "Main".into(),
            address_line: "1 Main Street".into(),
            owner_resource_id: String::new(),
            phone: String::new(),
        },
        policy: LOCAL,
        timeout: Duration::from_secs(10),
        attempts: roster::psa::retry::MAX_ATTEMPTS,
        quote_answers: true,
    }
}

/// The doubles run on 127.0.0.1, over plain http.
const LOCAL: AddressPolicy = AddressPolicy {
    allow_http: true,
    allow_private: true,
};

fn connectwise(double: &ConnectWiseDouble) -> ConnectWise {
    ConnectWise::new(cw_connection(double)).expect("connector")
}

#[tokio::test]
async fn connectwise_wrong_credentials_are_unauthorized() {
    let double = ConnectWiseDouble::start();
    assert_eq!(with(connectwise(&double), Psa::check).await, Ok(()));

    let mut wrong_key = cw_connection(&double);
    wrong_key.credentials = Credentials::ConnectWise {
        company_id: cw::COMPANY_ID.into(),
        public_key: cw::PUBLIC_KEY.into(),
        private_key: "not-the-key".into(),
        client_id: cw::CLIENT_ID.into(),
    };
    let psa = ConnectWise::new(wrong_key).unwrap();
    assert_eq!(with(psa, Psa::check).await, Err(PsaError::Unauthorized));

    let mut no_client = cw_connection(&double);
    no_client.credentials = Credentials::ConnectWise {
        company_id: cw::COMPANY_ID.into(),
        public_key: cw::PUBLIC_KEY.into(),
        private_key: cw::PRIVATE_KEY.into(),
        client_id: "11111111-1111-4111-8111-111111111111".into(),
    };
    let psa = ConnectWise::new(no_client).unwrap();
    assert_eq!(
        with(psa, |p| p.companies(None)).await.unwrap_err(),
        PsaError::Unauthorized
    );
}

#[tokio::test]
async fn connectwise_plain_http_needs_the_setting() {
    let double = ConnectWiseDouble::start();
    let mut connection = cw_connection(&double);
    connection.policy.allow_http = false;
    match roster::psa::connect(&connection) {
        Err(PsaError::Config(m)) => assert!(m.contains("https://"), "{m}"),
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("http accepted"),
    }
    assert!(double.requests().is_empty());
}

#[tokio::test]
async fn connectwise_pages_until_a_short_page() {
    let double = ConnectWiseDouble::start();
    for n in 1..=7 {
        double.add_company(
            &format!("Company {n}"),
            &format!("C{n}"),
            "Client",
            "Active",
        );
    }
    let gone = double.add_company("Gone Ltd", "Gone", "Vendor", "Inactive");
    double.mark_deleted(gone, true);

    let (all, pages) = with(connectwise(&double).with_page_size(3), |p| read_all(p))
        .await
        .unwrap();
    assert_eq!(pages, 3);
    assert_eq!(all.len(), 8);
    assert_eq!(double.request_count("GET", "/company/companies"), 3);
    let first = &all[0];
    assert_eq!(
        (first.name.as_str(), first.short_name.as_str()),
        ("Company 1", "C1")
    );
    assert_eq!(first.type_name.as_deref(), Some("Client"));
    assert_eq!(first.status_name.as_deref(), Some("Active"));
    assert!(!first.deleted);
    let gone = all.iter().find(|c| c.id == gone.to_string()).unwrap();
    assert!(gone.deleted);
    assert_eq!(gone.type_name.as_deref(), Some("Vendor"));
    assert_eq!(gone.status_name.as_deref(), Some("Inactive"));

    // Pages exactly full: one more (empty) page ends the listing.
    let (all, pages) = with(connectwise(&double).with_page_size(4), |p| read_all(p))
        .await
        .unwrap();
    assert_eq!((all.len(), pages), (8, 3));
}

#[tokio::test]
async fn connectwise_creates_and_updates_companies() {
    let double = ConnectWiseDouble::start();
    let vocabulary = with(connectwise(&double), Psa::vocabulary).await.unwrap();
    assert!(vocabulary.types.contains(&"Client".to_owned()));
    assert!(vocabulary.statuses.contains(&"Inactive".to_owned()));

    let created = with(connectwise(&double), |p| {
        p.create(&fields("Acme Corp", "ACME-01", "Client", "Active"))
    })
    .await
    .unwrap();
    assert_eq!(created.short_name, "ACME01");
    assert_eq!(created.type_name.as_deref(), Some("Client"));
    let id: i64 = created.id.parse().unwrap();
    let stored = double.company(id).unwrap();
    assert_eq!(stored.name, "Acme Corp");
    assert_eq!(stored.identifier, "ACME01");
    assert_eq!(stored.types, ["Client"]);
    assert_eq!(stored.status, "Active");
    assert_eq!(stored.site, "Main");
    assert_eq!(stored.address_line1, "1 Main Street");

    let company = created.id.clone();
    with(connectwise(&double), move |p| {
        p.update(
            &company,
            &fields("Acme Corporation", "ACME", "Vendor", "Inactive"),
        )
    })
    .await
    .unwrap();
    let stored = double.company(id).unwrap();
    assert_eq!(stored.name, "Acme Corporation");
    assert_eq!(stored.identifier, "ACME");
    assert_eq!(stored.status, "Inactive");
    assert_eq!(
        stored.types,
        ["Vendor"],
        "the type changes through typeAssociations (a PATCH cannot)"
    );
    // The same type again: nothing to change.
    double.forget_requests();
    let company = created.id.clone();
    with(connectwise(&double), move |p| {
        p.update(
            &company,
            &fields("Acme Corporation", "ACME", "Vendor", "Inactive"),
        )
    })
    .await
    .unwrap();
    assert!(
        double.requests().iter().all(|r| r.method != "DELETE"
            && !(r.method == "POST" && r.path.contains("typeAssociations")))
    );

    let missing = with(connectwise(&double), |p| {
        p.update("999999", &fields("X", "", "Client", "Active"))
    })
    .await;
    assert_eq!(missing, Err(PsaError::NotFound));
}

#[tokio::test]
async fn connectwise_refuses_unknown_types_and_statuses_before_sending() {
    let double = ConnectWiseDouble::start();
    let unknown_type = with(connectwise(&double), |p| {
        p.create(&fields("Acme", "", "Reseller", "Active"))
    })
    .await;
    match unknown_type {
        Err(PsaError::Refused(m)) => {
            assert!(m.contains("\"Reseller\"") && m.contains("Client"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    let unknown_status = with(connectwise(&double), |p| {
        p.create(&fields("Acme", "", "Client", "Dormant"))
    })
    .await;
    assert!(matches!(unknown_status, Err(PsaError::Refused(m)) if m.contains("\"Dormant\"")));
    assert_eq!(double.request_count("POST", "/company/companies"), 0);
    assert!(double.companies().is_empty());
}

#[tokio::test]
async fn connectwise_duplicate_identifier_gets_a_number() {
    let double = ConnectWiseDouble::start();
    double.add_company("Acme (old)", "Acme", "Client", "Active");
    double.add_company("Acme (older)", "Acme2", "Client", "Active");

    let created = with(connectwise(&double), |p| {
        p.create(&fields("Acme", "", "Client", "Active"))
    })
    .await
    .unwrap();
    assert_eq!(created.short_name, "Acme3");
    assert_eq!(double.request_count("POST", "/company/companies"), 2);
    let stored = double.company(created.id.parse().unwrap()).unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.identifier.as_str()),
        ("Acme", "Acme3")
    );
}

#[tokio::test]
async fn connectwise_waits_as_retry_after_says() {
    let double = ConnectWiseDouble::start();
    double.add_company("Acme", "Acme", "Client", "Active");
    double.fail_next(1, 429, Some(2));
    let started = Instant::now();
    let page = with(connectwise(&double), |p| p.companies(None))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(page.companies.len(), 1);
    assert_eq!(double.request_count("GET", "/company/companies"), 2);
}

#[tokio::test]
async fn connectwise_three_503_are_unavailable() {
    let double = ConnectWiseDouble::start();
    double.fail_next(3, 503, None);
    let result = with(connectwise(&double), Psa::check).await;
    match result {
        Err(e @ PsaError::Unavailable(_)) => {
            assert!(e.retryable() && e.to_string().contains("503"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(double.request_count("GET", "/system/info"), 3);
    // The fault is spent: the next call goes through.
    assert_eq!(with(connectwise(&double), Psa::check).await, Ok(()));
}

#[tokio::test]
async fn connectwise_malformed_page_is_malformed() {
    let double = ConnectWiseDouble::start();
    for n in 1..=5 {
        double.add_company(
            &format!("Company {n}"),
            &format!("C{n}"),
            "Client",
            "Active",
        );
    }
    double.malformed_page(2);
    let psa = connectwise(&double).with_page_size(2);
    let (first, second) = with(psa, |p| {
        let first = p.companies(None);
        let next = first.as_ref().ok().and_then(|page| page.next.clone());
        (first, p.companies(next.as_deref()))
    })
    .await;
    assert_eq!(first.unwrap().companies.len(), 2);
    match second {
        Err(PsaError::Malformed(m)) => assert!(m.contains("not the JSON expected"), "{m}"),
        other => panic!("{other:?}"),
    }
}

// ---- Autotask ------------------------------------------------------------------------------

fn at_connection(double: &AutotaskDouble) -> Connection {
    Connection {
        kind: PsaKind::Autotask,
        base_url: double.base_url(),
        codebase: String::new(),
        credentials: Credentials::Autotask {
            username: at::USERNAME.into(),
            secret: at::SECRET.into(),
            integration_code: at::INTEGRATION_CODE.into(),
        },
        defaults: CreateDefaults {
            site: String::new(),
            address_line: String::new(),
            owner_resource_id: at::OWNER_RESOURCE_ID.to_string(),
            phone: String::new(),
        },
        policy: LOCAL,
        timeout: Duration::from_secs(10),
        attempts: roster::psa::retry::MAX_ATTEMPTS,
        quote_answers: true,
    }
}

fn autotask(double: &AutotaskDouble) -> Autotask {
    Autotask::new(at_connection(double)).expect("connector")
}

fn with_credentials(double: &AutotaskDouble, username: &str, secret: &str) -> Autotask {
    let mut connection = at_connection(double);
    connection.credentials = Credentials::Autotask {
        username: username.into(),
        secret: secret.into(),
        integration_code: at::INTEGRATION_CODE.into(),
    };
    Autotask::new(connection).unwrap()
}

#[tokio::test]
async fn autotask_wrong_credentials_are_unauthorized() {
    let double = AutotaskDouble::start();
    let psa = with_credentials(&double, at::USERNAME, "not-the-secret");
    assert_eq!(with(psa, Psa::check).await, Err(PsaError::Unauthorized));

    // An unknown user name: the zone lookup answers 500 with `errors`, once.
    double.forget_requests();
    let psa = with_credentials(&double, "nobody@roster.test", at::SECRET);
    assert_eq!(
        with(psa, |p| p.companies(None)).await.unwrap_err(),
        PsaError::Unauthorized
    );
    assert_eq!(double.request_count("GET", "/zoneInformation"), 1);
    assert_eq!(double.requests().len(), 1);
}

#[tokio::test]
async fn autotask_asks_for_the_zone_once() {
    let double = AutotaskDouble::start();
    let calls = with(autotask(&double), |p| {
        (
            p.check(),
            p.vocabulary(),
            p.companies(None).map(|page| page.companies.len()),
        )
    })
    .await;
    assert_eq!(calls.0, Ok(()));
    let vocabulary = calls.1.unwrap();
    assert!(vocabulary.types.contains(&"Customer".to_owned()));
    assert_eq!(vocabulary.statuses, ["Active", "Inactive"]);
    assert_eq!(calls.2, Ok(0));
    assert_eq!(double.request_count("GET", "/zoneInformation"), 1);
}

#[tokio::test]
async fn autotask_pages_through_next_page_urls() {
    let double = AutotaskDouble::start();
    for n in 1..=7 {
        double.add_company(
            &format!("Company {n}"),
            &format!("N{n}"),
            "Customer",
            n != 7,
        );
    }
    let (all, pages) = with(autotask(&double).with_page_size(3), |p| read_all(p))
        .await
        .unwrap();
    assert_eq!((all.len(), pages), (7, 3));
    assert_eq!(double.request_count("POST", "/Companies/query"), 1);
    assert_eq!(double.request_count("POST", "/Companies/query/next"), 2);
    let first = &all[0];
    assert_eq!(
        (first.name.as_str(), first.short_name.as_str()),
        ("Company 1", "N1")
    );
    assert_eq!(first.type_name.as_deref(), Some("Customer"));
    assert_eq!(first.status_name.as_deref(), Some("Active"));
    assert!(!first.deleted);
    assert_eq!(all[6].status_name.as_deref(), Some("Inactive"));
    let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique);

    // The double's own page size (smaller than MaxRecords) is followed as well.
    double.set_page_size(2);
    let (all, pages) = with(autotask(&double), |p| read_all(p)).await.unwrap();
    assert_eq!((all.len(), pages), (7, 4));
}

#[tokio::test]
async fn autotask_updates_companies_and_says_what_a_create_lacks() {
    let double = AutotaskDouble::start();
    let id = double.add_company("Acme Corp", "ACME01", "Customer", true);
    with(autotask(&double), move |p| {
        p.update(
            &id.to_string(),
            &fields("Acme Corporation", "ACME02", "Prospect", "Inactive"),
        )
    })
    .await
    .unwrap();
    let stored = double.company(id).unwrap();
    assert_eq!(stored.name, "Acme Corporation");
    assert_eq!(stored.number, "ACME02");
    assert_eq!(stored.type_name, "Prospect");
    assert!(!stored.active);

    // Autotask requires a phone number for a new company: without one in the settings, refused
    // before anything is sent; with one, created.
    let created = with(autotask(&double), |p| {
        p.create(&fields("New Co", "NEW01", "Customer", "Active"))
    })
    .await;
    match created {
        Err(PsaError::Refused(m)) => assert!(m.contains("phone"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(double.request_count("POST", "/Companies"), 0);
    assert_eq!(double.companies().len(), 1);
    let mut connection = at_connection(&double);
    connection.defaults.phone = "555-0199".into();
    let created = with(Autotask::new(connection).unwrap(), |p| {
        p.create(&fields("New Co", "NEW01", "Customer", "Active"))
    })
    .await
    .unwrap();
    let stored = double.company(created.id.parse().unwrap()).unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.phone.as_str()),
        ("New Co", "555-0199")
    );
    double.remove(stored.id);

    let unknown = with(autotask(&double), move |p| {
        p.update(&id.to_string(), &fields("Acme", "", "Reseller", "Active"))
    })
    .await;
    assert!(
        matches!(unknown, Err(PsaError::Refused(m)) if m.contains("\"Reseller\"") && m.contains("Customer"))
    );
    assert_eq!(double.request_count("PATCH", "/Companies"), 1);
}

#[tokio::test]
async fn autotask_malformed_page_is_malformed() {
    let double = AutotaskDouble::start();
    for n in 1..=3 {
        double.add_company(&format!("Company {n}"), "", "Customer", true);
    }
    double.malformed_page(2);
    let result = with(autotask(&double).with_page_size(2), |p| read_all(p)).await;
    assert!(matches!(result, Err(PsaError::Malformed(_))), "{result:?}");
}

#[tokio::test]
async fn autotask_next_page_elsewhere_is_not_followed() {
    // A cursor on another host is refused before anything is sent.
    let double = AutotaskDouble::start();
    for n in 1..=3 {
        double.add_company(&format!("Company {n}"), "", "Customer", true);
    }
    let port = double.port();
    let result = with(autotask(&double).with_page_size(2), move |p| {
        let next = p.companies(None)?.next.expect("a second page");
        assert!(
            next.starts_with(&format!("http://127.0.0.1:{port}/")),
            "{next}"
        );
        let elsewhere = next.replace("127.0.0.1", "localhost");
        p.companies(Some(&elsewhere))
    })
    .await;
    assert!(matches!(result, Err(PsaError::Malformed(m)) if m.contains("not on the zone's host")));
    assert_eq!(double.request_count("POST", "/Companies/query/next"), 0);

    // A page whose nextPageUrl names another host is refused, and that host hears nothing.
    let elsewhere = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let foreign = format!(
        "http://{}/atservicesrest/v1.0/Companies/query/next?paging=x",
        elsewhere.local_addr().unwrap()
    );
    let zone = ScriptedZone::start(&foreign);
    let mut connection = at_connection(&double);
    connection.base_url = zone.base_url.clone();
    let result = with(Autotask::new(connection).unwrap(), |p| p.companies(None)).await;
    assert!(matches!(result, Err(PsaError::Malformed(m)) if m.contains("not on the zone's host")));
    assert_eq!(zone.served(), 2, "the zone lookup and the first page");
    assert!(elsewhere.accept().is_err(), "the other host was called");
}

/// A one-off Autotask zone: answers the zone lookup with itself, then one page of companies whose
/// `nextPageUrl` is `next`.
struct ScriptedZone {
    base_url: String,
    thread: std::thread::JoinHandle<usize>,
}

impl ScriptedZone {
    fn start(next: &str) -> Self {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let base_url = format!("{origin}/atservicesrest");
        let answers = [
            serde_json::json!({"zoneName": "Scripted", "url": format!("{base_url}/"), "ci": 1}),
            serde_json::json!({"items": [{"id": 1, "companyName": "A", "companyType": 1, "isActive": true}],
                "pageDetails": {"count": 1, "requestCount": 500, "prevPageUrl": null, "nextPageUrl": next}}),
        ];
        let thread = std::thread::spawn(move || {
            let mut served = 0;
            for answer in answers {
                let (mut stream, _) = listener.accept().unwrap();
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let n = stream.read(&mut buf).unwrap();
                    seen.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
                    let Some(end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let length: usize = text[..end]
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    if n == 0 || seen.len() >= end + 4 + length {
                        break;
                    }
                }
                let body = answer.to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(response.as_bytes()).unwrap();
                served += 1;
            }
            served
        });
        Self { base_url, thread }
    }

    fn served(self) -> usize {
        self.thread.join().unwrap()
    }
}
