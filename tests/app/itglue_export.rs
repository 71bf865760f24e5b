//! A synthetic IT Glue export, written as the real one is laid out: 120 organizations (some
//! sub-organizations, two sharing a name), contacts in Windows-1252, configurations with dates,
//! passwords with one-time-password secrets, locations, a BOM and CRLF in organizations.csv.

use std::io::Write;
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{AesMode, CompressionMethod, ZipWriter};

pub const ORGS: usize = 120;
pub const DUPLICATE: &str = "Duplicate Dental";

/// The name of organization row `i` (0-based); rows 50 and 51 share `DUPLICATE`.
pub fn org_name(i: usize) -> String {
    if i == 50 || i == 51 {
        DUPLICATE.to_owned()
    } else {
        format!("Org {i:03}")
    }
}

fn csv_line(cells: &[String]) -> String {
    cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn organizations() -> Vec<u8> {
    let mut text = String::from(
        "\u{feff}id,name,short_name,description,quick_notes,alert,organization_type,organization_status,parent_id\r\n",
    );
    for i in 0..ORGS {
        let kind = ["Customer", "Vendor", "Prospect Partner"][i % 3];
        let status = if i % 7 == 0 { "Dormant" } else { "Active" };
        let parent = if i % 10 == 9 {
            (1000 + i - 1).to_string()
        } else {
            String::new()
        };
        let row = [
            (1000 + i).to_string(),
            org_name(i),
            format!("O{i}"),
            format!("Line one of {i}\r\nline two, with a comma"),
            String::new(),
            String::new(),
            kind.to_owned(),
            status.to_owned(),
            parent,
        ];
        text.push_str(&csv_line(&row));
        text.push_str("\r\n");
    }
    text.into_bytes()
}

/// Two contacts a row, in Windows-1252 (an older export): "José Müller".
fn contacts() -> Vec<u8> {
    let mut bytes = b"id,organization,first_name,last_name,title,notes,archived\n".to_vec();
    for i in 0..ORGS {
        for j in 0..2 {
            let line = csv_line(&[
                (5000 + 2 * i + j).to_string(),
                org_name(i),
                format!("Jos\u{e9} {j}"),
                "M\u{fc}ller".to_owned(),
                "IT".to_owned(),
                String::new(),
                "No".to_owned(),
            ]);
            let (encoded, _, _) = encoding_rs::WINDOWS_1252.encode(&line);
            bytes.extend_from_slice(&encoded);
            bytes.push(b'\n');
        }
    }
    bytes
}

fn configurations() -> Vec<u8> {
    let mut text = String::from(
        "id,organization,name,configuration_type,hostname,primary_ip,installed_at,archived\n",
    );
    for i in 0..ORGS {
        text.push_str(&csv_line(&[
            (8000 + i).to_string(),
            org_name(i),
            format!("srv-{i:03}"),
            "Server".to_owned(),
            format!("srv-{i:03}.example.com"),
            format!("10.0.{}.{}", i / 200, i % 200 + 1),
            "2024-03-15".to_owned(),
            if i % 9 == 0 { "Yes" } else { "No" }.to_owned(),
        ]));
        text.push('\n');
    }
    text.into_bytes()
}

/// Every password's one-time-password secret.
pub const OTP_SECRET: &str = "JBSWY3DPEHPK3PXP";

fn passwords() -> Vec<u8> {
    let mut text = String::from(
        "id,organization,name,password_category,resource_type,resource_id,username,password,one_time_password,archived,url,notes,otp_secret\n",
    );
    for i in 0..ORGS {
        text.push_str(&csv_line(&[
            (9000 + i).to_string(),
            org_name(i),
            format!("Admin {i}"),
            "Admin".to_owned(),
            String::new(),
            String::new(),
            "admin".to_owned(),
            format!("s3cret,\"{i}\""),
            "No".to_owned(),
            "No".to_owned(),
            "https://example.com".to_owned(),
            String::new(),
            OTP_SECRET.to_owned(),
        ]));
        text.push('\n');
    }
    text.into_bytes()
}

fn locations() -> Vec<u8> {
    let mut text = String::from("id,organization,name,address_1,city\n");
    for i in 0..5 {
        text.push_str(&format!(
            "{},Org {i:03},Main office,1 Main St,Springfield\n",
            7000 + i
        ));
    }
    text.into_bytes()
}

/// Writes the export into `dir` (as unpacked) and returns `dir`.
pub fn write_folder(dir: &Path) -> PathBuf {
    for (name, bytes) in files() {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir.to_path_buf()
}

fn files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("organizations.csv", organizations()),
        ("contacts.csv", contacts()),
        ("configurations.csv", configurations()),
        ("passwords.csv", passwords()),
        ("locations.csv", locations()),
    ]
}

