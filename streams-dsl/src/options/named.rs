//! [`Named`]: a user-chosen processor name.

/// The name of a processor instead of the generated `KSTREAM-…-<index>` (Kafka's `Named`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Named {
    pub(crate) name: Option<String>,
}

impl Named {
    /// Name the processor `name` (Java's `Named.as`).
    pub fn as_(name: impl Into<String>) -> Self {
        Named {
            name: Some(name.into()),
        }
    }

    /// No name: the processor's name is generated.
    pub fn empty() -> Self {
        Named::default()
    }

    /// The name, if one was given.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}
