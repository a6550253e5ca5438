//! SCRAM-SHA-256, the server's side, for clients of the proxy's TCP
//! listener: the proxy checks the instance's password itself rather than
//! replaying a recorded exchange with the server (PGProxy's mistake, which
//! only works for a password-less server). Channel binding is not offered:
//! there is no TLS. The secret is derived once from the password, so each
//! connection costs a few hashes, not the 4096 rounds of PBKDF2.
//! <https://www.postgresql.org/docs/current/sasl-authentication.html>
//! (RFC 5802, RFC 7677)

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

pub const MECHANISM: &str = "SCRAM-SHA-256";

/// What the server keeps of a password (as `pg_authid` does).
#[derive(Debug, Clone)]
pub struct Secret {
    iterations: u32,
    salt: Vec<u8>,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

impl Secret {
    /// Derives the secret of `password` with a fresh salt.
    pub fn new(password: &str) -> Secret {
        let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
        Secret::parse(&verifier).expect("postgres-protocol writes valid verifiers")
    }

    /// Reads `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
    pub fn parse(verifier: &str) -> Option<Secret> {
        let rest = verifier.strip_prefix("SCRAM-SHA-256$")?;
        let (params, keys) = rest.split_once('$')?;
        let (iterations, salt) = params.split_once(':')?;
        let (stored, server) = keys.split_once(':')?;
        Some(Secret {
            iterations: iterations.parse().ok()?,
            salt: B64.decode(salt).ok()?,
            stored_key: B64.decode(stored).ok()?,
            server_key: B64.decode(server).ok()?,
        })
    }
}

/// Why an exchange failed: the client gets 28P01 either way, the log this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub &'static str);

/// One exchange, from the client's first message to the server's last.
#[derive(Debug)]
pub struct Exchange {
    state: State,
}

#[derive(Debug)]
enum State {
    Initial,
    Final {
        gs2_header: String,
        client_first_bare: String,
        server_first: String,
        nonce: String,
    },
    Done,
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any size");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

impl Default for Exchange {
    fn default() -> Self {
        Exchange {
            state: State::Initial,
        }
    }
}

impl Exchange {
    /// Whether the client's first message was taken.
    pub fn started(&self) -> bool {
        !matches!(self.state, State::Initial)
    }

    /// The body of a SASLInitialResponse: answers with server-first-message.
    pub fn initial(&mut self, secret: &Secret, body: &[u8]) -> Result<Vec<u8>, Refused> {
        let State::Initial = self.state else {
            return Err(Refused("unexpected SASLInitialResponse"));
        };
        let nul = body
            .iter()
            .position(|&b| b == 0)
            .ok_or(Refused("malformed SASLInitialResponse"))?;
        if &body[..nul] != MECHANISM.as_bytes() {
            return Err(Refused(
                "client selected an invalid SASL authentication mechanism",
            ));
        }
        let rest = &body[nul + 1..];
        let len = rest
            .get(..4)
            .ok_or(Refused("malformed SASLInitialResponse"))?;
        let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        let data = &rest[4..];
        if usize::try_from(len).ok() != Some(data.len()) {
            return Err(Refused("malformed SASLInitialResponse"));
        }
        let message = std::str::from_utf8(data).map_err(|_| Refused("malformed SCRAM message"))?;
        // gs2-header: `n,,` (no channel binding) or `y,,` (the client could
        // but thinks we cannot); `p=` asks for binding we never offered.
        let (flag, rest) = message
            .split_once(',')
            .ok_or(Refused("malformed SCRAM message"))?;
        if flag != "n" && flag != "y" {
            return Err(Refused("channel binding is not supported"));
        }
        let (authzid, bare) = rest
            .split_once(',')
            .ok_or(Refused("malformed SCRAM message"))?;
        if !authzid.is_empty() {
            return Err(Refused("authorization identities are not supported"));
        }
        let client_nonce = bare
            .split(',')
            .find_map(|a| a.strip_prefix("r="))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b','))
            .ok_or(Refused("malformed SCRAM message"))?;
        let nonce = format!("{client_nonce}{}", B64.encode(crate::random::bytes(18)));
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&secret.salt),
            secret.iterations
        );
        let reply = server_first.clone().into_bytes();
        self.state = State::Final {
            gs2_header: format!("{flag},,"),
            client_first_bare: bare.to_string(),
            server_first,
            nonce,
        };
        Ok(reply)
    }

    /// The body of a SASLResponse: checks the proof, answers with
    /// server-final-message.
    pub fn finish(&mut self, secret: &Secret, body: &[u8]) -> Result<Vec<u8>, Refused> {
        let State::Final {
            gs2_header,
            client_first_bare,
            server_first,
            nonce,
        } = std::mem::replace(&mut self.state, State::Done)
        else {
            return Err(Refused("unexpected SASLResponse"));
        };
        let message = std::str::from_utf8(body).map_err(|_| Refused("malformed SCRAM message"))?;
        let (without_proof, proof) = message
            .rsplit_once(",p=")
            .ok_or(Refused("malformed SCRAM message"))?;
        let mut attrs = without_proof.split(',');
        let binding = attrs
            .next()
            .and_then(|a| a.strip_prefix("c="))
            .ok_or(Refused("malformed SCRAM message"))?;
        if B64.decode(binding).ok().as_deref() != Some(gs2_header.as_bytes()) {
            return Err(Refused("unexpected channel binding"));
        }
        if attrs.next().and_then(|a| a.strip_prefix("r=")) != Some(nonce.as_str()) {
            return Err(Refused("nonces do not match"));
        }
        let proof = B64
            .decode(proof)
            .map_err(|_| Refused("malformed SCRAM proof"))?;
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let signature = hmac(&secret.stored_key, auth_message.as_bytes());
        if proof.len() != signature.len() {
            return Err(Refused("malformed SCRAM proof"));
        }
        let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(a, b)| a ^ b).collect();
        let stored = Sha256::digest(&client_key);
        // Constant time: every byte is compared whatever the first differs.
        let diff = stored
            .iter()
            .zip(&secret.stored_key)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 || secret.stored_key.len() != stored.len() {
            return Err(Refused("wrong password"));
        }
        let server_signature = hmac(&secret.server_key, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature)).into_bytes())
    }
}

