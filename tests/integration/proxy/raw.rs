//! A client speaking the wire protocol with raw bytes: message builders
//! and a connection that reads whole messages, for the tests that send
//! what drivers send (or should not send) byte for byte.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::Shared;

pub fn msg(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![ty];
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

pub fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

pub fn query(sql: &str) -> Vec<u8> {
    msg(b'Q', &cstr(sql))
}

pub fn parse(name: &str, sql: &str) -> Vec<u8> {
    msg(b'P', &cat(&[&cstr(name), &cstr(sql), &[0, 0]]))
}

/// Bind with text parameters, text results.
pub fn bind(portal: &str, statement: &str, params: &[&str]) -> Vec<u8> {
    let mut body = cat(&[&cstr(portal), &cstr(statement), &[0, 0]]);
    body.extend_from_slice(&(params.len() as i16).to_be_bytes());
    for p in params {
        body.extend_from_slice(&(p.len() as i32).to_be_bytes());
        body.extend_from_slice(p.as_bytes());
    }
    body.extend_from_slice(&[0, 0]);
    msg(b'B', &body)
}

pub fn execute(portal: &str, max_rows: i32) -> Vec<u8> {
    msg(b'E', &cat(&[&cstr(portal), &max_rows.to_be_bytes()]))
}

pub fn sync() -> Vec<u8> {
    msg(b'S', &[])
}

pub fn flush() -> Vec<u8> {
    msg(b'H', &[])
}

/// Describe (`portal`: of a portal, else of a statement).
pub fn describe(portal: bool, name: &str) -> Vec<u8> {
    msg(b'D', &cat(&[if portal { b"P" } else { b"S" }, &cstr(name)]))
}

/// Close (`portal`: of a portal, else of a statement).
pub fn close(portal: bool, name: &str) -> Vec<u8> {
    msg(b'C', &cat(&[if portal { b"P" } else { b"S" }, &cstr(name)]))
}

pub fn copy_data(data: &str) -> Vec<u8> {
    msg(b'd', data.as_bytes())
}

pub fn copy_done() -> Vec<u8> {
    msg(b'c', &[])
}

pub fn copy_fail(why: &str) -> Vec<u8> {
    msg(b'f', &cstr(why))
}

/// A raw connection to the proxy's socket.
pub struct Raw {
    pub s: UnixStream,
    buf: Vec<u8>,
}

impl Raw {
    pub fn open(p: &Shared) -> Raw {
        let s = UnixStream::connect(p.socket()).expect("connect to the proxy");
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        Raw { s, buf: Vec::new() }
    }

    /// Connects and starts a session with protocol 3.`minor` and `extra`
    /// startup parameters; returns what came before ReadyForQuery.
    pub fn start(p: &Shared, minor: u16, extra: &[(&str, &str)]) -> (Raw, Vec<(u8, Vec<u8>)>) {
        let mut r = Raw::open(p);
        let user = crate::support::procs::my_name();
        r.send(&startup(
            minor,
            &[&[("user", user.as_str()), ("database", "test")], extra].concat(),
        ));
        let got = r.until(b'Z');
        (r, got)
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).expect("write to the proxy");
    }

    /// The next message; None at EOF.
    pub fn next(&mut self) -> Option<(u8, Vec<u8>)> {
        loop {
            if self.buf.len() >= 5 {
                let len = i32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]])
                    as usize;
                if self.buf.len() > len {
                    let m: Vec<u8> = self.buf.drain(..=len).collect();
                    return Some((m[0], m[5..].to_vec()));
                }
            }
            let mut chunk = [0u8; 65536];
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Messages up to and including one of type `ty`.
    pub fn until(&mut self, ty: u8) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        loop {
            let m = self.next().unwrap_or_else(|| {
                panic!("connection closed before {:?}; got {out:?}", ty as char)
            });
            let done = m.0 == ty;
            out.push(m);
            if done {
                return out;
            }
        }
    }

    /// Whether the proxy closed the connection (after what it sent).
    pub fn closed(&mut self) -> bool {
        while self.next().is_some() {}
        true
    }
}

pub fn startup(minor: u16, params: &[(&str, &str)]) -> Vec<u8> {
    let mut body = ((3i32 << 16) | i32::from(minor)).to_be_bytes().to_vec();
    for (k, v) in params {
        body.extend_from_slice(&cstr(k));
        body.extend_from_slice(&cstr(v));
    }
    body.push(0);
    let mut out = (body.len() as i32 + 4).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

pub fn types(msgs: &[(u8, Vec<u8>)]) -> String {
    msgs.iter().map(|m| m.0 as char).collect()
}

pub fn sqlstate(body: &[u8]) -> String {
    body.split(|&b| b == 0)
        .find_map(|f| f.strip_prefix(b"C"))
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .unwrap_or_default()
}
