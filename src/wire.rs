//! A small blocking PostgreSQL client for the simple query protocol, as
//! psql speaks it: one query string at a time, every result row in text,
//! command tags, notices in the order they arrive, the transaction status
//! after each query, and cancellation. `pgtmp prove` runs test files
//! through it, with psql's semantics, instead of one psql process per file.
//!
//! Why not the `postgres` crate: it hides what psql needs (command tags,
//! the transaction status that `ON_ERROR_ROLLBACK` and `AUTOCOMMIT` depend
//! on, rows as they stream in for per-assertion timing) and brings a tokio
//! runtime per connection. The message encoding and SCRAM are
//! `postgres-protocol`'s. <https://www.postgresql.org/docs/current/protocol-flow.html>

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::{backend::Message, frontend};

use crate::stream::Stream;

pub use crate::url::Target;

/// How libpq names a server that could not be reached.
fn describe(target: &Target) -> String {
    if target.host.starts_with('/') {
        format!(
            "connection to server on socket \"{}/.s.PGSQL.{}\" failed",
            target.host, target.port
        )
    } else {
        format!(
            "connection to server at \"{}\", port {} failed",
            target.host, target.port
        )
    }
}

/// The fields of an ErrorResponse or NoticeResponse, by their codes.
/// <https://www.postgresql.org/docs/current/protocol-error-fields.html>
#[derive(Debug, Clone, Default)]
pub struct Report {
    fields: Vec<(u8, String)>,
}

impl Report {
    pub fn field(&self, code: u8) -> Option<&str> {
        self.fields
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.as_str())
    }

    /// `ERROR`, `NOTICE`, ... (untranslated where the server sends it).
    pub fn severity(&self) -> &str {
        self.field(b'V').or(self.field(b'S')).unwrap_or("ERROR")
    }

    pub fn message(&self) -> &str {
        self.field(b'M').unwrap_or_default()
    }

    pub fn code(&self) -> &str {
        self.field(b'C').unwrap_or_default()
    }

    #[cfg(test)]
    pub fn from_fields(fields: Vec<(u8, String)>) -> Report {
        Report { fields }
    }

    /// A report made up on our side (a lost connection).
    pub fn local(message: impl Into<String>) -> Report {
        Report {
            fields: vec![(b'S', "FATAL".into()), (b'M', message.into())],
        }
    }
}

/// The transaction status of the session after the last query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxStatus {
    Idle,
    InTransaction,
    Failed,
}

/// What a query's results are handed to, as they arrive.
pub trait Handler {
    /// A result set starts: its column names.
    fn columns(&mut self, names: Vec<String>);
    /// One row, every value in text (`None` for NULL).
    fn row(&mut self, values: Vec<Option<String>>);
    /// A statement finished with this tag (`INSERT 0 1`).
    fn complete(&mut self, tag: &str);
    /// A notice or warning sent while the query ran.
    fn notice(&mut self, report: Report);
    /// The query failed.
    fn error(&mut self, report: Report);
    /// `COPY ... TO STDOUT`: a chunk of its data.
    fn copy_out(&mut self, data: &[u8]);
    /// `COPY ... FROM STDIN`: the data to send, or why there is none.
    fn copy_in(&mut self) -> Result<Vec<u8>, String>;
    /// `NOTIFY` reached this session.
    fn notification(&mut self, channel: &str, payload: &str, pid: i32);
}

/// How to cancel the query a connection is running, from another thread.
#[derive(Debug, Clone)]
pub struct CancelToken {
    target: Target,
    pid: i32,
    key: i32,
}

impl CancelToken {
    /// Asks the server to cancel the running query; errors are ignored
    /// (the query may be over already).
    pub fn cancel(&self) {
        if let Ok(mut stream) = open(&self.target) {
            let mut buf = BytesMut::new();
            frontend::cancel_request(self.pid, self.key, &mut buf);
            let _ = stream.write_all(&buf);
            // The server closes the connection once it has read the request.
            let _ = stream.read(&mut [0u8; 1]);
        }
    }
}

/// An open session.
#[derive(Debug)]
pub struct Connection {
    stream: Stream,
    input: BytesMut,
    output: BytesMut,
    tx: TxStatus,
    params: Vec<(String, String)>,
    cancel: Option<CancelToken>,
}

/// A connection could not be opened, or broke.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WireError(pub String);

fn open(target: &Target) -> io::Result<Stream> {
    if target.host.starts_with('/') {
        let path = PathBuf::from(&target.host).join(format!(".s.PGSQL.{}", target.port));
        UnixStream::connect(path).map(Stream::Unix)
    } else {
        let stream = TcpStream::connect((target.host.as_str(), target.port))?;
        stream.set_nodelay(true)?;
        Ok(Stream::Tcp(stream))
    }
}