/// The body of an AuthenticationSASL request: the mechanisms offered.
pub fn offer() -> Vec<u8> {
    let mut out = MECHANISM.as_bytes().to_vec();
    out.extend_from_slice(&[0, 0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};

    fn initial(client: &ScramSha256) -> Vec<u8> {
        let mut body = MECHANISM.as_bytes().to_vec();
        body.push(0);
        body.extend_from_slice(&(client.message().len() as i32).to_be_bytes());
        body.extend_from_slice(client.message());
        body
    }

    /// Runs an exchange with postgres-protocol's client (the one
    /// tokio-postgres uses); Ok when both sides accept.
    fn exchange(secret: &Secret, password: &str, binding: ChannelBinding) -> Result<(), String> {
        let mut client = ScramSha256::new(password.as_bytes(), binding);
        let mut server = Exchange::default();
        let first = server
            .initial(secret, &initial(&client))
            .map_err(|e| e.0.to_string())?;
        client.update(&first).map_err(|e| e.to_string())?;
        let last = server
            .finish(secret, client.message())
            .map_err(|e| e.0.to_string())?;
        client.finish(&last).map_err(|e| e.to_string())
    }

    #[test]
    fn the_right_password_and_only_it() {
        let secret = Secret::new("s3cret pässword");
        assert_eq!(
            exchange(&secret, "s3cret pässword", ChannelBinding::unsupported()),
            Ok(())
        );
        assert_eq!(
            exchange(&secret, "s3cret pässword", ChannelBinding::unrequested()),
            Ok(())
        );
        assert_eq!(
            exchange(&secret, "wrong", ChannelBinding::unsupported()),
            Err("wrong password".into())
        );
        assert_eq!(
            exchange(
                &secret,
                "s3cret pässword",
                ChannelBinding::tls_server_end_point(vec![1, 2])
            ),
            Err("channel binding is not supported".into())
        );
    }

    #[test]
    fn garbage_is_refused() {
        let secret = Secret::new("pw");
        let mut server = Exchange::default();
        assert!(
            server
                .initial(&secret, b"SCRAM-SHA-256\0\0\0\0\x05n,,n=")
                .is_err()
        );
        let mut server = Exchange::default();
        assert!(server.initial(&secret, b"PLAIN\0\0\0\0\x01x").is_err());
        let mut server = Exchange::default();
        assert!(server.finish(&secret, b"c=biws,r=x,p=AAAA").is_err());
    }
}
