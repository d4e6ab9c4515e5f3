//! The redb backend: one redb file per task. One write transaction stays open between
//! commits: processing reads its own writes through it, and [`StateBackend::commit`] stores the
//! changelog positions in it and commits it durably, data and positions together.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use kafka_wire::TopicPartition;
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    TableHandle, WriteTransaction,
};

use super::{offset_key, parse_offset_key, BackendError, Entries, StateBackend};

/// One entry of a range over a byte table.
type RangeItem<'a> = Result<
    (
        redb::AccessGuard<'a, &'static [u8]>,
        redb::AccessGuard<'a, &'static [u8]>,
    ),
    redb::StorageError,
>;

/// The table of changelog positions (not a store's table).
const OFFSETS: TableDefinition<&str, i64> = TableDefinition::new("__changelog_offsets");

fn data_table(name: &str) -> TableDefinition<'_, &'static [u8], &'static [u8]> {
    TableDefinition::new(name)
}

/// A task's stores in one redb file.
pub struct RedbBackend {
    path: PathBuf,
    db: Database,
    txn: Option<redb::WriteTransaction>,
    /// Data tables that exist in the open transaction's view (reads of others are empty,
    /// without creating them).
    tables: BTreeSet<String>,
    offsets: BTreeMap<TopicPartition, i64>,
}

impl std::fmt::Debug for RedbBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbBackend")
            .field("path", &self.path)
            .field("tables", &self.tables)
            .field("offsets", &self.offsets)
            .finish_non_exhaustive()
    }
}

/// The first bytes of every redb file (redb's `MAGICNUMBER`), written when it is created.
const REDB_MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];

/// Whether `path` exists but does not start with redb's header: a creation cut short.
fn unfinished(path: &Path) -> bool {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false; // absent (or unreadable: Database::create reports it)
    };
    let mut head = [0u8; REDB_MAGIC.len()];
    file.read_exact(&mut head)
        .map_or(true, |()| head != REDB_MAGIC)
}

impl RedbBackend {
    /// Open (or create) the database at `path` and read its committed changelog positions.
    pub fn open(path: &Path) -> Result<Self, BackendError> {
        let at = path.display().to_string();
        // A SIGKILL while redb created the file leaves it without its header: it never held a
        // commit, so nothing is lost by starting it again (the store restores from its
        // changelog's beginning, as after a wipe).
        if unfinished(path) {
            tracing::warn!(path = %at,
                "the store's file was left unfinished by a crash while it was being created; starting it empty (restored from its changelog)");
            std::fs::remove_file(path).map_err(|e| BackendError::new(&at, e))?;
        }
        let db = Database::create(path).map_err(|e| BackendError::new(&at, e))?;
        let mut backend = RedbBackend {
            path: path.to_owned(),
            db,
            txn: None,
            tables: BTreeSet::new(),
            offsets: BTreeMap::new(),
        };
        backend.load()?;
        Ok(backend)
    }

    /// Read the table names and positions of the last commit.
    fn load(&mut self) -> Result<(), BackendError> {
        let txn = self.db.begin_read().map_err(|e| err(&self.path, e))?;
        self.tables = txn
            .list_tables()
            .map_err(|e| err(&self.path, e))?
            .map(|t| t.name().to_owned())
            .filter(|n| n != OFFSETS.name())
            .collect();
        self.offsets.clear();
        match txn.open_table(OFFSETS) {
            Ok(table) => {
                for entry in table.range(..).map_err(|e| err(&self.path, e))? {
                    let (k, v) = entry.map_err(|e| err(&self.path, e))?;
                    match parse_offset_key(k.value()) {
                        Some(tp) => {
                            self.offsets.insert(tp, v.value());
                        }
                        None => {
                            return Err(err(
                                &self.path,
                                format!(
                                    "a stored changelog position has a malformed key {:?}",
                                    k.value()
                                ),
                            ))
                        }
                    }
                }
            }
            Err(redb::TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(err(&self.path, e)),
        }
        Ok(())
    }
}

/// The open write transaction, begun if there is none.
fn open_txn<'a>(
    db: &Database,
    slot: &'a mut Option<WriteTransaction>,
    path: &Path,
) -> Result<&'a WriteTransaction, BackendError> {
    if slot.is_none() {
        *slot = Some(db.begin_write().map_err(|e| err(path, e))?);
    }
    slot.as_ref()
        .ok_or_else(|| err(path, "no write transaction"))
}

