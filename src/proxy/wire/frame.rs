//! Cutting a byte stream into protocol messages: a type byte and a length
//! (which counts itself), or, before the session starts, a length alone.
//! The limits are the server's: a startup packet of at most 10,000 bytes
//! and a message of at most 1 GB; anything longer, or a length shorter than
//! the length field itself, is a protocol violation that ends the connection.
//! <https://www.postgresql.org/docs/current/protocol-overview.html#PROTOCOL-MESSAGE-CONCEPTS>

use std::fmt;

/// The longest startup packet the server reads (`MAX_STARTUP_PACKET_LENGTH`).
pub const MAX_STARTUP: usize = 10_000;
/// The longest message the server reads (`PQ_LARGE_MESSAGE_LIMIT`).
pub const MAX_MESSAGE: usize = (1 << 30) - 1;

/// A stream that cannot be framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The length field is below its own size.
    TooShort(i64),
    /// The length field is above the limit.
    TooLong(i64, usize),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooShort(n) => write!(f, "invalid message length {n}"),
            FrameError::TooLong(n, max) => {
                write!(f, "message of {n} bytes is longer than the limit of {max}")
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// A complete typed message at the start of `buf`: its type byte and its
/// total size (type byte and length included); None until all of it is
/// there.
pub fn typed(buf: &[u8], max: usize) -> Result<Option<(u8, usize)>, FrameError> {
    let Some(header) = buf.get(..5) else {
        return Ok(None);
    };
    let len = i64::from(i32::from_be_bytes([
        header[1], header[2], header[3], header[4],
    ]));
    let body = checked(len, max)?;
    let total = 1 + body;
    Ok((buf.len() >= total).then_some((header[0], total)))
}

/// A complete untyped (startup-phase) packet at the start of `buf`: its
/// total size; None until all of it is there.
pub fn untyped(buf: &[u8], max: usize) -> Result<Option<usize>, FrameError> {
    let Some(header) = buf.get(..4) else {
        return Ok(None);
    };
    let len = i64::from(i32::from_be_bytes([
        header[0], header[1], header[2], header[3],
    ]));
    let total = checked(len, max)?;
    Ok((buf.len() >= total).then_some(total))
}

fn checked(len: i64, max: usize) -> Result<usize, FrameError> {
    if len < 4 {
        return Err(FrameError::TooShort(len));
    }
    let len = usize::try_from(len).map_err(|_| FrameError::TooShort(len))?;
    if len > max {
        return Err(FrameError::TooLong(len as i64, max));
    }
    Ok(len)
}

/// Appends a message of type `ty` whose body `body` writes.
pub fn message(out: &mut Vec<u8>, ty: u8, body: impl FnOnce(&mut Vec<u8>)) {
    out.push(ty);
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    body(out);
    let len = (out.len() - at) as i32;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

/// Appends a NUL-terminated string.
pub fn cstr(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(s);
    out.push(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_messages_wait_for_their_last_byte() {
        let msg = [b'Q', 0, 0, 0, 6, b'x', 0];
        for cut in 0..msg.len() {
            assert_eq!(typed(&msg[..cut], MAX_MESSAGE), Ok(None), "{cut}");
        }
        assert_eq!(typed(&msg, MAX_MESSAGE), Ok(Some((b'Q', 7))));
        let mut two = msg.to_vec();
        two.extend_from_slice(&[b'S', 0, 0, 0, 4]);
        assert_eq!(typed(&two, MAX_MESSAGE), Ok(Some((b'Q', 7))));
    }

    #[test]
    fn bad_lengths_are_errors_at_once() {
        assert_eq!(
            typed(&[b'Q', 0, 0, 0, 3], MAX_MESSAGE),
            Err(FrameError::TooShort(3))
        );
        assert_eq!(
            typed(&[b'Q', 0xff, 0xff, 0xff, 0xff], MAX_MESSAGE),
            Err(FrameError::TooShort(-1))
        );
        assert_eq!(
            typed(&[b'Q', 0x7f, 0xff, 0xff, 0xff], MAX_MESSAGE),
            Err(FrameError::TooLong(0x7fff_ffff, MAX_MESSAGE))
        );
        assert_eq!(
            untyped(&[0, 0, 0x27, 0x11], MAX_STARTUP),
            Err(FrameError::TooLong(10_001, MAX_STARTUP))
        );
        assert_eq!(untyped(&[0, 0, 0, 8, 1, 2, 3, 4], MAX_STARTUP), Ok(Some(8)));
    }
}
