//! Java's string rules that Kafka's demos depend on, for ports that must write the same
//! output: `line.split("\\W+")`.

/// The pieces of `line` as Java's `line.split("\\W+")` returns them: split on runs of
/// characters other than ASCII letters, digits and `_` (Java's `\W` without
/// `UNICODE_CHARACTER_CLASS`); a leading separator leaves an empty first piece, trailing
/// empty pieces are dropped, and a line without any separator — even an empty one — is one
/// piece. Kafka's `WordCountDemo` counts the empty piece as the word `""`.
///
/// ```
/// use streams_core::java_text::split_non_word;
/// assert_eq!(split_non_word("  jumps over!"), ["", "jumps", "over"]);
/// assert_eq!(split_non_word(""), [""]);
/// assert!(split_non_word("!!!").is_empty());
/// ```
pub fn split_non_word(line: &str) -> Vec<&str> {
    let separator = |c: char| !(c.is_ascii_alphanumeric() || c == '_');
    if !line.contains(separator) {
        return vec![line];
    }
    let mut pieces = line.split(separator);
    let first = pieces.next().unwrap_or_default();
    // A run of separators is one match: the empty pieces inside it are not words.
    let mut words: Vec<&str> = std::iter::once(first)
        .chain(pieces.filter(|p| !p.is_empty()))
        .collect();
    // Trailing empty pieces are removed (only the leading one can be empty here).
    if words.len() == 1 && words[0].is_empty() {
        words.clear();
    }
    words
}

#[cfg(test)]
mod tests {
    use super::split_non_word;

    #[test]
    fn javas_split_rules() {
        assert_eq!(
            split_non_word("Hello  Kafka, hello!"),
            ["Hello", "Kafka", "hello"]
        );
        assert_eq!(split_non_word(",a"), ["", "a"]);
        assert_eq!(split_non_word("snake_case 42"), ["snake_case", "42"]);
        assert_eq!(split_non_word("Grüße"), ["Gr", "e"]);
        assert_eq!(split_non_word("word"), ["word"]);
        assert_eq!(split_non_word("  a,,b  "), ["", "a", "b"]);
        assert_eq!(split_non_word("grüße_2x"), ["gr", "e_2x"]);
    }
}
