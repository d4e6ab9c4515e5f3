//! The process id an instance keeps in its state directory
//! (`state.dir/<application.id>/kafka-streams-process-metadata`, as Kafka Streams does), so a
//! restarted instance is the same client to the group leader (its tasks' state is here) and
//! rejoins as the same static members (`group.instance.id` is derived from it), and its
//! transactional producers keep their `transactional.id`s — the new producer fences the
//! crashed one's and aborts its open transaction at once.
//!
//! Two instances on one state directory (allowed here, refused by Kafka Streams) must not share
//! an id: the first holds `.process.lock` for its lifetime; a second gets a fresh id that is not
//! written down.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use super::state_dir::StateDirError;
use super::StateDirectory;

/// The metadata file's name (Kafka Streams').
pub const PROCESS_FILE: &str = "kafka-streams-process-metadata";
/// Held while an instance uses the directory's process id.
const PROCESS_LOCK: &str = ".process.lock";

/// This instance's process id, and the lock that keeps it ours.
#[derive(Debug)]
pub struct ProcessIdentity {
    id: [u8; 16],
    persisted: bool,
    _lock: Option<File>,
}

impl ProcessIdentity {
    /// A fresh id kept nowhere (no state directory, or another instance holds its id).
    pub fn ephemeral() -> Self {
        let mut id = [0u8; 16];
        rand::Rng::fill(&mut rand::rng(), &mut id);
        // A version-4 UUID, as Java's `UUID.randomUUID`.
        id[6] = (id[6] & 0x0f) | 0x40;
        id[8] = (id[8] & 0x3f) | 0x80;
        ProcessIdentity {
            id,
            persisted: false,
            _lock: None,
        }
    }

    /// The id's 16 bytes.
    pub fn bytes(&self) -> [u8; 16] {
        self.id
    }

    /// Whether it is the state directory's (kept across restarts).
    pub fn persisted(&self) -> bool {
        self.persisted
    }

    /// Java's `UUID.toString` form, `8-4-4-4-12` lower-case hex.
    pub fn to_uuid_string(&self) -> String {
        uuid_string(&self.id)
    }
}

fn uuid_string(id: &[u8; 16]) -> String {
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Parse `8-4-4-4-12` hex; `None` for anything else.
fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.iter().map(|p| p.len()).collect::<Vec<_>>() != [8, 4, 4, 4, 12] {
        return None;
    }
    let hex: String = parts.concat();
    let mut id = [0u8; 16];
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(id)
}

/// The `processId` of the metadata file's JSON (`{"processId":"<uuid>",...}`), if readable.
fn read_process_id(text: &str) -> Option<[u8; 16]> {
    let after = text.split("\"processId\"").nth(1)?;
    let value = after.trim_start().strip_prefix(':')?.trim_start();
    let value = value.strip_prefix('"')?;
    parse_uuid(value.split('"').next()?)
}

fn io(path: &Path, e: impl std::fmt::Display) -> StateDirError {
    StateDirError::Io {
        path: path.to_owned(),
        detail: e.to_string(),
    }
}

impl StateDirectory {
    /// Claim the directory's process id, creating it on first use. While another instance
    /// holds it, a fresh id that is not written down (with a warning).
    pub fn claim_process_id(&self) -> Result<ProcessIdentity, StateDirError> {
        let lock_path = self.root().join(PROCESS_LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let fresh = ProcessIdentity::ephemeral();
                tracing::warn!(dir = %self.root().display(), process_id = %fresh.to_uuid_string(),
                    "another instance runs on this state directory: this one takes a fresh process id, so its restart will not resume its static group membership (give each instance its own state.dir)");
                return Ok(fresh);
            }
            Err(TryLockError::Error(e)) => return Err(io(&lock_path, e)),
        }
        let path = self.root().join(PROCESS_FILE);
        let existing = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let id = read_process_id(&text);
                if id.is_none() {
                    tracing::warn!(file = %path.display(), "the process metadata file is unreadable; writing a new process id");
                }
                id
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&path, e)),
        };
        let id = match existing {
            Some(id) => id,
            None => {
                let id = ProcessIdentity::ephemeral().id;
                let tmp = self.root().join(format!("{PROCESS_FILE}.tmp"));
                let text = format!("{{\"processId\":\"{}\"}}\n", uuid_string(&id));
                std::fs::write(&tmp, text).map_err(|e| io(&tmp, e))?;
                std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
                id
            }
        };
        Ok(ProcessIdentity {
            id,
            persisted: true,
            _lock: Some(lock),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_kept_across_restarts_and_never_shared() {
        let root = std::env::temp_dir().join(format!("streams-process-id-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = StateDirectory::new(&root, "app").unwrap();
        let first = dir.claim_process_id().unwrap();
        assert!(first.persisted());
        // A second instance on the same directory gets another id.
        let second = dir.claim_process_id().unwrap();
        assert!(!second.persisted());
        assert_ne!(first.bytes(), second.bytes());
        let id = first.to_uuid_string();
        drop(first);
        // The next start reads it back.
        let again = dir.claim_process_id().unwrap();
        assert_eq!(again.to_uuid_string(), id);
        let text = std::fs::read_to_string(root.join("app").join(PROCESS_FILE)).unwrap();
        assert!(text.contains(&format!("\"processId\":\"{id}\"")), "{text}");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn javas_metadata_file_is_read_and_garbage_is_refused() {
        let id = read_process_id(
            r#"{"processId" : "0f8fad5b-d9cb-469f-a165-70867728950e","newField":"x"}"#,
        )
        .unwrap();
        assert_eq!(uuid_string(&id), "0f8fad5b-d9cb-469f-a165-70867728950e");
        for bad in [
            "",
            "{}",
            r#"{"processId":"0f8fad5b"}"#,
            r#"{"processId":"zz8fad5b-d9cb-469f-a165-70867728950e"}"#,
            r#"{"processId":42}"#,
        ] {
            assert!(read_process_id(bad).is_none(), "{bad}");
        }
    }
}
