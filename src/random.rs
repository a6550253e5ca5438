//! Random identifiers and passwords, read from the kernel's CSPRNG.

use std::io::Read;

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// `n` random bytes.
pub fn bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    // As `token`: a system without /dev/urandom is broken.
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    bytes
}

/// `len` random characters from `[a-z0-9]` (`lower`) or `[a-zA-Z0-9]`.
fn token(len: usize, lower: bool) -> String {
    // /dev/urandom never blocks and never runs dry on Linux; failing to open
    // it means a broken system, where a predictable fallback would be worse.
    let bytes = bytes(len * 2);
    let alphabet: Vec<u8> = if lower {
        ALPHABET
            .iter()
            .copied()
            .filter(|c| !c.is_ascii_uppercase())
            .collect()
    } else {
        ALPHABET.to_vec()
    };
    // Rejection sampling keeps the distribution uniform.
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(len);
    for b in bytes {
        if (b as usize) < limit {
            out.push(alphabet[b as usize % alphabet.len()] as char);
            if out.len() == len {
                return out;
            }
        }
    }
    // Vanishingly rare: too many rejections; draw again.
    let missing = len - out.len();
    out + &token(missing, lower)
}

/// A short, lower-case identifier for instances and pool entries.
pub fn id() -> String {
    token(10, true)
}

/// A password for TCP instances: 24 characters, ~142 bits.
pub fn password() -> String {
    token(24, false)
}

/// A random number from the kernel's CSPRNG (`--shuffle`).
pub fn u64() -> u64 {
    let mut bytes = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_differ_and_have_the_right_shape() {
        let a = super::password();
        let b = super::password();
        assert_ne!(a, b);
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        let id = super::id();
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
    }
}
