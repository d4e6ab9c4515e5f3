//! kcat-compatible command-line parsing (getopt style: `-b host -C -t topic`, `-Ct topic`).

use std::collections::BTreeMap;

/// What `kw` was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Produce,
    Consume,
    Metadata,
    Query,
    Group,
}

/// Where a consumer starts (`-o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOffset {
    Beginning,
    End,
    Stored,
    At(i64),
    FromEnd(i64),
    Timestamp(i64),
}

/// Parsed options.
#[derive(Debug, Clone)]
pub struct Args {
    pub mode: Mode,
    pub brokers: Option<String>,
    /// `--event-hubs <connection string>`: the Azure Event Hubs profile instead of `-b`.
    pub event_hubs: Option<String>,
    pub topics: Vec<String>,
    pub partition: Option<i32>,
    pub key_delim: Option<String>,
    pub fixed_key: Option<String>,
    pub codec: Option<String>,
    pub headers: Vec<(String, String)>,
    pub delim: String,
    pub offset: StartOffset,
    pub count: Option<u64>,
    pub exit_at_end: bool,
    pub format: Option<String>,
    pub json: bool,
    pub props: BTreeMap<String, String>,
    pub timeout_secs: Option<u64>,
    pub quiet: bool,
    pub no_exit_on_error: bool,
    pub unbuffered: bool,
    pub group: Option<String>,
    pub files: Vec<String>,
}

const USAGE: &str = "usage: kw <-P|-C|-L|-Q|-G group> -b <brokers> [-t <topic>] [options]
  -P produce   -C consume   -L metadata   -Q offsets for times (-t topic:partition:ts)
  -G <group> <topic>...  balanced consumer (group member; -o is the reset policy)
  --event-hubs <connection string>  Azure Event Hubs (SASL_SSL, PLAIN, its limits) instead of -b
  -b <brokers>  -t <topic>  -p <partition>  -X <prop=value>  -m <timeout s>
  producer: -K <key delim>  -k <key>  -z <codec>  -H <name=value>  -D <msg delim>  [file...]
  consumer: -o <beginning|end|stored|N|-N|s@ts>  -c <count>  -e  -f <fmt>  -J  -D <delim>  -K <delim>
  -q quiet  -E keep going on non-fatal errors  -u unbuffered output";

/// The usage text.
pub fn usage() -> &'static str {
    USAGE
}

fn parse_offset(v: &str) -> Result<StartOffset, String> {
    Ok(match v {
        "beginning" => StartOffset::Beginning,
        "end" => StartOffset::End,
        "stored" => StartOffset::Stored,
        _ if v.starts_with("s@") => StartOffset::Timestamp(
            v[2..]
                .parse()
                .map_err(|_| format!("invalid -o timestamp {v:?}"))?,
        ),
        _ if v.starts_with('-') => StartOffset::FromEnd(
            v[1..]
                .parse()
                .map_err(|_| format!("invalid -o offset {v:?}"))?,
        ),
        _ => StartOffset::At(v.parse().map_err(|_| {
            format!("invalid -o value {v:?}: expected beginning, end, stored, N, -N or s@<ts>")
        })?),
    })
}

