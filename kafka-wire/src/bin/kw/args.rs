//! kcat-compatible command-line parsing (getopt style: `-b host -C -t topic`, `-Ct topic`).
//!
//! [`parse`] reads the flags; [`Args::finish`] then applies what depends on the environment
//! (configuration files, the mode chosen from whether stdin is a terminal) and the checks
//! kcat makes after parsing.

use std::collections::BTreeMap;

use crate::deser::Pack;
use crate::escape::unescape;

/// A command line that cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum ArgError {
    /// A bad or missing flag or value.
    #[error("{0}")]
    Usage(String),
    /// A configuration file that cannot be read or has a malformed line.
    #[error("{0}")]
    ConfigFile(String),
}

impl From<&str> for ArgError {
    fn from(s: &str) -> Self {
        ArgError::Usage(s.to_owned())
    }
}

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

/// What the command line asks for before anything connects.
#[derive(Debug)]
pub enum Command {
    /// Run a mode.
    Run(Box<Args>),
    /// `-h`: print the usage.
    Help,
    /// `-V`: print the version.
    Version,
    /// `-X list`: print the configuration properties.
    ListProperties,
}

/// Parsed options.
#[derive(Debug, Clone)]
pub struct Args {
    /// The mode; `None` until [`Args::finish`] picks one when no mode flag was given.
    pub mode: Option<Mode>,
    /// The mode was chosen from stdin (kcat prints a notice).
    pub mode_auto: bool,
    pub brokers: Option<String>,
    /// `--event-hubs <connection string>`: the Azure Event Hubs profile instead of `-b`.
    pub event_hubs: Option<String>,
    pub topics: Vec<String>,
    /// `-p`; `-p -1` (kcat's "unassigned") is `None`: the partitioner chooses / all partitions.
    pub partition: Option<i32>,
    pub key_delim: Option<Vec<u8>>,
    pub fixed_key: Option<String>,
    pub codec: Option<String>,
    pub headers: Vec<(String, String)>,
    pub delim: Vec<u8>,
    pub offset: StartOffset,
    pub count: Option<u64>,
    pub exit_at_end: bool,
    pub format: Option<String>,
    pub json: bool,
    /// `-X` and configuration-file properties; a later setting wins.
    pub props: BTreeMap<String, String>,
    pub timeout_secs: Option<u64>,
    /// kcat's verbosity: 1 by default, 0 with `-q`, one more per `-v`.
    pub verbosity: u8,
    pub no_exit_on_error: bool,
    pub unbuffered: bool,
    pub group: Option<String>,
    pub files: Vec<String>,
    /// `-l`: a file argument is read like stdin (delimited messages), not as one message.
    pub line_mode: bool,
    /// `-T`: echo each produced message to stdout.
    pub tee: bool,
    /// `-Z`: empty as NULL when producing, NULL printed as `NULL` when consuming.
    pub null: bool,
    /// `-O`: print each message's offset first, followed by the `-K` delimiter.
    pub print_offset: bool,
    /// `-s`: deserializers for keys and values.
    pub key_pack: Option<Pack>,
    pub value_pack: Option<Pack>,
    /// `-d`: debug contexts.
    pub debug: Option<String>,
    /// `-X dump`: print the configuration and exit.
    pub dump_config: bool,
    /// `-F` given (also `-F none`): no `KCAT_CONFIG` or default file is read.
    pub no_config_search: bool,
}

impl Args {
    /// Whether notices (`% ...` on stderr) are printed.
    pub fn quiet(&self) -> bool {
        self.verbosity == 0
    }

    /// The mode, once [`Args::finish`] has run.
    pub fn mode(&self) -> Mode {
        self.mode.unwrap_or(Mode::Consume)
    }
}