impl Connection {
    /// Connects and authenticates (trust, password, md5 or SCRAM).
    /// `params`: more startup parameters (`application_name`, `options`).
    pub fn connect(target: &Target, params: &[(&str, &str)]) -> Result<Connection, WireError> {
        let fail = |why: String| WireError(format!("{}: {why}", describe(target)));
        let stream = open(target).map_err(|e| fail(e.to_string()))?;
        let mut conn = Connection {
            stream,
            input: BytesMut::with_capacity(8192),
            output: BytesMut::with_capacity(1024),
            tx: TxStatus::Idle,
            params: Vec::new(),
            cancel: None,
        };
        let mut startup = vec![
            ("user", target.user.as_str()),
            ("database", target.dbname.as_str()),
            ("client_encoding", "UTF8"),
        ];
        startup.extend_from_slice(params);
        frontend::startup_message(startup.iter().copied(), &mut conn.output)
            .map_err(|e| fail(e.to_string()))?;
        conn.flush().map_err(|e| fail(e.to_string()))?;
        conn.authenticate(target)
            .map_err(|e| fail(e.0.trim_end().to_string()))?;
        Ok(conn)
    }

    fn authenticate(&mut self, target: &Target) -> Result<(), WireError> {
        let password = || {
            target
                .password
                .clone()
                .ok_or_else(|| WireError("fe_sendauth: no password supplied".into()))
        };
        let mut scram: Option<sasl::ScramSha256> = None;
        loop {
            match self.next()? {
                Message::AuthenticationOk => {}
                Message::AuthenticationCleartextPassword => {
                    frontend::password_message(password()?.as_bytes(), &mut self.output)
                        .map_err(io_error)?;
                    self.flush().map_err(io_error)?;
                }
                Message::AuthenticationMd5Password(body) => {
                    let hash =
                        md5_hash(target.user.as_bytes(), password()?.as_bytes(), body.salt());
                    frontend::password_message(hash.as_bytes(), &mut self.output)
                        .map_err(io_error)?;
                    self.flush().map_err(io_error)?;
                }
                Message::AuthenticationSasl(_) => {
                    let s = sasl::ScramSha256::new(
                        password()?.as_bytes(),
                        sasl::ChannelBinding::unsupported(),
                    );
                    frontend::sasl_initial_response(
                        sasl::SCRAM_SHA_256,
                        s.message(),
                        &mut self.output,
                    )
                    .map_err(io_error)?;
                    self.flush().map_err(io_error)?;
                    scram = Some(s);
                }
                Message::AuthenticationSaslContinue(body) => {
                    let s = scram
                        .as_mut()
                        .ok_or_else(|| WireError("unexpected SASL message".into()))?;
                    s.update(body.data()).map_err(io_error)?;
                    frontend::sasl_response(s.message(), &mut self.output).map_err(io_error)?;
                    self.flush().map_err(io_error)?;
                }
                Message::AuthenticationSaslFinal(body) => {
                    let mut s = scram
                        .take()
                        .ok_or_else(|| WireError("unexpected SASL message".into()))?;
                    s.finish(body.data()).map_err(io_error)?;
                }
                Message::ParameterStatus(body) => self.parameter_status(&body),
                Message::BackendKeyData(body) => {
                    self.cancel = Some(CancelToken {
                        target: target.clone(),
                        pid: body.process_id(),
                        key: body.secret_key(),
                    });
                }
                Message::NoticeResponse(_) => {}
                Message::ErrorResponse(body) => {
                    let report = report(body.fields());
                    return Err(WireError(format!(
                        "{}:  {}",
                        report.severity(),
                        report.message()
                    )));
                }
                Message::ReadyForQuery(body) => {
                    self.tx = tx_status(body.status());
                    return Ok(());
                }
                _ => return Err(WireError("unsupported authentication method".into())),
            }
        }
    }

    fn parameter_status(
        &mut self,
        body: &postgres_protocol::message::backend::ParameterStatusBody,
    ) {
        if let (Ok(name), Ok(value)) = (body.name(), body.value()) {
            match self.params.iter_mut().find(|(n, _)| n == name) {
                Some(entry) => entry.1 = value.to_string(),
                None => self.params.push((name.to_string(), value.to_string())),
            }
        }
    }

