//! Where an export is read from: a ZIP (optionally with an AES or ZipCrypto password) or a folder.
//! Entries are read in place, never unpacked to disk; a ZIP with an entry named outside its own
//! root (`../`, absolute) is refused whole, and unpacked sizes are bounded as declared and as read.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use zip::ZipArchive;
use zip::result::ZipError;

use super::TransferError;

/// Bounds on what a ZIP may unpack to (a "ZIP bomb" is stopped by these).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most one entry may unpack to.
    pub entry_bytes: u64,
    /// The most all entries together may declare.
    pub total_bytes: u64,
    /// Above this size an entry may not unpack to more than `ratio` times its packed size.
    pub ratio_floor: u64,
    pub ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            entry_bytes: 8 << 30,
            total_bytes: 32 << 30,
            ratio_floor: 16 << 20,
            ratio: 200,
        }
    }
}

/// An opened export.
pub enum Source {
    Zip {
        archive: Box<ZipArchive<File>>,
        password: Option<String>,
        names: Vec<String>,
        limits: Limits,
    },
    Folder {
        root: PathBuf,
        names: Vec<String>,
    },
}

impl Source {
    /// Opens `path`: a folder, or a ZIP (`password` for an encrypted one). Checks every entry's
    /// name and declared size, and the password, before anything is read.
    pub fn open(
        path: &Path,
        password: Option<&str>,
        limits: Limits,
    ) -> Result<Source, TransferError> {
        if path.is_dir() {
            let mut names = Vec::new();
            walk(path, path, &mut names)?;
            names.sort();
            return Ok(Source::Folder {
                root: path.to_owned(),
                names,
            });
        }
        let file = File::open(path).map_err(|e| {
            TransferError::Archive(format!("{} cannot be opened: {e}", path.display()))
        })?;
        let mut archive = ZipArchive::new(file).map_err(|e| {
            TransferError::Archive(format!(
                "{} is neither a folder nor a readable ZIP file ({e})",
                path.display()
            ))
        })?;
        let names = check_entries(&archive, limits)?;
        check_password(&mut archive, password)?;
        Ok(Source::Zip {
            archive: Box::new(archive),
            password: password.map(str::to_owned),
            names,
            limits,
        })
    }

    /// Every file's path inside the export, `/`-separated.
    pub fn names(&self) -> &[String] {
        match self {
            Source::Zip { names, .. } | Source::Folder { names, .. } => names,
        }
    }

    /// The file whose name (any folder, any case) is `file_name`, e.g. `organizations.csv`; the
    /// shallowest wins.
    pub fn find(&self, file_name: &str) -> Option<String> {
        self.names()
            .iter()
            .filter(|n| {
                n.rsplit('/')
                    .next()
                    .is_some_and(|base| base.eq_ignore_ascii_case(file_name))
            })
            .min_by_key(|n| n.matches('/').count())
            .cloned()
    }

    /// Reads one file; a ZIP entry is read within the limits.
    pub fn open_file(&mut self, name: &str) -> Result<Box<dyn Read + '_>, TransferError> {
        match self {
            Source::Folder { root, .. } => {
                let file = File::open(root.join(name))
                    .map_err(|e| TransferError::Archive(format!("{name} cannot be read: {e}")))?;
                Ok(Box::new(file))
            }
            Source::Zip {
                archive,
                password,
                limits,
                ..
            } => {
                let index = archive
                    .index_for_name(name)
                    .ok_or_else(|| TransferError::Archive(format!("{name} is not in the ZIP")))?;
                let entry = match password {
                    Some(p) => archive.by_index_decrypt(index, p.as_bytes()),
                    None => archive.by_index(index),
                }
                .map_err(|e| zip_error(name, &e))?;
                let declared = entry.size();
                Ok(Box::new(Bounded {
                    inner: entry,
                    name: name.to_owned(),
                    read: 0,
                    most: declared.min(limits.entry_bytes),
                }))
            }
        }
    }
}

fn walk(root: &Path, dir: &Path, names: &mut Vec<String>) -> Result<(), TransferError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| TransferError::Archive(format!("{} cannot be listed: {e}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(|e| TransferError::Archive(e.to_string()))?;
        // Symbolic links are not followed: the export is what the folder holds.
        let kind = entry
            .file_type()
            .map_err(|e| TransferError::Archive(e.to_string()))?;
        let path = entry.path();
        if kind.is_dir() {
            walk(root, &path, names)?;
        } else if kind.is_file()
            && let Ok(relative) = path.strip_prefix(root)
        {
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            names.push(parts.join("/"));
        }
    }
    Ok(())
}

