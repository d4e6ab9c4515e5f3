//! kcat's configuration files (`-F`, `KCAT_CONFIG`, `~/.config/kcat.conf`): one
//! `property=value` per line, `#` comments, blank lines ignored, surrounding whitespace
//! trimmed, and the Java properties escapes `\:` and `\=` undone (Confluent Cloud's
//! client files work as they are).

use std::collections::BTreeMap;

use crate::args::ArgError;

/// Add the properties of `text` (read from `path`) to `props`. With `overwrite` a property
/// already set is replaced (`-F` read in command-line order); without it, what the command
/// line set is kept (the environment's and the default file, read last).
pub fn apply(
    path: &str,
    text: &str,
    props: &mut BTreeMap<String, String>,
    overwrite: bool,
) -> Result<(), ArgError> {
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.replace("\\:", ":").replace("\\=", "=");
        let Some((k, v)) = line.split_once('=').filter(|(k, _)| !k.trim().is_empty()) else {
            return Err(ArgError::ConfigFile(format!(
                "{path}:{}: expected property=value",
                n + 1
            )));
        };
        let (k, v) = (k.trim(), v.trim());
        if overwrite || !props.contains_key(k) {
            props.insert(k.to_owned(), v.to_owned());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_lines() {
        let mut props = BTreeMap::new();
        props.insert("client.id".to_owned(), "cli".to_owned());
        apply(
            "f",
            "# c\n\n bootstrap.servers=h\\:1 \nclient.id=file\nsasl.jaas.config=a b=\"c\";\n",
            &mut props,
            false,
        )
        .unwrap();
        assert_eq!(props["bootstrap.servers"], "h:1");
        assert_eq!(props["client.id"], "cli");
        assert_eq!(props["sasl.jaas.config"], "a b=\"c\";");
        apply("f", "client.id=file\n", &mut props, true).unwrap();
        assert_eq!(props["client.id"], "file");
        let e = apply("f", "ok=1\n=nokey\n", &mut props, true).unwrap_err();
        assert_eq!(e.to_string(), "f:2: expected property=value");
    }
}
