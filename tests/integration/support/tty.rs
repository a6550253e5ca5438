//! A pseudo-terminal, for tests of what a real Ctrl-C does: typed into the
//! terminal, it makes the kernel send SIGINT to the terminal's foreground
//! process group (with `si_code` SI_KERNEL, as from a keyboard), which no
//! `kill` from a test can imitate; and of what a program prints when its
//! stdout or stderr is a terminal (a progress line).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

#[derive(Debug)]
pub struct Terminal {
    master: File,
    slave: OwnedFd,
}

impl Terminal {
    pub fn open() -> Terminal {
        let (mut master, mut slave) = (-1, -1);
        // SAFETY: openpty writes two descriptors into the given ints; the
        // name, termios and window size pointers may be null.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors are fresh and owned by nobody else.
        unsafe {
            Terminal {
                master: File::from_raw_fd(master),
                slave: OwnedFd::from_raw_fd(slave),
            }
        }
    }

    /// Runs `cmd` as the leader of a new session whose controlling terminal
    /// this is (so its process group is the foreground one), stdin on it.
    pub fn attach(&self, cmd: &mut Command) {
        let slave = self.slave.try_clone().expect("dup the terminal");
        cmd.stdin(slave);
        // SAFETY: only async-signal-safe calls (setsid, ioctl) between fork
        // and exec, and nothing allocates.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }

    /// Makes the terminal `cmd`'s stdout (and nothing else of it).
    pub fn as_stdout(&self, cmd: &mut Command) {
        cmd.stdout(self.slave.try_clone().expect("dup the terminal"));
    }

    /// What was written to the terminal and not yet read (one read: the
    /// caller waits for the writer to finish first).
    pub fn output(&mut self) -> String {
        let mut buf = [0u8; 4096];
        let n = self.master.read(&mut buf).expect("read the terminal");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    /// Sends `cmd`'s stderr to the terminal (a progress line's place).
    pub fn stderr(&self, cmd: &mut Command) {
        cmd.stderr(self.slave.try_clone().expect("dup the terminal"));
    }

    /// What programs wrote to the terminal so far (without waiting).
    pub fn written(&mut self) -> String {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on a descriptor we own, adding O_NONBLOCK.
        unsafe {
            let fd = self.master.as_raw_fd();
            let flags = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n) = self.master.read(&mut chunk) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n]);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Types Ctrl-C.
    pub fn interrupt(&mut self) {
        self.master
            .write_all(b"\x03")
            .expect("write Ctrl-C to the terminal");
    }
}