const USAGE: &str = "usage: kw <-P|-C|-L|-Q|-G group> -b <brokers> [-t <topic>] [options] [file...|topic...]
  -P produce   -C consume   -L metadata   -Q offsets for times (-t topic:partition:ts)
  -G <group> <topic>...  balanced consumer (group member; -o is the reset policy)
  no mode flag: produce when stdin is not a terminal, else consume
  --event-hubs <connection string>  Azure Event Hubs (SASL_SSL, PLAIN, its limits) instead of -b
  -b <brokers>  -t <topic>  -p <partition|-1>  -m <timeout s>
  -X <prop=value>  -X list  -X dump   -F <config file> (else $KCAT_CONFIG, ~/.config/kcat.conf)
  -d <contexts>  debug logs (all,broker,protocol,metadata,topic,msg,cgrp,consumer,fetch,security,admin,eos)
  -q quiet  -v more verbose  -E keep going on non-fatal errors  -V version  -h help
  producer: -K <key delim>  -k <key>  -z <codec>  -H <name=value>  -D <msg delim>  -c <count>
            -l (a file is read as delimited messages)  -T (echo to stdout)  -Z (empty is NULL)
            file...  (each file is one message, unless -l)
  consumer: -o <beginning|end|stored|N|-N|s@ts>  -c <count>  -e  -f <fmt>  -J  -D <delim>
            -K <delim>  -O (print offsets)  -Z (print NULL)  -u unbuffered
            -s [key=|value=]<pack>  deserialize with <>bBhHiIqQcs$ (as kcat)
  delimiters and -f take \\n \\t \\r \\0 \\\\ \\xNN; -f tokens: %t %p %o %k %s %K %S %R %T %h %%";

/// The usage text.
pub fn usage() -> &'static str {
    USAGE
}

fn parse_offset(v: &str) -> Result<StartOffset, ArgError> {
    let bad = |what: &str| ArgError::Usage(format!("invalid -o {what} {v:?}"));
    Ok(match v {
        "beginning" => StartOffset::Beginning,
        "end" => StartOffset::End,
        "stored" => StartOffset::Stored,
        _ if v.starts_with("s@") => {
            StartOffset::Timestamp(v[2..].parse().map_err(|_| bad("timestamp"))?)
        }
        _ if v.starts_with('-') => StartOffset::FromEnd(v[1..].parse().map_err(|_| bad("offset"))?),
        _ => StartOffset::At(v.parse().map_err(|_| {
            ArgError::Usage(format!(
                "invalid -o value {v:?}: expected beginning, end, stored, N, -N or s@<ts>"
            ))
        })?),
    })
}

fn empty() -> Args {
    Args {
        mode: None,
        mode_auto: false,
        brokers: None,
        event_hubs: None,
        topics: Vec::new(),
        partition: None,
        key_delim: None,
        fixed_key: None,
        codec: None,
        headers: Vec::new(),
        delim: b"\n".to_vec(),
        offset: StartOffset::Beginning,
        count: None,
        exit_at_end: false,
        format: None,
        json: false,
        props: BTreeMap::new(),
        timeout_secs: None,
        verbosity: 1,
        no_exit_on_error: false,
        unbuffered: false,
        group: None,
        files: Vec::new(),
        line_mode: false,
        tee: false,
        null: false,
        print_offset: false,
        key_pack: None,
        value_pack: None,
        debug: None,
        dump_config: false,
        no_config_search: false,
    }
}

