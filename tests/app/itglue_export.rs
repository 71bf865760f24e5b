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
            "JBSWY3DPEHPK3PXP".to_owned(),
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