    /// A run-time parameter the server reported (`server_version`,
    /// `standard_conforming_strings`, ...).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn tx_status(&self) -> TxStatus {
        self.tx
    }

    pub fn cancel_token(&self) -> Option<CancelToken> {
        self.cancel.clone()
    }

    /// Runs one query string, handing results to `handler` as they come,
    /// until the server is ready for the next. An `Err` means the
    /// connection is gone; a failed query is reported to the handler.
    pub fn query(&mut self, sql: &str, handler: &mut dyn Handler) -> Result<(), WireError> {
        frontend::query(sql, &mut self.output).map_err(io_error)?;
        self.flush().map_err(io_error)?;
        loop {
            match self.next()? {
                Message::RowDescription(body) => {
                    let names = body
                        .fields()
                        .map(|f| Ok(f.name().to_string()))
                        .collect()
                        .map_err(io_error)?;
                    handler.columns(names);
                }
                Message::DataRow(body) => {
                    let buffer = body.buffer();
                    let values = body
                        .ranges()
                        .map(|r| Ok(r.map(|r| String::from_utf8_lossy(&buffer[r]).into_owned())))
                        .collect()
                        .map_err(io_error)?;
                    handler.row(values);
                }
                Message::CommandComplete(body) => handler.complete(body.tag().map_err(io_error)?),
                Message::EmptyQueryResponse => {}
                Message::NoticeResponse(body) => handler.notice(report(body.fields())),
                Message::ErrorResponse(body) => handler.error(report(body.fields())),
                Message::ParameterStatus(body) => self.parameter_status(&body),
                Message::NotificationResponse(body) => handler.notification(
                    body.channel().unwrap_or_default(),
                    body.message().unwrap_or_default(),
                    body.process_id(),
                ),
                Message::CopyOutResponse(_) | Message::CopyDone => {}
                Message::CopyData(body) => handler.copy_out(body.data()),
                Message::CopyInResponse(_) => {
                    match handler.copy_in() {
                        Ok(data) => {
                            if !data.is_empty() {
                                frontend::CopyData::new(&data[..])
                                    .map_err(io_error)?
                                    .write(&mut self.output);
                            }
                            frontend::copy_done(&mut self.output);
                        }
                        Err(why) => {
                            frontend::copy_fail(&why, &mut self.output).map_err(io_error)?
                        }
                    }
                    self.flush().map_err(io_error)?;
                }
                Message::ReadyForQuery(body) => {
                    self.tx = tx_status(body.status());
                    return Ok(());
                }
                _ => {}
            }
        }
    }

    /// Runs statements that return nothing of interest; the first error,
    /// as the server said it, is the `Err`.
    pub fn execute(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, Report> {
        let mut collect = Collect::default();
        self.query(sql, &mut collect)
            .map_err(|e| Report::local(e.0))?;
        match collect.error {
            Some(report) => Err(report),
            None => Ok(collect.rows),
        }
    }

    /// Says goodbye; the server ends the session.
    pub fn close(mut self) {
        frontend::terminate(&mut self.output);
        let _ = self.flush();
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.write_all(&self.output)?;
        self.output.clear();
        Ok(())
    }

    /// The next message from the server, reading as much as it takes.
    fn next(&mut self) -> Result<Message, WireError> {
        loop {
            if let Some(message) = Message::parse(&mut self.input).map_err(io_error)? {
                return Ok(message);
            }
            let mut chunk = [0u8; 16384];
            let n = self.stream.read(&mut chunk).map_err(io_error)?;
            if n == 0 {
                return Err(WireError(
                    "server closed the connection unexpectedly\n\
                     \tThis probably means the server terminated abnormally\n\
                     \tbefore or while processing the request."
                        .into(),
                ));
            }
            self.input.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Keeps rows and the first error; ignores the rest.
#[derive(Debug, Default)]
struct Collect {
    rows: Vec<Vec<Option<String>>>,
    error: Option<Report>,
}

impl Handler for Collect {
    fn columns(&mut self, _: Vec<String>) {}
    fn row(&mut self, values: Vec<Option<String>>) {
        self.rows.push(values);
    }
    fn complete(&mut self, _: &str) {}
    fn notice(&mut self, _: Report) {}
    fn error(&mut self, report: Report) {
        self.error.get_or_insert(report);
    }
    fn copy_out(&mut self, _: &[u8]) {}
    fn copy_in(&mut self) -> Result<Vec<u8>, String> {
        Err("COPY FROM STDIN is not supported here".into())
    }
    fn notification(&mut self, _: &str, _: &str, _: i32) {}
}

fn report(mut fields: postgres_protocol::message::backend::ErrorFields<'_>) -> Report {
    let mut out = Vec::new();
    while let Ok(Some(field)) = fields.next() {
        out.push((
            field.type_(),
            String::from_utf8_lossy(field.value_bytes()).into_owned(),
        ));
    }
    Report { fields: out }
}

fn tx_status(byte: u8) -> TxStatus {
    match byte {
        b'T' => TxStatus::InTransaction,
        b'E' => TxStatus::Failed,
        _ => TxStatus::Idle,
    }
}

fn io_error(e: io::Error) -> WireError {
    WireError(e.to_string())
}
