//! The state directory: `state.dir/<application.id>/<task id>/`, one per task, each with a
//! lock file so that two instances (or two threads) on one machine never open the same
//! task's stores, and a cleaner for directories of tasks this instance no longer owns.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::TaskId;

/// Name of the per-task lock file.
const LOCK_FILE: &str = ".lock";
/// Name of the task's redb database.
pub const DB_FILE: &str = "state.redb";

/// Why a task directory could not be had.
#[derive(Debug, thiserror::Error)]
pub enum StateDirError {
    /// Another instance or thread holds the task's lock.
    #[error("task {task}: its state directory {dir} is locked by another instance or thread on this machine (state.dir is shared); retrying")]
    Locked {
        /// The task.
        task: TaskId,
        /// Its directory.
        dir: PathBuf,
    },
    /// A filesystem operation failed.
    #[error("state directory {path}: {detail} (check state.dir)")]
    Io {
        /// The path.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
}

fn io(path: &Path, e: impl std::fmt::Display) -> StateDirError {
    StateDirError::Io {
        path: path.to_owned(),
        detail: e.to_string(),
    }
}

/// The application's state directory.
#[derive(Debug, Clone)]
pub struct StateDirectory {
    root: PathBuf,
}

/// A held task directory: the lock is released when this is dropped.
#[derive(Debug)]
pub struct TaskDirectory {
    task: TaskId,
    dir: PathBuf,
    _lock: File,
}

impl TaskDirectory {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The task's database file.
    pub fn db_path(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }

    /// The task.
    pub fn task(&self) -> TaskId {
        self.task
    }

    /// Delete the task's stores (the directory stays, locked).
    pub fn wipe(&self) -> Result<(), StateDirError> {
        let db = self.db_path();
        match std::fs::remove_file(&db) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&db, e)),
        }
    }
}

impl StateDirectory {
    /// `state_dir/application_id`, created if missing.
    pub fn new(state_dir: &Path, application_id: &str) -> Result<Self, StateDirError> {
        let root = state_dir.join(application_id);
        std::fs::create_dir_all(&root).map_err(|e| io(&root, e))?;
        Ok(StateDirectory { root })
    }

    /// The application's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of `task` (not necessarily existing).
    pub fn task_dir(&self, task: TaskId) -> PathBuf {
        self.root.join(task.to_string())
    }

    /// Create and lock the directory of `task`. Fails with [`StateDirError::Locked`] while
    /// another holder has it.
    pub fn lock_task(&self, task: TaskId) -> Result<TaskDirectory, StateDirError> {
        let dir = self.task_dir(task);
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let lock_path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io(&lock_path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(StateDirError::Locked { task, dir }),
            Err(TryLockError::Error(e)) => return Err(io(&lock_path, e)),
        }
        // Mark it used now: the cleaner measures `state.cleanup.delay.ms` from here.
        let _ = file.set_modified(SystemTime::now());
        Ok(TaskDirectory {
            task,
            dir,
            _lock: file,
        })
    }

    /// Task directories present on disk.
    pub fn task_dirs(&self) -> Vec<(TaskId, PathBuf)> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name();
                let id: TaskId = name.to_str()?.parse().ok()?;
                Some((id, e.path()))
            })
            .collect()
    }

    /// Delete the directories of tasks not held by anyone and unused for longer than
    /// `delay` (Kafka's `state.cleanup.delay.ms`). Returns the tasks removed.
    pub fn clean_unused(&self, delay: Duration, now: SystemTime) -> Vec<TaskId> {
        let mut removed = Vec::new();
        for (task, dir) in self.task_dirs() {
            let lock_path = dir.join(LOCK_FILE);
            let last_used = std::fs::metadata(&lock_path)
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            if now.duration_since(last_used).unwrap_or_default() < delay {
                continue;
            }
            // Only a directory nobody holds: take its lock while deleting it.
            let Ok(held) = self.lock_task(task) else {
                continue;
            };
            let _ = std::fs::remove_dir_all(&dir);
            drop(held);
            tracing::info!(task = %task, dir = %dir.display(), "removed the state of a task not owned here (state.cleanup.delay.ms passed)");
            removed.push(task);
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "streams-state-dir-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_task_directory_is_held_by_one_owner_at_a_time() {
        let root = temp_dir("lock");
        let a = StateDirectory::new(&root, "app").unwrap();
        let b = StateDirectory::new(&root, "app").unwrap();
        let task = TaskId::new(0, 1);
        let held = a.lock_task(task).unwrap();
        assert_eq!(held.path(), root.join("app").join("0_1"));
        let e = b.lock_task(task).unwrap_err();
        assert!(matches!(e, StateDirError::Locked { .. }), "{e}");
        assert!(e.to_string().contains("locked by another instance"), "{e}");
        drop(held);
        b.lock_task(task).unwrap();
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn unused_directories_go_after_the_delay_held_ones_never() {
        let root = temp_dir("clean");
        let dir = StateDirectory::new(&root, "app").unwrap();
        let held = dir.lock_task(TaskId::new(0, 0)).unwrap();
        drop(dir.lock_task(TaskId::new(0, 1)).unwrap());
        let now = SystemTime::now();
        assert!(dir.clean_unused(Duration::from_secs(600), now).is_empty());
        let later = now + Duration::from_secs(601);
        assert_eq!(
            dir.clean_unused(Duration::from_secs(600), later),
            vec![TaskId::new(0, 1)]
        );
        assert!(held.path().exists());
        assert!(!root.join("app").join("0_1").exists());
        let _ = std::fs::remove_dir_all(&root);
    }
}
