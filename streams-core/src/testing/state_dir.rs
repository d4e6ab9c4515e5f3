//! The driver's temporary state directory: persistent stores on redb under
//! `<temp dir>/streams-test-driver-<pid>-<n>/<application.id>/<task>/`, removed when the
//! driver goes.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::TestDriverError;
use crate::state::StateDirectory;

/// Drivers created by this process so far: each gets its own directory.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A state directory of its own, deleted on drop.
#[derive(Debug)]
pub(crate) struct TempStateDir {
    root: PathBuf,
    /// `root/<application.id>`.
    pub directory: StateDirectory,
}

impl TempStateDir {
    /// A fresh, empty directory for `application_id` (a leftover of a process that had the
    /// same id is deleted first).
    pub fn create(application_id: &str) -> Result<TempStateDir, TestDriverError> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let root =
            std::env::temp_dir().join(format!("streams-test-driver-{}-{n}", std::process::id()));
        if root.exists() {
            std::fs::remove_dir_all(&root).map_err(|e| {
                TestDriverError::Config(format!(
                    "cannot clear the test driver's state directory {}: {e}",
                    root.display()
                ))
            })?;
        }
        let directory = StateDirectory::new(&root, application_id)
            .map_err(|e| TestDriverError::Config(e.to_string()))?;
        Ok(TempStateDir { root, directory })
    }
}

impl Drop for TempStateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
