//! What clients send once the session has started, parsed and checked in
//! full. `postgres-protocol` writes these messages but does not read them,
//! so this is ours. The check is strict on purpose: every message reaches
//! the one server connection all clients share, and a malformed one there
//! would end that connection (the server answers protocol violations with
//! FATAL) for everyone. A client that sends one is dropped instead.
//! <https://www.postgresql.org/docs/current/protocol-message-formats.html>

use std::fmt;

/// A frontend message, borrowing from the frame it was read from. Names
/// and SQL stay bytes: the proxy only renames and lexes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    Query(&'a [u8]),
    Parse {
        name: &'a [u8],
        query: &'a [u8],
        /// The parameter type count and OIDs, as sent.
        types: &'a [u8],
    },
    Bind {
        portal: &'a [u8],
        statement: &'a [u8],
        /// Formats, values and result formats, as sent (checked).
        rest: &'a [u8],
    },
    Describe {
        portal: bool,
        name: &'a [u8],
    },
    Execute {
        portal: &'a [u8],
        max_rows: i32,
    },
    Close {
        portal: bool,
        name: &'a [u8],
    },
    Sync,
    Flush,
    Terminate,
    CopyData,
    CopyDone,
    CopyFail,
    FunctionCall,
    /// `p`: a password, SASLInitialResponse or SASLResponse; which one
    /// depends on what was asked for.
    Password(&'a [u8]),
}

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Malformed {}

fn bad<T>(what: impl Into<String>) -> Result<T, Malformed> {
    Err(Malformed(what.into()))
}

/// A reader over a message body that never reads past its end.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .map_or_else(|| bad("message too short"), Ok)?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub fn byte(&mut self) -> Result<u8, Malformed> {
        Ok(self.bytes(1)?[0])
    }

    pub fn i16(&mut self) -> Result<i16, Malformed> {
        let b = self.bytes(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    pub fn i32(&mut self) -> Result<i32, Malformed> {
        let b = self.bytes(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A count that must not be negative.
    pub fn count(&mut self) -> Result<usize, Malformed> {
        let n = self.i16()?;
        usize::try_from(n).map_or_else(|_| bad(format!("negative count {n}")), Ok)
    }

    /// A NUL-terminated string, without its NUL.
    pub fn cstr(&mut self) -> Result<&'a [u8], Malformed> {
        let rest = &self.buf[self.pos..];
        let Some(nul) = rest.iter().position(|&b| b == 0) else {
            return bad("unterminated string");
        };
        self.pos += nul + 1;
        Ok(&rest[..nul])
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }

    pub fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    pub fn end(&self) -> Result<(), Malformed> {
        if self.at_end() {
            Ok(())
        } else {
            bad("unexpected bytes at the end of the message")
        }
    }

    fn mark(&self) -> usize {
        self.pos
    }

    fn since(&self, mark: usize) -> &'a [u8] {
        &self.buf[mark..self.pos]
    }
}

/// Parses the body of a message of type `ty`.
pub fn parse(ty: u8, body: &[u8]) -> Result<Message<'_>, Malformed> {
    let mut r = Reader::new(body);
    let msg = match ty {
        b'Q' => Message::Query(r.cstr()?),
        b'P' => {
            let name = r.cstr()?;
            let query = r.cstr()?;
            let mark = r.mark();
            let n = r.count()?;
            r.bytes(n * 4)?;
            Message::Parse {
                name,
                query,
                types: r.since(mark),
            }
        }
        b'B' => {
            let portal = r.cstr()?;
            let statement = r.cstr()?;
            let mark = r.mark();
            bind_rest(&mut r)?;
            Message::Bind {
                portal,
                statement,
                rest: r.since(mark),
            }
        }
        b'D' | b'C' => {
            let portal = match r.byte()? {
                b'P' => true,
                b'S' => false,
                other => {
                    return bad(format!(
                        "invalid kind {:?} to describe or close",
                        other as char
                    ));
                }
            };
            let name = r.cstr()?;
            if ty == b'D' {
                Message::Describe { portal, name }
            } else {
                Message::Close { portal, name }
            }
        }
        b'E' => Message::Execute {
            portal: r.cstr()?,
            max_rows: r.i32()?,
        },
        b'S' => Message::Sync,
        b'H' => Message::Flush,
        b'X' => Message::Terminate,
        b'd' => {
            r.rest();
            Message::CopyData
        }
        b'c' => Message::CopyDone,
        b'f' => {
            r.cstr()?;
            Message::CopyFail
        }
        b'F' => {
            function_call(&mut r)?;
            Message::FunctionCall
        }
        b'p' => Message::Password(r.rest()),
        other => return bad(format!("invalid frontend message type {}", other)),
    };
    r.end()?;
    Ok(msg)
}

