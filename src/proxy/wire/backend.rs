//! What the proxy says to clients in the server's voice: errors, notices,
//! command tags, ReadyForQuery with the client's own transaction status,
//! the authentication exchange. `postgres-protocol` reads these messages
//! but does not write them, so the writers are here, next to the few
//! readers of server messages that the proxy needs beyond it.
//! <https://www.postgresql.org/docs/current/protocol-message-formats.html>

use super::frame::{cstr, message};

/// The fields of an ErrorResponse or NoticeResponse.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// Field type and value, in order (`S`, `V`, `C`, `M`, `D`, `H`, ...).
    pub fields: Vec<(u8, Vec<u8>)>,
}

impl Report {
    /// `severity`: ERROR, FATAL, WARNING, NOTICE.
    pub fn new(severity: &str, code: &str, message: impl Into<String>) -> Report {
        Report {
            fields: vec![
                (b'S', severity.as_bytes().to_vec()),
                (b'V', severity.as_bytes().to_vec()),
                (b'C', code.as_bytes().to_vec()),
                (b'M', message.into().into_bytes()),
            ],
        }
    }

    pub fn error(code: &str, message: impl Into<String>) -> Report {
        Report::new("ERROR", code, message)
    }

    pub fn fatal(code: &str, message: impl Into<String>) -> Report {
        Report::new("FATAL", code, message)
    }

    pub fn with(mut self, field: u8, value: impl Into<String>) -> Report {
        self.set(field, value.into().into_bytes());
        self
    }

    /// Reads the body of an ErrorResponse or NoticeResponse.
    pub fn parse(body: &[u8]) -> Report {
        let mut fields = Vec::new();
        let mut rest = body;
        while let Some((&ty, tail)) = rest.split_first() {
            if ty == 0 {
                break;
            }
            let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
            fields.push((ty, tail[..end].to_vec()));
            rest = tail.get(end + 1..).unwrap_or_default();
        }
        Report { fields }
    }

    pub fn get(&self, field: u8) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(t, _)| *t == field)
            .map(|(_, v)| v.as_slice())
    }

    pub fn code(&self) -> &[u8] {
        self.get(b'C').unwrap_or_default()
    }

    pub fn set(&mut self, field: u8, value: Vec<u8>) {
        match self.fields.iter_mut().find(|(t, _)| *t == field) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((field, value)),
        }
    }

    fn write(&self, out: &mut Vec<u8>, ty: u8) {
        message(out, ty, |b| {
            for (t, v) in &self.fields {
                b.push(*t);
                cstr(b, v);
            }
            b.push(0);
        });
    }

    pub fn error_response(&self, out: &mut Vec<u8>) {
        self.write(out, b'E');
    }

    pub fn notice_response(&self, out: &mut Vec<u8>) {
        self.write(out, b'N');
    }

    /// The message, for logs.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.get(b'M').unwrap_or_default()).into_owned()
    }
}

pub fn command_complete(out: &mut Vec<u8>, tag: &str) {
    message(out, b'C', |b| cstr(b, tag.as_bytes()));
}

pub fn ready_for_query(out: &mut Vec<u8>, status: u8) {
    message(out, b'Z', |b| b.push(status));
}

pub fn parameter_status(out: &mut Vec<u8>, name: &str, value: &str) {
    message(out, b'S', |b| {
        cstr(b, name.as_bytes());
        cstr(b, value.as_bytes());
    });
}

pub fn backend_key_data(out: &mut Vec<u8>, pid: i32, key: &[u8]) {
    message(out, b'K', |b| {
        b.extend_from_slice(&pid.to_be_bytes());
        b.extend_from_slice(key);
    });
}

pub fn close_complete(out: &mut Vec<u8>) {
    message(out, b'3', |_| {});
}

/// Authentication request `code` (0 ok, 10 SASL, 11 continue, 12 final).
pub fn authentication(out: &mut Vec<u8>, code: i32, data: &[u8]) {
    message(out, b'R', |b| {
        b.extend_from_slice(&code.to_be_bytes());
        b.extend_from_slice(data);
    });
}

/// NegotiateProtocolVersion: the newest minor version we speak and the
/// protocol options we did not recognise.
pub fn negotiate_protocol_version(out: &mut Vec<u8>, minor: u16, unknown: &[String]) {
    message(out, b'v', |b| {
        b.extend_from_slice(&((3i32 << 16) | i32::from(minor)).to_be_bytes());
        b.extend_from_slice(&(unknown.len() as i32).to_be_bytes());
        for name in unknown {
            cstr(b, name.as_bytes());
        }
    });
}

/// A ParameterStatus body: its name and value.
pub fn read_parameter_status(body: &[u8]) -> Option<(String, String)> {
    let mut parts = body.split(|&b| b == 0);
    let name = parts.next()?;
    let value = parts.next()?;
    Some((
        String::from_utf8_lossy(name).into_owned(),
        String::from_utf8_lossy(value).into_owned(),
    ))
}

/// A CommandComplete body: its tag.
#[cfg(test)]
pub fn read_tag(body: &[u8]) -> &[u8] {
    body.split(|&b| b == 0).next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use postgres_protocol::message::backend::Message;

    fn parsed(out: &[u8]) -> Message {
        let mut b = BytesMut::from(out);
        Message::parse(&mut b).unwrap().unwrap()
    }

    #[test]
    fn what_we_write_postgres_protocol_reads() {
        let mut out = Vec::new();
        Report::error("25P01", "there is no transaction in progress")
            .with(b'H', "a hint")
            .error_response(&mut out);
        assert!(matches!(parsed(&out), Message::ErrorResponse(_)));
        let report = Report::parse(&out[5..]);
        assert_eq!(report.code(), b"25P01");
        assert_eq!(report.get(b'H'), Some(&b"a hint"[..]));

        let mut out = Vec::new();
        ready_for_query(&mut out, b'T');
        let Message::ReadyForQuery(rfq) = parsed(&out) else {
            panic!()
        };
        assert_eq!(rfq.status(), b'T');
        let mut out = Vec::new();
        command_complete(&mut out, "START TRANSACTION");
        let Message::CommandComplete(cc) = parsed(&out) else {
            panic!()
        };
        assert_eq!(cc.tag().unwrap(), "START TRANSACTION");
        assert_eq!(read_tag(&out[5..]), b"START TRANSACTION");
        let mut out = Vec::new();
        parameter_status(&mut out, "TimeZone", "UTC");
        assert_eq!(
            read_parameter_status(&out[5..]),
            Some(("TimeZone".into(), "UTC".into()))
        );
        let mut out = Vec::new();
        backend_key_data(&mut out, 7, &[0, 0, 0, 9]);
        let Message::BackendKeyData(k) = parsed(&out) else {
            panic!()
        };
        assert_eq!((k.process_id(), k.secret_key()), (7, 9));
    }
}
