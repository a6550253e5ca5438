//! The first packet of a connection: a StartupMessage, or one of the
//! special requests that share its shape (SSL, GSS encryption, cancel), or
//! a TLS ClientHello from a client that skips the SSLRequest
//! (`sslnegotiation=direct`, libpq 17+).
//! <https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP>

use super::frontend::{Malformed, Reader};

pub const SSL_REQUEST: i32 = 80_877_103;
pub const GSSENC_REQUEST: i32 = 80_877_104;
pub const CANCEL_REQUEST: i32 = 80_877_102;
/// The first byte of a TLS handshake record.
pub const TLS_HANDSHAKE: u8 = 0x16;
/// The longest cancel key protocol 3.2 allows.
pub const MAX_CANCEL_KEY: usize = 256;

/// What a connection opens with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Startup {
    Ssl,
    GssEnc,
    Cancel {
        pid: i32,
        key: Vec<u8>,
    },
    Start {
        major: u16,
        minor: u16,
        /// In the order sent; names and values as UTF-8 (lossy).
        params: Vec<(String, String)>,
    },
}

/// Parses a whole startup-phase packet (length included).
pub fn parse(packet: &[u8]) -> Result<Startup, Malformed> {
    let mut r = Reader::new(packet);
    r.i32()?;
    let code = r.i32()?;
    match code {
        SSL_REQUEST | GSSENC_REQUEST => {
            r.end()?;
            Ok(if code == SSL_REQUEST {
                Startup::Ssl
            } else {
                Startup::GssEnc
            })
        }
        CANCEL_REQUEST => {
            let pid = r.i32()?;
            let key = r.rest().to_vec();
            if key.len() < 4 || key.len() > MAX_CANCEL_KEY {
                return Err(Malformed(format!(
                    "invalid cancel key length {}",
                    key.len()
                )));
            }
            Ok(Startup::Cancel { pid, key })
        }
        _ => {
            let major = (code >> 16) as u16;
            let minor = (code & 0xffff) as u16;
            let mut params = Vec::new();
            loop {
                let name = r.cstr()?;
                if name.is_empty() {
                    break;
                }
                let value = r.cstr()?;
                params.push((lossy(name), lossy(value)));
            }
            r.end()?;
            Ok(Startup::Start {
                major,
                minor,
                params,
            })
        }
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use postgres_protocol::message::frontend;

    #[test]
    fn special_requests() {
        let mut b = BytesMut::new();
        frontend::ssl_request(&mut b);
        assert_eq!(parse(&b), Ok(Startup::Ssl));
        let mut b = BytesMut::new();
        frontend::cancel_request(42, 7, &mut b);
        assert_eq!(
            parse(&b),
            Ok(Startup::Cancel {
                pid: 42,
                key: vec![0, 0, 0, 7]
            })
        );
        let mut gss = vec![0, 0, 0, 8];
        gss.extend_from_slice(&GSSENC_REQUEST.to_be_bytes());
        assert_eq!(parse(&gss), Ok(Startup::GssEnc));
        // A 3.2 cancel key of 32 bytes.
        let mut cancel = vec![0, 0, 0, 44];
        cancel.extend_from_slice(&CANCEL_REQUEST.to_be_bytes());
        cancel.extend_from_slice(&9i32.to_be_bytes());
        cancel.extend_from_slice(&[5; 32]);
        assert!(matches!(parse(&cancel), Ok(Startup::Cancel { pid: 9, key }) if key.len() == 32));
    }

    #[test]
    fn startup_parameters() {
        let mut b = BytesMut::new();
        frontend::startup_message([("user", "me"), ("database", "test")], &mut b).unwrap();
        assert_eq!(
            parse(&b),
            Ok(Startup::Start {
                major: 3,
                minor: 0,
                params: vec![
                    ("user".into(), "me".into()),
                    ("database".into(), "test".into())
                ]
            })
        );
        // Missing the final NUL.
        assert!(parse(&b[..b.len() - 1]).is_err());
    }
}
