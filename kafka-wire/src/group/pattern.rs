//! Regex topic subscriptions (`Consumer::subscribe_pattern`, Java's
//! `KafkaConsumer.subscribe(Pattern)`), matched with Java's rules:
//!
//! * a topic is subscribed only if the **whole** name matches (Java's `matcher.matches()`), so
//!   the pattern is anchored: `orders-.*` matches `orders-eu` but not `my-orders-eu`;
//! * internal topics (`__consumer_offsets`, `__transaction_state`, anything the brokers flag
//!   internal) are never subscribed (Java's `exclude.internal.topics=true`, its default).
//!
//! The syntax is the `regex` crate's, which covers what topic patterns use (classes, `.*`,
//! alternation, groups, repetition); Java-only constructs (look-around, back-references,
//! possessive quantifiers) are rejected when the pattern is compiled. Classes such as `\w`, `\d`
//! and `\s` are ASCII, as in a Java `Pattern` without `UNICODE_CHARACTER_CLASS` (topic names are
//! ASCII anyway: letters, digits, `.`, `_` and `-`).

use std::fmt;

use regex::bytes::{Regex, RegexBuilder};

use crate::error::Error;

/// Internal topics Java's consumer never subscribes a pattern to, whatever the metadata says.
const INTERNAL_TOPICS: [&str; 3] = [
    "__consumer_offsets",
    "__transaction_state",
    "__share_group_state",
];

/// A compiled topic pattern, matched against whole topic names.
#[derive(Clone)]
pub struct TopicPattern {
    source: String,
    regex: Regex,
    include_internal: bool,
}

impl TopicPattern {
    /// Compile `pattern` (anchored: the whole topic name must match).
    pub fn new(pattern: &str) -> Result<Self, Error> {
        let regex = RegexBuilder::new(&format!("^(?:{pattern})$"))
            .unicode(false)
            .build()
            .map_err(|e| {
                Error::InvalidArgument(format!("invalid topic pattern {pattern:?}: {e}"))
            })?;
        Ok(TopicPattern {
            source: pattern.to_owned(),
            regex,
            include_internal: false,
        })
    }

    /// Also match internal topics (`exclude.internal.topics=false`).
    pub fn including_internal(mut self, include: bool) -> Self {
        self.include_internal = include;
        self
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `topic` matches (internal topics are not excluded here).
    pub fn is_match(&self, topic: &str) -> bool {
        self.regex.is_match(topic.as_bytes())
    }

    /// The topics to subscribe to among `topics` (name, flagged internal by the brokers):
    /// those whose whole name matches, internal ones excluded; sorted.
    pub fn matching<'a>(&self, topics: impl IntoIterator<Item = (&'a str, bool)>) -> Vec<String> {
        let mut out: Vec<String> = topics
            .into_iter()
            .filter(|(name, internal)| {
                self.include_internal || (!internal && !INTERNAL_TOPICS.contains(name))
            })
            .filter(|(name, _)| self.is_match(name))
            .map(|(name, _)| name.to_owned())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

impl fmt::Debug for TopicPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TopicPattern").field(&self.source).finish()
    }
}

impl PartialEq for TopicPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for TopicPattern {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_name_must_match_as_in_java_matches() {
        let p = TopicPattern::new("orders-.*").expect("compiles");
        assert!(p.is_match("orders-eu"));
        assert!(p.is_match("orders-"));
        assert!(
            !p.is_match("my-orders-eu"),
            "no find(): anchored at the start"
        );
        let p = TopicPattern::new("a|b").expect("compiles");
        assert!(p.is_match("a") && p.is_match("b"));
        assert!(!p.is_match("ab"), "alternation is anchored as a whole");
        let p = TopicPattern::new("t[0-9]+").expect("compiles");
        assert!(p.is_match("t12"));
        assert!(!p.is_match("t12x"), "anchored at the end");
    }

    #[test]
    fn internal_topics_are_excluded_and_the_result_is_sorted() {
        let p = TopicPattern::new(".*").expect("compiles");
        let topics = [
            ("b", false),
            ("__consumer_offsets", true),
            ("__transaction_state", false),
            ("a", false),
            ("__flagged", true),
            ("_private", false),
        ];
        assert_eq!(p.matching(topics), ["_private", "a", "b"]);
    }

    #[test]
    fn java_only_syntax_is_a_typed_error() {
        let e = TopicPattern::new("(?=lookahead).*").expect_err("no look-around");
        assert!(
            matches!(e, Error::InvalidArgument(ref m) if m.contains("lookahead")),
            "{e}"
        );
        assert!(TopicPattern::new("(").is_err());
    }
}
