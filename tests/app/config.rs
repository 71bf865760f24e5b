//! Settings: generated keys, refused short keys, refused unknown database URLs.

use std::os::unix::fs::PermissionsExt;

use roster::config::RawSettings;

#[test]
fn keys_are_generated_once_readable_by_the_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let raw = RawSettings {
        data_dir: Some(dir.path().to_path_buf()),
        ..RawSettings::default()
    };
    let first = raw.clone().resolve().unwrap();
    for name in ["session.key", "data.key"] {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
    let second = raw.resolve().unwrap();
    assert_eq!(first.session_key.expose(), second.session_key.expose());
    assert_eq!(first.data_key.expose(), second.data_key.expose());
    assert_ne!(first.session_key.expose(), first.data_key.expose());
    assert!(first.database_url.ends_with("roster.sqlite3"));
    assert_eq!(first.bind, "127.0.0.1:8080");
    assert!(
        !format!("{first:?}").contains(&format!("{:?}", first.session_key.expose())),
        "keys never print"
    );
}

#[test]
fn a_short_key_stops_the_start_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let raw = RawSettings {
        data_dir: Some(dir.path().to_path_buf()),
        session_key: Some("c2hvcnQga2V5".into()),
        ..RawSettings::default()
    };
    let message = raw.resolve().unwrap_err().to_string();
    assert!(message.contains("ROSTER_SESSION_KEY"), "{message}");
    assert!(message.contains("at least 32"), "{message}");
    assert!(message.contains("openssl rand -base64 32"), "{message}");
}

#[test]
fn an_unknown_database_scheme_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let raw = RawSettings {
        data_dir: Some(dir.path().to_path_buf()),
        database_url: Some("mysql://localhost/roster".into()),
        ..RawSettings::default()
    };
    let message = raw.resolve().unwrap_err().to_string();
    assert!(
        message.contains("unsupported database URL scheme"),
        "{message}"
    );
}
