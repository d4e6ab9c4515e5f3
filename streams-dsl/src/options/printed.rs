//! [`Printed`]: where and how `print()` writes records.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// How `print()` shows a key or value: Java's `toString()` for the same value (`null` for
/// `None`). Implement it for a user type, or give [`Printed::with_key_value_mapper`].
pub trait Printable {
    /// The text Java would print.
    fn java_string(&self) -> String;
}

macro_rules! display_printable {
    ($($t:ty),*) => {$(
        impl Printable for $t {
            fn java_string(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
display_printable!(
    String,
    str,
    bool,
    char,
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    uuid::Uuid
);

macro_rules! float_printable {
    ($($t:ty),*) => {$(
        impl Printable for $t {
            // Java prints 1.0 where Rust's Display prints 1; Debug keeps the ".0".
            fn java_string(&self) -> String {
                format!("{self:?}")
            }
        }
    )*};
}
float_printable!(f32, f64);

impl Printable for () {
    fn java_string(&self) -> String {
        "null".to_owned()
    }
}

impl<T: Printable> Printable for Option<T> {
    fn java_string(&self) -> String {
        match self {
            Some(v) => v.java_string(),
            None => "null".to_owned(),
        }
    }
}

impl<T: Printable + ?Sized> Printable for &T {
    fn java_string(&self) -> String {
        (**self).java_string()
    }
}

/// Where printed lines go.
#[derive(Clone)]
pub(crate) enum PrintTarget {
    Stdout,
    File(Arc<Mutex<File>>),
}

impl PrintTarget {
    pub(crate) fn write_line(&self, line: &str) -> std::io::Result<()> {
        match self {
            PrintTarget::Stdout => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{line}")?;
                out.flush()
            }
            PrintTarget::File(f) => {
                let mut f = f
                    .lock()
                    .map_err(|_| std::io::Error::other("print file lock poisoned"))?;
                writeln!(f, "{line}")
            }
        }
    }
}

pub(crate) type Mapper<K, V> = Arc<dyn Fn(&K, &V) -> String + Send + Sync>;

/// Where `print()` writes, with what label and text (Kafka's `Printed`): each record is one
/// line `[<label>]: <key>, <value>`; the label defaults to the name of the stream printed.
pub struct Printed<K, V> {
    pub(crate) target: PrintTarget,
    pub(crate) label: Option<String>,
    pub(crate) mapper: Mapper<K, V>,
    pub(crate) name: Option<String>,
}

impl<K: Printable + 'static, V: Printable + 'static> Printed<K, V> {
    /// Print to stdout (Kafka's `Printed.toSysOut`).
    pub fn to_sys_out() -> Self {
        Self::new(PrintTarget::Stdout)
    }

    /// Print to the file at `path`, created or truncated now (Kafka's `Printed.toFile`).
    pub fn to_file(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let f = File::create(path)?;
        Ok(Self::new(PrintTarget::File(Arc::new(Mutex::new(f)))))
    }

    fn new(target: PrintTarget) -> Self {
        Printed {
            target,
            label: None,
            mapper: Arc::new(|k: &K, v: &V| format!("{}, {}", k.java_string(), v.java_string())),
            name: None,
        }
    }
}

impl<K, V> Printed<K, V> {
    /// Print with `label` instead of the stream's name.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Print `mapper(key, value)` after the label.
    pub fn with_key_value_mapper(
        mut self,
        mapper: impl Fn(&K, &V) -> String + Send + Sync + 'static,
    ) -> Self {
        self.mapper = Arc::new(mapper);
        self
    }

    /// Name the printing processor.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_as_java_prints_them() {
        assert_eq!(Some("a".to_owned()).java_string(), "a");
        assert_eq!(None::<String>.java_string(), "null");
        assert_eq!(1.0f64.java_string(), "1.0");
        assert_eq!(42i64.java_string(), "42");
        let p = Printed::<String, i64>::to_sys_out();
        assert_eq!((p.mapper)(&"k".to_owned(), &3), "k, 3");
    }
}