/// Format codes, then values, then result format codes.
fn bind_rest(r: &mut Reader<'_>) -> Result<(), Malformed> {
    let formats = r.count()?;
    r.bytes(formats * 2)?;
    values(r)?;
    let results = r.count()?;
    r.bytes(results * 2)?;
    Ok(())
}

/// A count of values, each a length (-1: NULL) and its bytes.
fn values(r: &mut Reader<'_>) -> Result<(), Malformed> {
    let n = r.count()?;
    for _ in 0..n {
        let len = r.i32()?;
        if len == -1 {
            continue;
        }
        let len =
            usize::try_from(len).map_or_else(|_| bad(format!("invalid value length {len}")), Ok)?;
        r.bytes(len)?;
    }
    Ok(())
}

/// FunctionCall: the function's OID, argument formats, arguments, the
/// result format.
fn function_call(r: &mut Reader<'_>) -> Result<(), Malformed> {
    r.i32()?;
    let formats = r.count()?;
    r.bytes(formats * 2)?;
    values(r)?;
    r.i16()?;
    Ok(())
}

/// Writers of the messages the proxy sends the server (with its names).
pub mod write {
    use super::super::frame::{cstr, message};

    pub fn query(out: &mut Vec<u8>, sql: &[u8]) {
        message(out, b'Q', |b| cstr(b, sql));
    }

    /// `types`: the parameter type count and OIDs, as the client sent them.
    pub fn parse(out: &mut Vec<u8>, name: &[u8], sql: &[u8], types: &[u8]) {
        message(out, b'P', |b| {
            cstr(b, name);
            cstr(b, sql);
            b.extend_from_slice(types);
        });
    }

    /// `rest`: formats, values and result formats, as the client sent them.
    pub fn bind(out: &mut Vec<u8>, portal: &[u8], statement: &[u8], rest: &[u8]) {
        message(out, b'B', |b| {
            cstr(b, portal);
            cstr(b, statement);
            b.extend_from_slice(rest);
        });
    }

    /// A Bind of text parameters (NULL for None), text results.
    pub fn bind_text(out: &mut Vec<u8>, portal: &[u8], statement: &[u8], params: &[Option<&[u8]>]) {
        message(out, b'B', |b| {
            cstr(b, portal);
            cstr(b, statement);
            b.extend_from_slice(&0i16.to_be_bytes());
            b.extend_from_slice(&(params.len() as i16).to_be_bytes());
            for p in params {
                match p {
                    Some(v) => {
                        b.extend_from_slice(&(v.len() as i32).to_be_bytes());
                        b.extend_from_slice(v);
                    }
                    None => b.extend_from_slice(&(-1i32).to_be_bytes()),
                }
            }
            b.extend_from_slice(&0i16.to_be_bytes());
        });
    }

    pub fn execute(out: &mut Vec<u8>, portal: &[u8], max_rows: i32) {
        message(out, b'E', |b| {
            cstr(b, portal);
            b.extend_from_slice(&max_rows.to_be_bytes());
        });
    }

    pub fn describe(out: &mut Vec<u8>, portal: bool, name: &[u8]) {
        message(out, b'D', |b| {
            b.push(if portal { b'P' } else { b'S' });
            cstr(b, name);
        });
    }

    pub fn close(out: &mut Vec<u8>, portal: bool, name: &[u8]) {
        message(out, b'C', |b| {
            b.push(if portal { b'P' } else { b'S' });
            cstr(b, name);
        });
    }

    pub fn sync(out: &mut Vec<u8>) {
        message(out, b'S', |_| {});
    }