fn err(path: &Path, e: impl std::fmt::Display) -> BackendError {
    BackendError::new(path.display().to_string(), e)
}

fn table_err(path: &Path, table: &str, e: impl std::fmt::Display) -> BackendError {
    BackendError::new(format!("{} table {table:?}", path.display()), e)
}

impl StateBackend for RedbBackend {
    fn get(&mut self, table: &str, key: &[u8]) -> Result<Option<Bytes>, BackendError> {
        if !self.tables.contains(table) {
            return Ok(None);
        }
        let txn = open_txn(&self.db, &mut self.txn, &self.path)?;
        let t = txn.open_table(data_table(table));
        let t = t.map_err(|e| table_err(&self.path, table, e))?;
        let v = t.get(key).map_err(|e| table_err(&self.path, table, e))?;
        Ok(v.map(|v| Bytes::copy_from_slice(v.value())))
    }

    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), BackendError> {
        let txn = open_txn(&self.db, &mut self.txn, &self.path)?;
        let r = txn
            .open_table(data_table(table))
            .and_then(|mut t| t.insert(key, value).map(|_| ()).map_err(Into::into));
        r.map_err(|e| table_err(&self.path, table, e))?;
        if !self.tables.contains(table) {
            self.tables.insert(table.to_owned());
        }
        Ok(())
    }

    fn delete(&mut self, table: &str, key: &[u8]) -> Result<Option<Bytes>, BackendError> {
        if !self.tables.contains(table) {
            return Ok(None);
        }
        let txn = open_txn(&self.db, &mut self.txn, &self.path)?;
        let r = txn
            .open_table(data_table(table))
            .map_err(redb::Error::from)
            .and_then(|mut t| {
                let old = t.remove(key)?;
                Ok(old.map(|v| Bytes::copy_from_slice(v.value())))
            });
        r.map_err(|e| table_err(&self.path, table, e))
    }

    fn range(
        &mut self,
        table: &str,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        reverse: bool,
    ) -> Result<Entries, BackendError> {
        if !self.tables.contains(table) {
            return Ok(Vec::new());
        }
        if super::bounds_crossed(from, to) {
            return Ok(Vec::new());
        }
        let txn = open_txn(&self.db, &mut self.txn, &self.path)?;
        let r = txn
            .open_table(data_table(table))
            .map_err(redb::Error::from)
            .and_then(|t| {
                let it = t.range((from, to))?;
                let mut out = Vec::new();
                let take = |e: RangeItem<'_>| {
                    e.map(|(k, v)| {
                        (
                            Bytes::copy_from_slice(k.value()),
                            Bytes::copy_from_slice(v.value()),
                        )
                    })
                };
                if reverse {
                    for e in it.rev() {
                        out.push(take(e)?);
                    }
                } else {
                    for e in it {
                        out.push(take(e)?);
                    }
                }
                Ok(out)
            });
        r.map_err(|e| table_err(&self.path, table, e))
    }

    fn write_batch(
        &mut self,
        table: &str,
        writes: &[(Bytes, Option<Bytes>)],
    ) -> Result<(), BackendError> {
        let txn = open_txn(&self.db, &mut self.txn, &self.path)?;
        let r = txn
            .open_table(data_table(table))
            .map_err(redb::Error::from)
            .and_then(|mut t| {
                for (k, v) in writes {
                    match v {
                        Some(v) => {
                            t.insert(k.as_ref(), v.as_ref())?;
                        }
                        None => {
                            t.remove(k.as_ref())?;
                        }
                    }
                }
                Ok(())
            });
        r.map_err(|e| table_err(&self.path, table, e))?;
        if !self.tables.contains(table) {
            self.tables.insert(table.to_owned());
        }
        Ok(())
    }

    fn drop_table(&mut self, table: &str) -> Result<(), BackendError> {
        if !self.tables.contains(table) {
            return Ok(());
        }
        let txn = open_txn(&self.db, &mut self.txn, &self.path)?;
        let r = txn.delete_table(data_table(table));
        r.map_err(|e| table_err(&self.path, table, e))?;
        self.tables.remove(table);
        Ok(())
    }

    fn tables(&mut self) -> Result<Vec<String>, BackendError> {
        Ok(self.tables.iter().cloned().collect())
    }

    fn len(&mut self, table: &str) -> Result<u64, BackendError> {
        if !self.tables.contains(table) {
            return Ok(0);
        }
        let txn = open_txn(&self.db, &mut self.txn, &self.path)?;
        let r = txn
            .open_table(data_table(table))
            .map_err(redb::Error::from)
            .and_then(|t| Ok(t.len()?));
        r.map_err(|e| table_err(&self.path, table, e))
    }

    fn committed_offsets(&self) -> &BTreeMap<TopicPartition, i64> {
        &self.offsets
    }

    fn commit(
        &mut self,
        offsets: &BTreeMap<TopicPartition, i64>,
        durable: bool,
    ) -> Result<(), BackendError> {
        let mut txn = match self.txn.take() {
            Some(t) => t,
            None if offsets.is_empty() => return Ok(()),
            None => self.db.begin_write().map_err(|e| err(&self.path, e))?,
        };
        let r = txn
            .open_table(OFFSETS)
            .map_err(redb::Error::from)
            .and_then(|mut t| {
                for (tp, o) in offsets {
                    t.insert(offset_key(tp).as_str(), *o)?;
                }
                Ok(())
            });
        r.map_err(|e| err(&self.path, format!("storing changelog positions: {e}")))?;
        let durability = if durable {
            Durability::Immediate
        } else {
            Durability::None
        };
        txn.set_durability(durability)
            .map_err(|e| err(&self.path, e))?;
        txn.commit()
            .map_err(|e| err(&self.path, format!("commit: {e}")))?;
        self.offsets
            .extend(offsets.iter().map(|(tp, o)| (tp.clone(), *o)));
        Ok(())
    }

    fn abort(&mut self) -> Result<(), BackendError> {
        if let Some(txn) = self.txn.take() {
            txn.abort()
                .map_err(|e| err(&self.path, format!("abort: {e}")))?;
        }
        // Tables created by the dropped writes are gone again.
        self.load()
    }

    fn wipe(&mut self) -> Result<(), BackendError> {
        self.abort()?;
        let txn = self.db.begin_write().map_err(|e| err(&self.path, e))?;
        let names: Vec<String> = self.tables.iter().cloned().collect();
        for name in &names {
            txn.delete_table(data_table(name))
                .map_err(|e| table_err(&self.path, name, e))?;
        }
        txn.delete_table(OFFSETS).map_err(|e| err(&self.path, e))?;
        txn.commit()
            .map_err(|e| err(&self.path, format!("commit: {e}")))?;
        self.tables.clear();
        self.offsets.clear();
        Ok(())
    }

    fn persistent(&self) -> bool {
        true
    }

    fn disk_bytes(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_left_without_its_header_by_a_crash_is_started_again() {
        let dir = std::env::temp_dir().join(format!("redb-unfinished-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.redb");
        std::fs::write(&path, [0u8; 100]).unwrap();
        let backend = RedbBackend::open(&path).expect("an unfinished file is replaced");
        assert!(backend.offsets.is_empty());
        drop(backend);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
