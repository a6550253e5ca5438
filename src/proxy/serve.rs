//! The event loop: one thread, `poll(2)` over the listeners, the clients,
//! the server sessions and the cancel requests on their way, moving bytes
//! between sockets and the engine's buffers. One thread is enough, since
//! the sessions serve one client at a time anyway, and it keeps the
//! engine free of locks (and the binary free of an async runtime).

use std::io::{self, Read};
use std::net::{Ipv4Addr, TcpListener};
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::config::Config;
use super::engine::Engine;
use super::net::Stream;

/// How often `pgtmp list`'s view is rewritten at most.
const STATUS_EVERY: Duration = Duration::from_millis(200);

/// The listening sockets, bound.
#[derive(Debug)]
pub struct Listeners {
    unix: UnixListener,
    tcp: Option<TcpListener>,
    path: std::path::PathBuf,
}

impl Listeners {
    /// Binds the socket (and the TCP port): once this returns, clients can
    /// connect, and are served once `serve` runs.
    pub fn bind(config: &Config) -> io::Result<Listeners> {
        let path = config.socket_path();
        // A socket left by a proxy that died; its directory is ours.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| {
            use std::os::unix::fs::FileTypeExt;
            m.file_type().is_socket()
        }) && UnixStream::connect(&path).is_err()
        {
            let _ = std::fs::remove_file(&path);
        }
        let unix = UnixListener::bind(&path)?;
        // As the server's default socket permissions: the directory is
        // what keeps other users out.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777))?;
        unix.set_nonblocking(true)?;
        let tcp = if config.tcp {
            let l = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))?;
            l.set_nonblocking(true)?;
            Some(l)
        } else {
            None
        };
        Ok(Listeners { unix, tcp, path })
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What each polled descriptor is.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Wake,
    Unix,
    Tcp,
    Client(u64),
    Session(u64),
    Cancel,
}

/// Serves until SIGTERM or SIGINT.
pub fn serve(config: Config, listeners: Listeners) -> io::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let (wake, notify) = UnixStream::pair()?;
    wake.set_nonblocking(true)?;
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
        signal_hook::low_level::pipe::register(sig, notify.try_clone()?)?;
    }
    signal_hook::flag::register(
        signal_hook::consts::SIGHUP,
        Arc::new(AtomicBool::new(false)),
    )?;

    let status_file = config.status_file.clone();
    let database = config.database.clone();
    let mut engine = Engine::new(config);
    if let Err(report) = engine.session_for(&database) {
        super::log(&format!(
            "cannot open the shared session: {}",
            report.text()
        ));
    }
    let mut status_due: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        engine.pump();
        flush_all(&mut engine);
        if engine.changed {
            engine.changed = false;
            status_due.get_or_insert_with(|| Instant::now() + STATUS_EVERY);
        }
        let mut slots = vec![Slot::Wake, Slot::Unix];
        let mut fds: Vec<PollFd<'_>> = vec![
            PollFd::new(wake.as_fd(), PollFlags::POLLIN),
            PollFd::new(listeners.unix.as_fd(), PollFlags::POLLIN),
        ];
        if let Some(tcp) = &listeners.tcp {
            slots.push(Slot::Tcp);
            fds.push(PollFd::new(tcp.as_fd(), PollFlags::POLLIN));
        }
        for c in engine.clients.values() {
            let mut flags = PollFlags::empty();
            if engine.wants_client_input(c) {
                flags |= PollFlags::POLLIN;
            }
            if c.conn.pending() > 0 && !c.conn.broken {
                flags |= PollFlags::POLLOUT;
            }
            slots.push(Slot::Client(c.id));
            fds.push(PollFd::new(c.conn.stream.as_fd(), flags));
        }
        for s in engine.sessions.values() {
            let mut flags = PollFlags::empty();
            if engine.wants_session_input(s) {
                flags |= PollFlags::POLLIN;
            }
            if s.conn.pending() > 0 {
                flags |= PollFlags::POLLOUT;
            }
            slots.push(Slot::Session(s.id));
            fds.push(PollFd::new(s.conn.stream.as_fd(), flags));
        }
        for (_, conn) in &engine.cancels {
            slots.push(Slot::Cancel);
            fds.push(PollFd::new(conn.stream.as_fd(), PollFlags::POLLIN));
        }
        let now = Instant::now();
        let deadline = [engine.next_deadline(), status_due]
            .into_iter()
            .flatten()
            .min();
        let timeout = match deadline {
            Some(d) => PollTimeout::from(
                d.saturating_duration_since(now)
                    .as_millis()
                    .clamp(0, 60_000) as u16
                    + 1,
            ),
            None => PollTimeout::NONE,
        };
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let ready: Vec<(Slot, PollFlags)> = slots
            .into_iter()
            .zip(
                fds.iter()
                    .map(|f| f.revents().unwrap_or(PollFlags::empty())),
            )
            .filter(|(_, r)| !r.is_empty())
            .collect();
        drop(fds);
        for (slot, revents) in ready {
            match slot {
                Slot::Wake => {
                    let mut drain = [0u8; 64];
                    let _ = (&wake).read(&mut drain);
                }
                Slot::Unix => accept_unix(&listeners.unix, &mut engine),
                Slot::Tcp => {
                    if let Some(tcp) = &listeners.tcp {
                        accept_tcp(tcp, &mut engine);
                    }
                }
                Slot::Client(id) => {
                    if let Some(c) = engine.clients.get_mut(&id) {
                        if revents.intersects(PollFlags::POLLOUT) {
                            c.conn.flush();
                        }
                        if revents
                            .intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
                        {
                            c.conn.fill();
                        }
                    }
                }
                Slot::Session(id) => {
                    if let Some(s) = engine.sessions.get_mut(&id) {
                        if revents.intersects(PollFlags::POLLOUT) {
                            s.conn.flush();
                        }
                        if revents
                            .intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
                        {
                            s.conn.fill();
                        }
                    }
                }
                Slot::Cancel => {}
            }
        }
        let now = Instant::now();
        if engine.next_deadline().is_some_and(|d| d <= now) {
            engine.tick(now);
        }
        if status_due.is_some_and(|d| d <= now) {
            status_due = None;
            if let Some(path) = &status_file
                && let Err(e) = super::status::write(&super::status::of(&engine), path)
            {
                super::log(&format!("cannot write {}: {e}", path.display()));
            }
        }
    }
    super::log("stopping");
    // As the server says when it is shut down under its clients.
    let bye = super::wire::backend::Report::fatal(
        "57P01",
        "terminating connection due to administrator command",
    );
    for c in engine.clients.values_mut().filter(|c| c.ready()) {
        bye.error_response(c.conn.out());
        c.conn.flush();
    }
    Ok(())
}

fn flush_all(engine: &mut Engine) {
    for c in engine.clients.values_mut() {
        if c.conn.pending() > 0 {
            c.conn.flush();
        }
    }
    for s in engine.sessions.values_mut() {
        if s.conn.pending() > 0 {
            s.conn.flush();
        }
    }
}

fn accept_unix(listener: &UnixListener, engine: &mut Engine) {
    while let Ok((stream, _)) = listener.accept() {
        engine.accept(Stream::Unix(stream), false);
    }
}

fn accept_tcp(listener: &TcpListener, engine: &mut Engine) {
    while let Ok((stream, _)) = listener.accept() {
        engine.accept(Stream::Tcp(stream), true);
    }
}