    pub fn copy_fail(out: &mut Vec<u8>, why: &str) {
        message(out, b'f', |b| cstr(b, why.as_bytes()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use postgres_protocol::message::frontend;

    /// Parses what postgres-protocol wrote: the type byte, then the body.
    fn roundtrip(buf: &BytesMut) -> Message<'_> {
        parse(buf[0], &buf[5..]).unwrap()
    }

    #[test]
    fn reads_what_a_driver_writes() {
        let mut b = BytesMut::new();
        frontend::parse("s0", "select $1::int", [23], &mut b).unwrap();
        assert_eq!(
            roundtrip(&b),
            Message::Parse {
                name: b"s0",
                query: b"select $1::int",
                types: &[0, 1, 0, 0, 0, 23],
            }
        );
        let mut b = BytesMut::new();
        frontend::bind(
            "",
            "s0",
            [1],
            [Some(&b"\0\0\0\x07"[..]), None],
            |v, buf| match v {
                Some(v) => {
                    buf.extend_from_slice(v);
                    Ok(postgres_protocol::IsNull::No)
                }
                None => Ok(postgres_protocol::IsNull::Yes),
            },
            [1],
            &mut b,
        )
        .unwrap_or_else(|_| panic!("bind"));
        let Message::Bind {
            portal,
            statement,
            rest,
        } = roundtrip(&b)
        else {
            panic!("not a bind")
        };
        assert_eq!((portal, statement), (&b""[..], &b"s0"[..]));
        assert_eq!(rest.len(), b.len() - 5 - 4);
        let mut b = BytesMut::new();
        frontend::execute("", 10, &mut b).unwrap();
        assert_eq!(
            roundtrip(&b),
            Message::Execute {
                portal: b"",
                max_rows: 10
            }
        );
        let mut b = BytesMut::new();
        frontend::close(b'S', "s0", &mut b).unwrap();
        assert_eq!(
            roundtrip(&b),
            Message::Close {
                portal: false,
                name: b"s0"
            }
        );
        let mut b = BytesMut::new();
        frontend::query("select 1", &mut b).unwrap();
        assert_eq!(roundtrip(&b), Message::Query(b"select 1"));
        let mut b = BytesMut::new();
        frontend::sync(&mut b);
        assert_eq!(roundtrip(&b), Message::Sync);
    }

    #[test]
    fn refuses_what_would_end_the_shared_connection() {
        // A Bind whose value runs past the end.
        let mut body = b"\0s0\0".to_vec();
        body.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 9, 1, 2]);
        assert!(parse(b'B', &body).is_err());
        // Negative counts and lengths.
        assert!(parse(b'B', b"\0\0\xff\xff").is_err());
        let mut body = b"\0\0".to_vec();
        body.extend_from_slice(&[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 0]);
        assert!(parse(b'B', &body).is_err());
        // Trailing bytes, missing terminators, unknown kinds and types.
        assert!(parse(b'S', b"x").is_err());
        assert!(parse(b'Q', b"select 1").is_err());
        assert!(parse(b'D', b"Xname\0").is_err());
        assert!(parse(b'E', b"\0\0\0").is_err());
        assert!(parse(b'Z', b"").is_err());
        assert!(parse(b'P', b"a\0b\0\0\x02\0\0\0\x17").is_err());
    }

    #[test]
    fn copy_and_function_calls() {
        assert_eq!(parse(b'd', b"1\t2\n"), Ok(Message::CopyData));
        assert_eq!(parse(b'c', b""), Ok(Message::CopyDone));
        assert_eq!(parse(b'f', b"why\0"), Ok(Message::CopyFail));
        // lo_open(oid 1234, mode 0x20000): one int4 argument pair, binary.
        let mut body = vec![0, 0, 3, 0xbc, 0, 1, 0, 1, 0, 2];
        body.extend_from_slice(&[0, 0, 0, 4, 0, 0, 4, 0xd2, 0, 0, 0, 4, 0, 2, 0, 0, 0, 1]);
        assert_eq!(parse(b'F', &body), Ok(Message::FunctionCall));
        assert!(parse(b'F', &body[..body.len() - 1]).is_err());
    }
}
