//! What a pg_dump archive says about itself: its format version and the
//! pg_dump that wrote it, from the header that opens the custom format
//! (`-Fc`), the `toc.dat` of the directory format (`-Fd`) and the first
//! member of the tar format (`-Ft`). pg_restore refuses an archive whose
//! format is newer than it knows ("unsupported version (1.16) in file
//! header"), so pgtmp picks a pg_restore that can read it, or says which
//! would be needed, before starting anything.
//!
//! The header (src/bin/pg_dump/pg_backup_archiver.c, `WriteHead`): `PGDMP`,
//! the format version as three bytes, the sizes of an integer and an
//! offset, the format, the compression (an integer before 1.15, a byte
//! since), the creation time (seven integers), then three strings: the
//! database, the server's version and pg_dump's. An integer is a sign byte
//! and `int size` bytes, least significant first; a string is its length
//! as an integer, then its bytes.

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// An archive's format version, `(1, 16)` for 1.16.
pub type Format = (u8, u8);

/// What the header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub format: Format,
    /// pg_dump's version (`18.6`), in archives since format 1.10 (8.4).
    pub pg_dump: Option<String>,
}

impl Header {
    /// The header of the archive at `path` (a file, or a `-Fd` directory);
    /// `None` if it has none that can be read.
    pub fn read(path: &Path) -> Option<Header> {
        let mut bytes = Vec::with_capacity(4096);
        let file = if path.is_dir() {
            path.join("toc.dat")
        } else {
            path.to_path_buf()
        };
        File::open(file)
            .and_then(|f| f.take(4096).read_to_end(&mut bytes))
            .ok()?;
        // A tar archive: the first member, toc.dat, follows its 512-byte
        // tar header.
        if bytes.get(257..262) == Some(b"ustar".as_slice()) {
            bytes.drain(..512.min(bytes.len()));
        }
        parse(&bytes)
    }

    /// `1.16`.
    pub fn format_text(&self) -> String {
        format!("{}.{}", self.format.0, self.format.1)
    }
}

fn parse(bytes: &[u8]) -> Option<Header> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(5)? != b"PGDMP" {
        return None;
    }
    let (major, minor, _rev) = (r.byte()?, r.byte()?, r.byte()?);
    let format = (major, minor);
    let mut header = Header {
        format,
        pg_dump: None,
    };
    if format < (1, 10) {
        return Some(header);
    }
    let int_size = usize::from(r.byte()?);
    if !(1..=8).contains(&int_size) {
        return None;
    }
    let _offset_size = r.byte()?;
    let _archive_format = r.byte()?;
    if format >= (1, 15) {
        r.byte()?;
    } else {
        r.int(int_size)?;
    }
    for _ in 0..7 {
        r.int(int_size)?; // creation time
    }
    let _database = r.string(int_size)?;
    let _server = r.string(int_size)?;
    header.pg_dump = r.string(int_size)?;
    Some(header)
}

/// The newest archive format the pg_restore of `major` reads (its
/// `K_VERS_MAX`): 1.13 up to 11, 1.14 (table access methods) from 12, 1.15
/// (compression algorithm in the header) from 16, 1.16 (large object
/// metadata) from 17. A version newer than this table reads at least what
/// the newest one known does.
pub fn newest_readable(major: u32) -> Format {
    match major {
        ..=11 => (1, 13),
        12..=15 => (1, 14),
        16 => (1, 15),
        _ => (1, 16),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn int(&mut self, size: usize) -> Option<i64> {
        let negative = self.byte()? != 0;
        let mut value: i64 = 0;
        for (i, b) in self.take(size)?.iter().enumerate() {
            value |= i64::from(*b) << (8 * i.min(7));
        }
        Some(if negative { -value } else { value })
    }

    /// A string; `None` inside for a null one (length -1).
    fn string(&mut self, int_size: usize) -> Option<Option<String>> {
        let len = self.int(int_size)?;
        if len < 0 {
            return Some(None);
        }
        let bytes = self.take(usize::try_from(len).ok()?)?;
        Some(Some(String::from_utf8_lossy(bytes).into_owned()))
    }
}

/// A header as pg_dump writes it, for tests elsewhere too.
#[cfg(test)]
pub fn fake_header(format: Format, pg_dump: &str) -> Vec<u8> {
    let mut h = b"PGDMP".to_vec();
    h.extend([format.0, format.1, 0, 4, 8, 1]);
    let int = |h: &mut Vec<u8>, v: u32| {
        h.push(0);
        h.extend(v.to_le_bytes());
    };
    if format >= (1, 15) {
        h.push(0);
    } else {
        int(&mut h, 0);
    }
    for t in [1, 2, 3, 4, 5, 125, 0] {
        int(&mut h, t);
    }
    for s in ["test", "13.23", pg_dump] {
        int(&mut h, s.len() as u32);
        h.extend(s.as_bytes());
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_pg_dump_wrote() {
        // The first bytes of `pg_dump -Fc` 18.6 of a 13.23 server.
        let real: &[u8] = b"PGDMP\x01\x10\x00\x04\x08\x01\x01\
            \x00\x10\x00\x00\x00\x00\x27\x00\x00\x00\x00\x11\x00\x00\x00\
            \x00\x1d\x00\x00\x00\x00\x0a\x00\x00\x00\x00\x7e\x00\x00\x00\
            \x00\x00\x00\x00\x00\x00\x04\x00\x00\x00test\
            \x00\x05\x00\x00\x0013.23\x00\x04\x00\x00\x0018.6\x00";
        let header = parse(real).expect("a header");
        assert_eq!(header.format, (1, 16));
        assert_eq!(header.pg_dump.as_deref(), Some("18.6"));
        assert_eq!(header.format_text(), "1.16");
        let old = parse(&fake_header((1, 14), "15.14")).expect("a header");
        assert_eq!(old.pg_dump.as_deref(), Some("15.14"));
        assert_eq!(parse(b"PGDMP\x01"), None);
        assert_eq!(parse(b"create table t ();"), None);
    }

    #[test]
    fn newer_pg_restore_reads_more() {
        assert!(newest_readable(15) < (1, 15));
        assert_eq!(newest_readable(16), (1, 15));
        assert_eq!(newest_readable(17), (1, 16));
        assert!(newest_readable(99) >= newest_readable(18));
    }
}
