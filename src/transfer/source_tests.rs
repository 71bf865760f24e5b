use std::io::{Read, Write};

use zip::write::SimpleFileOptions;
use zip::{AesMode, CompressionMethod, ZipWriter};

use super::*;

fn zip_of(entries: &[(&str, &[u8])], options: SimpleFileOptions) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut writer = ZipWriter::new(file.reopen().unwrap());
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap();
    file
}

fn read_all(source: &mut Source, name: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    source
        .open_file(name)
        .map_err(|e| e.to_string())?
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

#[test]
fn a_zip_is_read_in_place_and_files_are_found_by_name() {
    let zip = zip_of(
        &[
            ("export/Organizations.csv", b"id,name\n1,A\n"),
            ("export/deeper/organizations.csv", b"x"),
        ],
        deflated(),
    );
    let mut source = Source::open(zip.path(), None, Limits::default()).unwrap();
    let name = source.find("organizations.csv").unwrap();
    assert_eq!(name, "export/Organizations.csv");
    assert_eq!(read_all(&mut source, &name).unwrap(), b"id,name\n1,A\n");
}

#[test]
fn parent_and_absolute_paths_refuse_the_whole_zip() {
    for bad in [
        "../evil.csv",
        "a/../../evil.csv",
        "/etc/evil.csv",
        "C:/evil.csv",
        "..\\evil.csv",
    ] {
        let zip = zip_of(&[("organizations.csv", b"id\n"), (bad, b"x")], deflated());
        let err = Source::open(zip.path(), None, Limits::default())
            .err()
            .unwrap_or_else(|| panic!("{bad} was accepted"));
        assert!(
            err.to_string().contains("points outside the export"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn a_declared_bomb_is_refused_before_unpacking() {
    let zeros = vec![0u8; 40 << 20];
    let zip = zip_of(&[("organizations.csv", &zeros)], deflated());
    let err = Source::open(zip.path(), None, Limits::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("ZIP bomb"), "{err}");
    let small = Limits {
        entry_bytes: 1 << 20,
        ..Limits::default()
    };
    let zip = zip_of(
        &[("a.csv", &zeros[..2 << 20])],
        SimpleFileOptions::default().compression_method(CompressionMethod::Stored),
    );
    assert!(Source::open(zip.path(), None, small).is_err());
}

/// A header that declares 1,000 bytes for an entry that unpacks to 8 MB.
#[test]
fn an_entry_unpacking_past_its_declared_size_is_stopped() {
    let big = vec![b'a'; 8 << 20];
    let zip = zip_of(&[("organizations.csv", &big)], deflated());
    let mut bytes = std::fs::read(zip.path()).unwrap();
    let size = (8u32 << 20).to_le_bytes();
    let lie = 1000u32.to_le_bytes();
    let mut patched = 0;
    for i in 0..bytes.len() - 4 {
        if bytes[i..i + 4] == size {
            bytes[i..i + 4].copy_from_slice(&lie);
            patched += 1;
        }
    }
    assert!(patched >= 2, "both headers patched");
    std::fs::write(zip.path(), &bytes).unwrap();
    let mut source = Source::open(zip.path(), None, Limits::default()).unwrap();
    let err = read_all(&mut source, "organizations.csv").unwrap_err();
    assert!(
        err.contains("organizations.csv cannot be unpacked") && err.contains("the import stopped"),
        "{err}"
    );
}

#[test]
fn encrypted_zips_need_the_right_password() {
    let aes = deflated().with_aes_encryption(AesMode::Aes256, "right horse");
    let zip = zip_of(&[("organizations.csv", b"id,name\n1,A\n")], aes);
    let missing = Source::open(zip.path(), None, Limits::default())
        .err()
        .unwrap();
    assert!(
        missing.to_string().contains("password-protected"),
        "{missing}"
    );
    let wrong = Source::open(zip.path(), Some("wrong"), Limits::default())
        .err()
        .unwrap();
    assert_eq!(wrong.to_string(), "the ZIP password is wrong");
    let mut source = Source::open(zip.path(), Some("right horse"), Limits::default()).unwrap();
    assert_eq!(
        read_all(&mut source, "organizations.csv").unwrap(),
        b"id,name\n1,A\n"
    );
}

#[test]
fn zipcrypto_passwords_are_read_too() {
    use zip::unstable::write::FileOptionsExt;
    let legacy = deflated()
        .with_deprecated_encryption(b"old secret")
        .unwrap();
    let zip = zip_of(&[("organizations.csv", b"id,name\n1,A\n")], legacy);
    assert!(Source::open(zip.path(), Some("not it"), Limits::default()).is_err());
    let mut source = Source::open(zip.path(), Some("old secret"), Limits::default()).unwrap();
    assert_eq!(
        read_all(&mut source, "organizations.csv").unwrap(),
        b"id,name\n1,A\n"
    );
}

#[test]
fn a_folder_is_read_without_following_links() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/contacts.csv"), b"id\n").unwrap();
    std::fs::write(dir.path().join("organizations.csv"), b"id\n").unwrap();
    std::os::unix::fs::symlink("/etc", dir.path().join("etc")).unwrap();
    let source = Source::open(dir.path(), None, Limits::default()).unwrap();
    assert_eq!(source.names(), ["organizations.csv", "sub/contacts.csv"]);
}
