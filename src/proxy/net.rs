//! Non-blocking connections with their buffers: what the event loop reads
//! into and the engine parses from, what the engine writes into and the
//! event loop flushes. One type for Unix-socket and TCP streams, so the
//! engine never asks which one it has.

use std::io::{self, Read, Write};

pub use crate::stream::Stream;

/// Above this much unsent output, stop producing more for the connection
/// (stop reading the server on its behalf) until the peer reads.
pub const HIGH_WATER: usize = 256 * 1024;

/// A stream with an input and an output buffer.
#[derive(Debug)]
pub struct Conn {
    pub stream: Stream,
    input: Vec<u8>,
    /// Bytes of `input` already consumed.
    start: usize,
    output: Vec<u8>,
    sent: usize,
    /// The peer closed its side, or reading failed.
    pub eof: bool,
    /// Writing failed: the peer is gone.
    pub broken: bool,
}

impl Conn {
    pub fn new(stream: Stream) -> io::Result<Conn> {
        stream.set_nonblocking()?;
        Ok(Conn {
            stream,
            input: Vec::new(),
            start: 0,
            output: Vec::new(),
            sent: 0,
            eof: false,
            broken: false,
        })
    }

    /// The bytes read and not yet consumed.
    pub fn input(&self) -> &[u8] {
        &self.input[self.start..]
    }

    pub fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.input.len() {
            self.input.clear();
            self.start = 0;
        }
    }

    /// Reads what is available without blocking; false if nothing was
    /// (end of file counts as something).
    pub fn fill(&mut self) -> bool {
        if self.start > 0 && self.start * 2 > self.input.len() {
            self.input.drain(..self.start);
            self.start = 0;
        }
        let mut read_any = false;
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    self.eof = true;
                    return true;
                }
                Ok(n) => {
                    self.input.extend_from_slice(&chunk[..n]);
                    read_any = true;
                    if n < chunk.len() {
                        return read_any;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return read_any,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.eof = true;
                    return true;
                }
            }
        }
    }

    /// Where the engine writes.
    pub fn out(&mut self) -> &mut Vec<u8> {
        &mut self.output
    }

    pub fn pending(&self) -> usize {
        self.output.len() - self.sent
    }

    /// Writes what it can without blocking.
    pub fn flush(&mut self) {
        while self.sent < self.output.len() && !self.broken {
            match self.stream.write(&self.output[self.sent..]) {
                Ok(0) => self.broken = true,
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => self.broken = true,
            }
        }
        if self.sent == self.output.len() || self.broken {
            self.output.clear();
            self.sent = 0;
        } else if self.sent > 64 * 1024 && self.sent * 2 > self.output.len() {
            self.output.drain(..self.sent);
            self.sent = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    #[test]
    fn buffers_survive_partial_reads_and_writes() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut a = Conn::new(Stream::Unix(a)).unwrap();
        let mut b = Conn::new(Stream::Unix(b)).unwrap();
        assert!(!b.fill());
        a.out().extend_from_slice(b"hello");
        a.flush();
        assert_eq!(a.pending(), 0);
        assert!(b.fill());
        assert_eq!(b.input(), b"hello");
        b.consume(2);
        assert_eq!(b.input(), b"llo");
        b.consume(3);
        // More than the socket buffer: the rest waits for the reader.
        a.out().extend(std::iter::repeat_n(7u8, 4 << 20));
        a.flush();
        assert!(a.pending() > 0);
        let mut got = 0;
        while got < 4 << 20 {
            a.flush();
            b.fill();
            let n = b.input().len();
            got += n;
            b.consume(n);
        }
        assert_eq!((got, a.pending()), (4 << 20, 0));
        drop(a);
        assert!(b.fill() && b.eof);
    }
}
