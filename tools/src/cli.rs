// SPDX-License-Identifier: GPL-2.0

//! A small getopt-style command-line parser for the tools.
//!
//! POSIX short options as GNU getopt accepts them: flags may be grouped
//! (`-qf`), an option's value may be attached (`-b4096`) or the next
//! argument (`-b 4096`), options and operands may be interleaved, and `--`
//! ends the options. Enough for `mkfs.dinofs` and `fsck.dinofs`, with no
//! dependency.

use std::ffi::OsString;

/// Parsed command line: options in order, then the operands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// `(letter, value)` for every option given, in order.
    pub options: Vec<(char, Option<String>)>,
    /// The non-option arguments.
    pub operands: Vec<OsString>,
}

impl Parsed {
    /// Whether flag `c` was given.
    pub fn has(&self, c: char) -> bool {
        self.options.iter().any(|(o, _)| *o == c)
    }

    /// The value of the last `-c VALUE` given.
    pub fn value(&self, c: char) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(o, _)| *o == c)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Parses `args` (without the program name). `flags` lists the option
/// letters that take no value, `valued` those that take one. Errors are
/// messages in getopt's words.
pub fn parse<I>(args: I, flags: &str, valued: &str) -> Result<Parsed, String>
where
    I: IntoIterator<Item = OsString>,
{
    let mut parsed = Parsed::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            parsed.operands.push(arg); // not UTF-8: a path, never an option
            continue;
        };
        if text == "--" {
            parsed.operands.extend(args);
            break;
        }
        if !text.starts_with('-') || text == "-" {
            parsed.operands.push(arg);
            continue;
        }
        if text.starts_with("--") {
            return Err(format!("unrecognized option '{text}'"));
        }
        let letters = &text[1..];
        for (i, c) in letters.char_indices() {
            if flags.contains(c) {
                parsed.options.push((c, None));
            } else if valued.contains(c) {
                let rest = &letters[i + c.len_utf8()..];
                let value = if !rest.is_empty() {
                    rest.to_string()
                } else {
                    let next = args
                        .next()
                        .ok_or(format!("option requires an argument -- '{c}'"))?;
                    next.into_string()
                        .map_err(|_| format!("invalid argument for -{c}"))?
                };
                parsed.options.push((c, Some(value)));
                break;
            } else {
                return Err(format!("invalid option -- '{c}'"));
            }
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Parsed, String> {
        parse(args.iter().map(OsString::from), "qfnyp", "bL")
    }

    #[test]
    fn groups_values_and_operands() {
        let r = p(&["-qf", "-b4096", "dev", "-L", "my label", "100"]).unwrap();
        assert!(r.has('q') && r.has('f') && !r.has('n'));
        assert_eq!(r.value('b'), Some("4096"));
        assert_eq!(r.value('L'), Some("my label"));
        assert_eq!(
            r.operands,
            vec![OsString::from("dev"), OsString::from("100")]
        );
    }

    #[test]
    fn double_dash_ends_options() {
        let r = p(&["-q", "--", "-dev"]).unwrap();
        assert_eq!(r.operands, vec![OsString::from("-dev")]);
    }

    #[test]
    fn errors() {
        assert!(p(&["-x"]).unwrap_err().contains("invalid option -- 'x'"));
        assert!(p(&["-b"]).unwrap_err().contains("requires an argument"));
        assert!(p(&["--help"]).is_err());
    }
}