/// Parse the command line (without the program name). Configuration files named with `-F`
/// are read in place (a later `-X` overrides them).
pub fn parse(argv: &[String]) -> Result<Command, ArgError> {
    let mut a = empty();
    let set_mode = |m: Mode, a: &mut Args| -> Result<(), ArgError> {
        match a.mode {
            Some(old) if old != m => Err("only one of -P, -C, -L, -Q, -G may be given".into()),
            _ => {
                a.mode = Some(m);
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
            let takes_value = "btpKkzHDocfXmGFsd".contains(f);
            let v = if takes_value {
                if j < flags.len() {
                    let v: String = flags[j..].iter().collect();
                    j = flags.len();
                    v
                } else if i < argv.len() {
                    i += 1;
                    argv[i - 1].clone()
                } else {
                    return Err(ArgError::Usage(format!("option -{f} requires a value")));
                }
            } else {
                String::new()
            };
            match f {
                'P' => set_mode(Mode::Produce, &mut a)?,
                'C' => set_mode(Mode::Consume, &mut a)?,
                'L' => set_mode(Mode::Metadata, &mut a)?,
                'Q' => set_mode(Mode::Query, &mut a)?,
                'G' => {
                    set_mode(Mode::Group, &mut a)?;
                    a.group = Some(v);
                }
                'b' => a.brokers = Some(v),
                't' => a.topics.push(v),
                'p' => {
                    let p: i32 = v
                        .parse()
                        .map_err(|_| ArgError::Usage(format!("invalid -p partition {v:?}")))?;
                    if p < -1 {
                        return Err(ArgError::Usage(format!("invalid -p partition {v:?}")));
                    }
                    a.partition = (p >= 0).then_some(p);
                }
                'K' => a.key_delim = Some(unescape(&v)?),
                'k' => a.fixed_key = Some(v),
                'z' => a.codec = Some(v),
                'H' => {
                    let (n, val) = v.split_once('=').ok_or_else(|| {
                        ArgError::Usage(format!("invalid -H {v:?}: expected name=value"))
                    })?;
                    a.headers.push((n.to_owned(), val.to_owned()));
                }
                'D' => a.delim = unescape(&v)?,
                'o' => a.offset = parse_offset(&v)?,
                'c' => {
                    a.count = Some(
                        v.parse()
                            .map_err(|_| ArgError::Usage(format!("invalid -c count {v:?}")))?,
                    )
                }
                'f' => a.format = Some(v),
                'X' => match v.as_str() {
                    "list" | "help" => return Ok(Command::ListProperties),
                    "dump" => a.dump_config = true,
                    _ => {
                        let (k, val) = v.split_once('=').ok_or_else(|| {
                            ArgError::Usage(format!(
                                "invalid -X {v:?}: expected property=value (-X list shows them)"
                            ))
                        })?;
                        a.props.insert(k.to_owned(), val.to_owned());
                    }
                },
                'F' => {
                    a.no_config_search = true;
                    if v != "-" && v != "none" {
                        let text = std::fs::read_to_string(&v).map_err(|e| {
                            ArgError::ConfigFile(format!("failed to open {v}: {e}"))
                        })?;
                        crate::config_file::apply(&v, &text, &mut a.props, true)?;
                    }
                }
                'm' => {
                    a.timeout_secs = Some(
                        v.parse()
                            .map_err(|_| ArgError::Usage(format!("invalid -m timeout {v:?}")))?,
                    )
                }
                's' => {
                    let (field, spec) = match v.split_once('=') {
                        Some(("key", s)) => (Some(true), s),
                        Some(("value", s)) => (Some(false), s),
                        _ => (None, v.as_str()),
                    };
                    if field != Some(false) {
                        a.key_pack = Some(Pack::parse("key", spec)?);
                    }
                    if field != Some(true) {
                        a.value_pack = Some(Pack::parse("value", spec)?);
                    }
                }
                'd' => a.debug = Some(v),
                'e' => a.exit_at_end = true,
                'J' => a.json = true,
                'q' => a.verbosity = 0,
                'v' => a.verbosity = a.verbosity.saturating_add(1),
                'E' => a.no_exit_on_error = true,
                'u' => a.unbuffered = true,
                'l' => a.line_mode = true,
                'T' => a.tee = true,
                'Z' => a.null = true,
                'O' => a.print_offset = true,
                'V' => return Ok(Command::Version),
                'h' => return Ok(Command::Help),
                other => return Err(ArgError::Usage(format!("unknown option -{other}"))),
            }
        }
    }
    Ok(Command::Run(Box::new(a)))
}

impl Args {
    /// kcat's steps after the flags: the configuration file from `KCAT_CONFIG` or
    /// `~/.config/kcat.conf` unless `-F` was given (command-line `-X` keeps precedence), the
    /// mode when none was given (producer when stdin is not a terminal), and the checks.
    pub fn finish(
        &mut self,
        env: impl Fn(&str) -> Option<String>,
        stdin_is_terminal: bool,
    ) -> Result<(), ArgError> {
        if !self.no_config_search {
            let env = |k: &str| env(k).filter(|v| !v.is_empty());
            let (path, required) = match env("KCAT_CONFIG") {
                Some(p) => (Some(p), true),
                None => (env("HOME").map(|h| format!("{h}/.config/kcat.conf")), false),
            };
            if let Some(path) = path {
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        crate::config_file::apply(&path, &text, &mut self.props, false)?;
                    }
                    Err(e) if required => {
                        return Err(ArgError::ConfigFile(format!("failed to open {path}: {e}")))
                    }
                    Err(_) => {}
                }
            }
        }
        if self.dump_config {
            return Ok(());
        }
        if self.brokers.is_none()
            && self.event_hubs.is_none()
            && !self.props.contains_key("bootstrap.servers")
            && !self.props.contains_key("metadata.broker.list")
        {
            return Err("-b <brokers> is required".into());
        }
        if self.mode.is_none() {
            self.mode = Some(if stdin_is_terminal {
                Mode::Consume
            } else {
                Mode::Produce
            });
            self.mode_auto = true;
        }
        let mode = self.mode();
        if mode == Mode::Group {
            self.topics.append(&mut self.files);
        }
        if matches!(mode, Mode::Produce | Mode::Consume) && self.topics.len() != 1 {
            return Err("exactly one -t <topic> is required".into());
        }
        if !matches!(mode, Mode::Produce | Mode::Group) && !self.files.is_empty() {
            return Err("file/topic list only allowed in producer (-P) or -G mode".into());
        }
        if mode == Mode::Produce {
            if self.delim.is_empty() {
                return Err("message delimiter -D must not be empty when producing".into());
            }
            if self.line_mode && self.files.len() > 1 {
                return Err("with -l, only one file is allowed".into());
            }
        }
        if (self.key_pack.is_some() || self.value_pack.is_some())
            && !matches!(mode, Mode::Consume | Mode::Group)
        {
            return Err("-s serdes only available in the consumer".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Args, ArgError> {
        p_env(s, true, &[])
    }

    fn p_env(s: &str, tty: bool, env: &[(&str, &str)]) -> Result<Args, ArgError> {
        let argv: Vec<String> = s.split_whitespace().map(String::from).collect();
        let Command::Run(mut a) = parse(&argv)? else {
            panic!("not a run command: {s}");
        };
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        a.finish(
            |k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()),
            tty,
        )?;
        Ok(*a)
    }

    fn err(s: &str) -> String {
        p(s).unwrap_err().to_string()
    }

    #[test]
    fn kcat_command_lines() {
        let a = p("-b k:9092 -C -t orders -o -10 -c 5 -e -f %k:%s\\n").unwrap();
        assert_eq!(a.mode, Some(Mode::Consume));
        assert_eq!(a.offset, StartOffset::FromEnd(10));
        assert_eq!((a.count, a.exit_at_end), (Some(5), true));
        let a = p("-b k -Pt orders -K: -z zstd -H a=b -X linger.ms=5").unwrap();
        assert_eq!(a.mode, Some(Mode::Produce));
        assert_eq!(a.topics, vec!["orders"]);
        assert_eq!(a.key_delim.as_deref(), Some(&b":"[..]));
        assert_eq!(a.props["linger.ms"], "5");
        assert_eq!(
            p("-b k -C -t t -o s@1700000000000").unwrap().offset,
            StartOffset::Timestamp(1_700_000_000_000)
        );
        assert_eq!(p("-b k -G grp t1 t2").unwrap().topics, vec!["t1", "t2"]);
    }

    #[test]
    fn new_kcat_flags() {
        let a = p("-b k -P -t t -l -T -Z -p -1 -D \\x00\\xff -K ;; -v -v f.txt").unwrap();
        assert!(a.line_mode && a.tee && a.null);
        assert_eq!(a.partition, None);
        assert_eq!(a.delim, [0, 0xff]);
        assert_eq!(a.key_delim.as_deref(), Some(&b";;"[..]));
        assert_eq!(a.verbosity, 3);
        assert_eq!(a.files, vec!["f.txt"]);
        let a = p("-b k -C -t t -O -q -s key=>I -s value=s -d broker,msg").unwrap();
        assert!(a.print_offset && a.quiet());
        assert!(a.key_pack.is_some() && a.value_pack.is_some());
        assert_eq!(a.debug.as_deref(), Some("broker,msg"));
        assert_eq!(p("-b k -C -t t -p 3").unwrap().partition, Some(3));
        let argv = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert!(matches!(parse(&argv("-V")), Ok(Command::Version)));
        assert!(matches!(
            parse(&argv("-X list")),
            Ok(Command::ListProperties)
        ));
        assert!(matches!(parse(&argv("-b k -h")), Ok(Command::Help)));
        let a = p("-X dump").unwrap();
        assert!(a.dump_config);
    }

    #[test]
    fn mode_is_chosen_from_stdin() {
        let a = p_env("-b k -t t", false, &[]).unwrap();
        assert_eq!((a.mode, a.mode_auto), (Some(Mode::Produce), true));
        let a = p_env("-b k -t t", true, &[]).unwrap();
        assert_eq!((a.mode, a.mode_auto), (Some(Mode::Consume), true));
        let a = p_env("-b k -C -t t", false, &[]).unwrap();
        assert_eq!((a.mode, a.mode_auto), (Some(Mode::Consume), false));
    }

    #[test]
    fn config_files() {
        let dir = std::env::temp_dir().join(format!("kw-args-{}", std::process::id()));
        std::fs::create_dir_all(dir.join(".config")).unwrap();
        let f = dir.join("a.conf");
        std::fs::write(
            &f,
            "# comment\n  bootstrap.servers = h:1 \n\nclient.id=x\\=y\n",
        )
        .unwrap();
        let fs = f.display().to_string();
        let a = p(&format!("-F {fs} -X client.id=cli -C -t t")).unwrap();
        assert_eq!(a.props["bootstrap.servers"], "h:1");
        assert_eq!(a.props["client.id"], "cli");
        // KCAT_CONFIG, and the default file under $HOME; -X keeps precedence over both.
        let a = p_env("-C -t t -X client.id=cli", true, &[("KCAT_CONFIG", &fs)]).unwrap();
        assert_eq!(a.props["bootstrap.servers"], "h:1");
        assert_eq!(a.props["client.id"], "cli");
        std::fs::write(dir.join(".config/kcat.conf"), "bootstrap.servers=home:2\n").unwrap();
        let home = dir.display().to_string();
        let a = p_env("-C -t t", true, &[("HOME", &home)]).unwrap();
        assert_eq!(a.props["bootstrap.servers"], "home:2");
        // -F none: no file at all.
        assert!(p_env("-F none -C -t t", true, &[("HOME", &home)]).is_err());
        // A missing KCAT_CONFIG is an error; a missing default file is not.
        let e = p_env("-b k -C -t t", true, &[("KCAT_CONFIG", "/nonexistent/x")]).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/x"), "{e}");
        std::fs::write(&f, "no-equals-sign\n").unwrap();
        let e = p(&format!("-b k -F {fs} -C -t t")).unwrap_err().to_string();
        assert!(e.contains(":1: expected property=value"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn bad_command_lines() {
        assert!(err("-C -t t").contains("-b"));
        assert!(err("-b k -C").contains("-t"));
        assert!(err("-b k -P -C -t t").contains("only one"));
        assert!(err("-b k -C -t t -o sometime").contains("-o"));
        assert!(err("-b k -C -t t -Y").contains("unknown option -Y"));
        assert!(err("-b k -C -t").contains("requires a value"));
        assert!(err("-b k -C -t t -p -2").contains("-p"));
        assert!(err("-b k -P -t t -s >I").contains("only available in the consumer"));
        assert!(err("-b k -C -t t -s xyz").contains("Invalid token 'x'"));
        assert!(err("-b k -P -t t -l a b").contains("only one file"));
        assert!(err("-b k -C -t t file").contains("file/topic list"));
        assert!(err("-b k -P -t t -D \\xzz").contains("hex"));
    }
}