/// kcat's escapes in delimiters and formats: `\n`, `\t`, `\r`, `\0`, `\\`.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Parse the command line (without the program name).
pub fn parse(argv: &[String]) -> Result<Args, String> {
    let mut mode = None;
    let mut a = Args {
        mode: Mode::Consume,
        brokers: None,
        event_hubs: None,
        topics: Vec::new(),
        partition: None,
        key_delim: None,
        fixed_key: None,
        codec: None,
        headers: Vec::new(),
        delim: "\n".into(),
        offset: StartOffset::Beginning,
        count: None,
        exit_at_end: false,
        format: None,
        json: false,
        props: BTreeMap::new(),
        timeout_secs: None,
        quiet: false,
        no_exit_on_error: false,
        unbuffered: false,
        group: None,
        files: Vec::new(),
    };
    let set_mode = |m: Mode, mode: &mut Option<Mode>| -> Result<(), String> {
        match mode {
            Some(old) if *old != m => Err("only one of -P, -C, -L, -Q, -G may be given".into()),
            _ => {
                *mode = Some(m);
                Ok(())
            }
        }
    };
    let mut i = 0;
    while i < argv.len() {
        let arg = &argv[i];
        i += 1;
        if !arg.starts_with('-') || arg == "-" {
            a.files.push(arg.clone());
            continue;
        }
        if arg == "--event-hubs" {
            let v = argv
                .get(i)
                .ok_or("--event-hubs requires a connection string")?;
            a.event_hubs = Some(v.clone());
            i += 1;
            continue;
        }
        let flags: Vec<char> = arg[1..].chars().collect();
        let mut j = 0;
        while j < flags.len() {
            let f = flags[j];
            j += 1;
            let takes_value = "btpKkzHDocfXmG".contains(f);
            let value = if takes_value {
                if j < flags.len() {
                    let v: String = flags[j..].iter().collect();
                    j = flags.len();
                    Some(v)
                } else if i < argv.len() {
                    i += 1;
                    Some(argv[i - 1].clone())
                } else {
                    return Err(format!("option -{f} requires a value"));
                }
            } else {
                None
            };
            let v = value.unwrap_or_default();
            match f {
                'P' => set_mode(Mode::Produce, &mut mode)?,
                'C' => set_mode(Mode::Consume, &mut mode)?,
                'L' => set_mode(Mode::Metadata, &mut mode)?,
                'Q' => set_mode(Mode::Query, &mut mode)?,
                'G' => {
                    set_mode(Mode::Group, &mut mode)?;
                    a.group = Some(v);
                }
                'b' => a.brokers = Some(v),
                't' => a.topics.push(v),
                'p' => {
                    a.partition = Some(
                        v.parse()
                            .map_err(|_| format!("invalid -p partition {v:?}"))?,
                    )
                }
                'K' => a.key_delim = Some(unescape(&v)),
                'k' => a.fixed_key = Some(v),
                'z' => a.codec = Some(v),
                'H' => {
                    let (n, val) = v
                        .split_once('=')
                        .ok_or_else(|| format!("invalid -H {v:?}: expected name=value"))?;
                    a.headers.push((n.to_owned(), val.to_owned()));
                }
                'D' => a.delim = unescape(&v),
                'o' => a.offset = parse_offset(&v)?,
                'c' => a.count = Some(v.parse().map_err(|_| format!("invalid -c count {v:?}"))?),
                'f' => a.format = Some(v),
                'X' => {
                    let (k, val) = v
                        .split_once('=')
                        .ok_or_else(|| format!("invalid -X {v:?}: expected property=value"))?;
                    a.props.insert(k.to_owned(), val.to_owned());
                }
                'm' => {
                    a.timeout_secs =
                        Some(v.parse().map_err(|_| format!("invalid -m timeout {v:?}"))?)
                }
                'e' => a.exit_at_end = true,
                'J' => a.json = true,
                'q' => a.quiet = true,
                'E' => a.no_exit_on_error = true,
                'u' => a.unbuffered = true,
                'h' => return Err(String::new()),
                other => return Err(format!("unknown option -{other}")),
            }
        }
    }
    a.mode = mode.ok_or("one of -P, -C, -L, -Q or -G is required")?;
    if a.mode == Mode::Group {
        a.topics.append(&mut a.files);
    }
    if a.brokers.is_none() && a.event_hubs.is_none() && !a.props.contains_key("bootstrap.servers") {
        return Err("-b <brokers> is required".into());
    }
    if matches!(a.mode, Mode::Produce | Mode::Consume) && a.topics.len() != 1 {
        return Err("exactly one -t <topic> is required".into());
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Args, String> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn kcat_command_lines() {
        let a = p("-b k:9092 -C -t orders -o -10 -c 5 -e -f %k:%s\\n").unwrap();
        assert_eq!(a.mode, Mode::Consume);
        assert_eq!(a.offset, StartOffset::FromEnd(10));
        assert_eq!((a.count, a.exit_at_end), (Some(5), true));
        let a = p("-b k -Pt orders -K: -z zstd -H a=b -X linger.ms=5").unwrap();
        assert_eq!(a.mode, Mode::Produce);
        assert_eq!(a.topics, vec!["orders"]);
        assert_eq!(a.key_delim.as_deref(), Some(":"));
        assert_eq!(a.props["linger.ms"], "5");
        assert_eq!(
            p("-b k -C -t t -o s@1700000000000").unwrap().offset,
            StartOffset::Timestamp(1_700_000_000_000)
        );
        assert_eq!(p("-b k -G grp t1 t2").unwrap().topics, vec!["t1", "t2"]);
        assert_eq!(unescape("a\\tb\\n"), "a\tb\n");
    }

    #[test]
    fn bad_command_lines() {
        assert!(p("-C -t t").unwrap_err().contains("-b"));
        assert!(p("-b k -C").unwrap_err().contains("-t"));
        assert!(p("-b k -P -C -t t").unwrap_err().contains("only one"));
        assert!(p("-b k -C -t t -o sometime").unwrap_err().contains("-o"));
        assert!(p("-b k -C -t t -Y")
            .unwrap_err()
            .contains("unknown option -Y"));
        assert!(p("-b k -C -t").unwrap_err().contains("requires a value"));
    }
}