/// Names inside the root only, sizes within the limits; returns the file names.
fn check_entries(archive: &ZipArchive<File>, limits: Limits) -> Result<Vec<String>, TransferError> {
    let mut names = Vec::new();
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive
            .by_index_data(index)
            .map_err(|e| TransferError::Archive(format!("the ZIP is damaged ({e})")))?;
        let name = entry
            .name()
            .map_err(|e| TransferError::Archive(format!("the ZIP is damaged ({e})")))?
            .into_owned();
        if !is_inside(&name) {
            return Err(TransferError::Archive(format!(
                "the ZIP holds an entry named \"{name}\", which points outside the export \
                 (a `../` or absolute path); it is refused whole and nothing was read"
            )));
        }
        if entry.is_dir() {
            continue;
        }
        let size = entry.size();
        let packed = entry.compressed_size().max(1);
        if size > limits.entry_bytes || (size > limits.ratio_floor && size / packed > limits.ratio)
        {
            return Err(bomb(&name, size, packed));
        }
        total = total.saturating_add(size);
        if total > limits.total_bytes {
            return Err(TransferError::Archive(format!(
                "the ZIP declares more than {} bytes unpacked in all, more than the {} accepted; \
                 nothing was read",
                total, limits.total_bytes
            )));
        }
        names.push(name);
    }
    names.sort();
    Ok(names)
}

fn bomb(name: &str, size: u64, packed: u64) -> TransferError {
    TransferError::Archive(format!(
        "{name} would unpack from {packed} to {size} bytes: this looks like a ZIP bomb, and the \
         import stopped before unpacking it"
    ))
}

/// A relative path that stays below the root (no `..`, no root, no drive, no NUL).
fn is_inside(name: &str) -> bool {
    if name.contains('\0') || name.starts_with('/') || name.starts_with('\\') {
        return false;
    }
    if name.as_bytes().get(1) == Some(&b':') {
        return false;
    }
    name.split(['/', '\\']).all(|part| {
        part != ".."
            && Path::new(part)
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    })
}

/// An encrypted ZIP needs its password, and the right one: checked on the first encrypted entry.
fn check_password(
    archive: &mut ZipArchive<File>,
    password: Option<&str>,
) -> Result<(), TransferError> {
    let Some(index) = (0..archive.len()).find(|&i| {
        archive
            .by_index_data(i)
            .is_ok_and(|e| e.encrypted() && !e.is_dir())
    }) else {
        return Ok(());
    };
    let Some(password) = password else {
        return Err(TransferError::Password(
            "the ZIP is password-protected: give its password".to_owned(),
        ));
    };
    let name = archive
        .name_for_index(index)
        .and_then(Result::ok)
        .map(std::borrow::Cow::into_owned)
        .unwrap_or_default();
    let mut entry = archive
        .by_index_decrypt(index, password.as_bytes())
        .map_err(|e| zip_error(&name, &e))?;
    // ZipCrypto's header check lets one wrong password in 256 through; reading a little more
    // of the entry (its checksum at the end for a small one) catches most of the rest.
    let mut sample = vec![0u8; 64 * 1024];
    loop {
        match entry.read(&mut sample) {
            Ok(0) => return Ok(()),
            Ok(_) if entry.size() > 1 << 20 => return Ok(()),
            Ok(_) => {}
            Err(_) => return Err(wrong_password()),
        }
    }
}

fn wrong_password() -> TransferError {
    TransferError::Password("the ZIP password is wrong".to_owned())
}

fn zip_error(name: &str, e: &ZipError) -> TransferError {
    match e {
        ZipError::InvalidPassword => wrong_password(),
        ZipError::UnsupportedArchive(ZipError::PASSWORD_REQUIRED) => {
            TransferError::Password("the ZIP is password-protected: give its password".to_owned())
        }
        other => TransferError::Archive(format!("{name} cannot be read from the ZIP ({other})")),
    }
}

/// A ZIP entry's bytes, stopped when they pass its declared size or the entry limit (a header
/// that lies about the size is the other half of a ZIP bomb).
struct Bounded<R> {
    inner: R,
    name: String,
    read: u64,
    most: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // The ZIP reader checks the declared size itself too; say which entry, and why it matters.
        let n = self.inner.read(buf).map_err(|e| {
            io::Error::other(format!(
                "{} cannot be unpacked ({e}): a damaged ZIP or a ZIP bomb; the import stopped",
                self.name
            ))
        })?;
        self.read += n as u64;
        if self.read > self.most {
            return Err(io::Error::other(format!(
                "{} unpacks to more than the {} bytes it declares: this looks like a ZIP bomb, \
                 and the import stopped",
                self.name, self.most
            )));
        }
        Ok(n)
    }
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;