/// Documents: ten, of organizations 0 to 9.
pub const DOCS: usize = 10;
/// The document whose HTML is hostile (scripts, event handlers, `javascript:` links).
pub const HOSTILE: usize = 7;
/// The document whose HTML file is empty, and the one whose image is not in the export.
pub const EMPTY: usize = 8;
pub const MISSING_IMAGE: usize = 9;
/// The document with no folder at all.
pub const NO_BODY: usize = 6;

/// A PNG's first bytes (enough for a type sniffed by content).
pub const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

pub fn doc_name(i: usize) -> String {
    format!("Runbook {i}")
}

/// The body of document `i`: text, an image saved without its extension, a link to the next
/// document (imported after it) and to the previous one.
fn document_body(i: usize) -> String {
    let link = |j: usize| {
        format!(
            "<a href=\"https://acme.itglue.com/{}/docs/{}\">see {}</a>",
            1000 + j,
            20000 + j,
            doc_name(j)
        )
    };
    match i {
        HOSTILE => "<p onmouseover=\"alert(3)\">hover me</p><script>alert('x')</script>\
                    <img src=\"x\" onerror=\"alert(1)\"><a href=\"javascript:alert(2)\">click</a>\
                    <a href=\"JaVaScRiPt:alert(4)\">again</a><iframe src=\"https://evil.example\"></iframe>"
            .to_owned(),
        EMPTY => String::new(),
        MISSING_IMAGE => "<p>Has a lost picture</p><img src=\"missing.png\">".to_owned(),
        _ => format!(
            "<h1>{}</h1>\r\n<p>Step one, of {i}</p>\r\n\r\n<pre>line a\n\nline b</pre><img src=\"diagram.png\" alt=\"diagram\">{}{}",
            doc_name(i),
            link((i + 1) % DOCS),
            link((i + DOCS - 1) % DOCS)
        ),
    }
}

fn documents() -> Vec<(String, Vec<u8>)> {
    let mut csv = String::from(
        "id,organization,name,expires_on,owner,publisher,locator,public,archived,help_center\n",
    );
    let mut out = Vec::new();
    for i in 0..DOCS {
        csv.push_str(&csv_line(&[
            (20000 + i).to_string(),
            org_name(i),
            doc_name(i),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "No".to_owned(),
            "No".to_owned(),
            "No".to_owned(),
        ]));
        csv.push('\n');
        if i == NO_BODY {
            continue;
        }
        // Sometimes under folders, sometimes `Documents/`.
        let folder = match i % 3 {
            0 => format!("documents/DOC-{}-{} {}", 1000 + i, 20000 + i, doc_name(i)),
            1 => format!(
                "Documents/Network/DOC-{}-{} {}",
                1000 + i,
                20000 + i,
                doc_name(i)
            ),
            _ => format!(
                "documents/A/B/DOC-{}-{} {}",
                1000 + i,
                20000 + i,
                doc_name(i)
            ),
        };
        out.push((
            format!("{folder}/{}.html", doc_name(i)),
            document_body(i).into_bytes(),
        ));
        // Saved without its extension: known by its content.
        out.push((format!("{folder}/diagram"), PNG.to_vec()));
    }
    out.push(("documents.csv".to_owned(), csv.into_bytes()));
    out
}

/// Flexible assets: `ssl-certificates.csv`, five, of organizations 0 to 4 (number, date,
/// Yes/No and text columns).
pub const CERTS: usize = 5;

fn certificates() -> Vec<u8> {
    let mut text =
        String::from("id,organization,name,issuer,expires_on,seats,auto_renew,archived\n");
    for i in 0..CERTS {
        text.push_str(&csv_line(&[
            (30000 + i).to_string(),
            org_name(i),
            format!("cert-{i}.example.com"),
            "Let's Encrypt".to_owned(),
            format!("2027-01-0{}", i + 1),
            (i * 10).to_string(),
            if i % 2 == 0 { "Yes" } else { "No" }.to_owned(),
            "No".to_owned(),
        ]));
        text.push('\n');
    }
    text.into_bytes()
}

/// Writes the export with documents and flexible assets too (the tests of `import_apply` count
/// without them).
pub fn write_full(dir: &Path) -> PathBuf {
    write_folder(dir);
    let mut more = documents();
    more.push(("ssl-certificates.csv".to_owned(), certificates()));
    for (name, bytes) in more {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir.to_path_buf()
}

/// The export as IT Glue hands it over: one ZIP, AES-encrypted when `password` is given; `extra`
/// entries are added as they are (bad names, bombs).
pub fn write_zip(path: &Path, password: Option<&str>, extra: &[(&str, Vec<u8>)]) -> PathBuf {
    let mut writer = ZipWriter::new(std::fs::File::create(path).unwrap());
    let plain = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let options = match password {
        Some(p) => plain.with_aes_encryption(AesMode::Aes256, p),
        None => plain,
    };
    for (name, bytes) in files() {
        writer.start_file(name, options).unwrap();
        writer.write_all(&bytes).unwrap();
    }
    for (name, bytes) in extra {
        writer.start_file(*name, plain).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap();
    path.to_path_buf()
}
