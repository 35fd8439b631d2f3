//! abi-pipes-poll: pipes and readiness — pipe2 flags, EOF, EBADF on the wrong end,
//! capacity and EAGAIN, a 256 KiB transfer between processes with a checksum, FIONREAD,
//! FIFOs, poll/ppoll/select/pselect6/epoll readiness and timeouts, eventfd, a pipe dup2'd
//! onto a child's stdout.
//!
//! Every line is a stable fact; the exit status is 0 whatever the checks show.

#[path = "../../abi-common/abi_common.rs"]
mod common;

use common::*;
use std::ptr::{null, null_mut};

const DIR: &str = "/tmp/abi-pipes";

fn poll1(fd: i32, events: i16, timeout: i32) -> String {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one live pollfd.
    let r = unsafe { libc::poll(&mut p, 1, timeout) };
    if r < 0 {
        return errno_name(errno());
    }
    format!("{r} revents {}", revents(p.revents))
}

fn revents(bits: i16) -> String {
    let names = [
        (libc::POLLIN, "IN"),
        (libc::POLLOUT, "OUT"),
        (libc::POLLERR, "ERR"),
        (libc::POLLHUP, "HUP"),
        (libc::POLLNVAL, "NVAL"),
        (libc::POLLPRI, "PRI"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    if set.is_empty() {
        "none".into()
    } else {
        set.join("|")
    }
}

fn write_str(fd: i32, text: &str) -> String {
    // SAFETY: `text` is live.
    val(unsafe { libc::write(fd, text.as_ptr().cast(), text.len()) } as i64)
}

fn read_str(fd: i32, len: usize) -> String {
    let mut buffer = vec![0u8; len];
    // SAFETY: `buffer` is live with `len` bytes.
    let got = unsafe { libc::read(fd, buffer.as_mut_ptr().cast(), len) };
    if got < 0 {
        return errno_name(errno());
    }
    format!(
        "{} {:?}",
        got,
        String::from_utf8_lossy(&buffer[..got as usize])
    )
}

fn close(fd: i32) {
    // SAFETY: closing our own descriptor.
    unsafe { libc::close(fd) };
}

fn fionread(fd: i32) -> String {
    let mut n: libc::c_int = -1;
    // SAFETY: `n` is a live int.
    let r = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    if r < 0 {
        errno_name(errno())
    } else {
        n.to_string()
    }
}

fn fd_set(fds: &[i32]) -> libc::fd_set {
    // SAFETY: a zeroed fd_set is valid for FD_ZERO/FD_SET.
    unsafe {
        let mut set: libc::fd_set = std::mem::zeroed();
        libc::FD_ZERO(&mut set);
        for &fd in fds {
            libc::FD_SET(fd, &mut set);
        }
        set
    }
}

fn main() {
    scratch_dir(DIR);
    // SAFETY (whole program): the libc calls get live buffers of the right types, or
    // deliberately bad values the kernel must reject.
    unsafe {
        // --- pipe2 flags ---
        let p = pipe(libc::O_CLOEXEC);
        check(
            "pipe2 O_CLOEXEC both ends",
            libc::fcntl(p[0], libc::F_GETFD) == libc::FD_CLOEXEC
                && libc::fcntl(p[1], libc::F_GETFD) == libc::FD_CLOEXEC,
        );
        check(
            "pipe ends access modes",
            format!(
                "{} {}",
                libc::fcntl(p[0], libc::F_GETFL) & libc::O_ACCMODE == libc::O_RDONLY,
                libc::fcntl(p[1], libc::F_GETFL) & libc::O_ACCMODE == libc::O_WRONLY
            ),
        );
        close(p[0]);
        close(p[1]);
        let p = pipe(libc::O_NONBLOCK);
        check(
            "pipe2 O_NONBLOCK flag",
            libc::fcntl(p[0], libc::F_GETFL) & libc::O_NONBLOCK != 0,
        );
        check("nonblocking read of empty pipe", read_str(p[0], 10));
        let mut filled = 0usize;
        let chunk = [7u8; 4096];
        loop {
            let r = libc::write(p[1], chunk.as_ptr().cast(), chunk.len());
            if r < 0 {
                check("fill nonblocking pipe ends with", errno_name(errno()));
                break;
            }
            filled += r as usize;
            if filled > 16 << 20 {
                check("fill nonblocking pipe ends with", "no end");
                break;
            }
        }
        check("pipe capacity bytes", filled);
        check(
            "F_GETPIPE_SZ",
            val(libc::fcntl(p[1], libc::F_GETPIPE_SZ) as i64),
        );
        check("FIONREAD on full pipe", fionread(p[0]));
        check("poll full pipe write end", poll1(p[1], libc::POLLOUT, 0));
        close(p[1]);
        check(
            "nonblocking read after writer closed has data",
            read_str(p[0], 3),
        );
        let mut sink = vec![0u8; 1 << 20];
        while libc::read(p[0], sink.as_mut_ptr().cast(), sink.len()) > 0 {}
        check("nonblocking read at EOF", read_str(p[0], 10));
        close(p[0]);
        check(
            "pipe2 bad flags",
            err(libc::pipe2([0; 2].as_mut_ptr(), 0x1234) as i64),
        );
        check(
            "pipe2 bad pointer",
            err(libc::pipe2(0x10 as *mut i32, 0) as i64),
        );

        // --- basic data flow ---
        let p = pipe(0);
        check("write 5", write_str(p[1], "hello"));
        check("FIONREAD", fionread(p[0]));
        check("read with bigger buffer", read_str(p[0], 100));
        check("FIONREAD empty", fionread(p[0]));
        check("read from write end", read_str(p[1], 1));
        check("write to read end", write_str(p[0], "x"));
        check("write 0 bytes", write_str(p[1], ""));
        write_str(p[1], "abc");
        close(p[1]);
        check("read remaining after writer closed", read_str(p[0], 100));
        check("read at EOF", read_str(p[0], 100));
        close(p[0]);
        check("fstat pipe", {
            let p = pipe(0);
            let mut st: libc::stat = std::mem::zeroed();
            libc::fstat(p[0], &mut st);
            close(p[0]);
            close(p[1]);
            st.st_mode & libc::S_IFMT == libc::S_IFIFO
        });

        // --- transfer between processes ---
        let p = pipe(0);
        let total = 256 * 1024 + 123;
        let writer = spawn(move || {
            close(p[0]);
            let data: Vec<u8> = (0..total).map(|i| (i * 7 % 253) as u8).collect();
            for part in data.chunks(3000) {
                if !write_all(p[1], part) {
                    return 1;
                }
            }
            0
        });
        close(p[1]);
        let received = read_to_end(p[0]);
        close(p[0]);
        let checksum = received.iter().fold(0xcbf29ce484222325u64, |h, &b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
        check("transfer bytes", received.len());
        check("transfer checksum", format!("{checksum:016x}"));
        check(
            "transfer content",
            received
                .iter()
                .enumerate()
                .all(|(i, &b)| b == (i * 7 % 253) as u8),
        );
        check("writer", wait_text(writer));
        check("two writers, one reader", {
            let p = pipe(0);
            let writers: Vec<_> = (0..2u8)
                .map(|w| {
                    spawn(move || {
                        close(p[0]);
                        for _ in 0..1000 {
                            // 64 bytes: less than PIPE_BUF, so each write is atomic.
                            write_all(p[1], &[b'a' + w; 64]);
                        }
                        0
                    })
                })
                .collect();
            close(p[1]);
            let data = read_to_end(p[0]);
            close(p[0]);
            writers.into_iter().for_each(|w| {
                wait_text(w);
            });
            let atomic = data.chunks(64).all(|c| c.iter().all(|&b| b == c[0]));
            format!("{} bytes, writes not interleaved {atomic}", data.len())
        });
        check("dup2 pipe onto child's stdout", {
            let p = pipe(0);
            let path = c("/bin/busybox");
            let args = [c("echo"), c("via"), c("pipe")];
            let argv = [args[0].as_ptr(), args[1].as_ptr(), args[2].as_ptr(), null()];
            let pid = spawn(|| {
                libc::dup2(p[1], 1);
                close(p[0]);
                close(p[1]);
                libc::execve(path.as_ptr(), argv.as_ptr(), [null()].as_ptr());
                127
            });
            close(p[1]);
            let out = read_to_end(p[0]);
            close(p[0]);
            format!("{:?} {}", String::from_utf8_lossy(&out), wait_text(pid))
        });

        // --- FIFO ---
        let fifo = c(&format!("{DIR}/fifo"));
        check("mkfifo", ok(libc::mkfifo(fifo.as_ptr(), 0o644) as i64));
        check(
            "mkfifo again",
            err(libc::mkfifo(fifo.as_ptr(), 0o644) as i64),
        );
        check("fifo type", {
            let mut st: libc::stat = std::mem::zeroed();
            libc::stat(fifo.as_ptr(), &mut st);
            st.st_mode & libc::S_IFMT == libc::S_IFIFO
        });
        check(
            "open fifo O_WRONLY|O_NONBLOCK without reader",
            err(libc::open(fifo.as_ptr(), libc::O_WRONLY | libc::O_NONBLOCK) as i64),
        );
        let reader = libc::open(fifo.as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK);
        check("open fifo O_RDONLY|O_NONBLOCK", ok(reader as i64));
        let writer_fd = libc::open(fifo.as_ptr(), libc::O_WRONLY | libc::O_NONBLOCK);
        check("open fifo O_WRONLY with a reader", ok(writer_fd as i64));
        check("fifo write", write_str(writer_fd, "through fifo"));
        check("fifo read", read_str(reader, 100));
        close(writer_fd);
        close(reader);
        check("blocking fifo open pairs with a child", {
            let pid = spawn(|| {
                let w = libc::open(fifo.as_ptr(), libc::O_WRONLY);
                write_all(w, b"child wrote");
                0
            });
            let r = libc::open(fifo.as_ptr(), libc::O_RDONLY);
            let data = read_to_end(r);
            close(r);
            format!("{:?} {}", String::from_utf8_lossy(&data), wait_text(pid))
        });

        // --- poll ---
        let p = pipe(0);
        check("poll empty pipe, timeout 0", poll1(p[0], libc::POLLIN, 0));
        check("poll write end", poll1(p[1], libc::POLLOUT, 0));
        write_str(p[1], "x");
        check("poll after write", poll1(p[0], libc::POLLIN, 0));
        let t0 = monotonic_ns();
        let mut empty = libc::pollfd {
            fd: -1,
            events: libc::POLLIN,
            revents: 0,
        };
        check(
            "poll negative fd ignored",
            format!(
                "{} revents {}",
                libc::poll(&mut empty, 1, 0),
                revents(empty.revents)
            ),
        );
        check("poll bad fd", poll1(999, libc::POLLIN, 0));
        let q = pipe(0);
        check("poll 20ms timeout", poll1(q[0], libc::POLLIN, 20));
        check("poll waited >= 20ms", monotonic_ns() - t0 >= 20_000_000);
        check(
            "poll nothing, 10ms",
            val(libc::poll(null_mut(), 0, 10) as i64),
        );
        check(
            "poll bad pointer",
            err(libc::poll(0x10 as *mut libc::pollfd, 1, 0) as i64),
        );
        let pid = spawn(|| {
            sleep_ms(50);
            write_all(q[1], b"late");
            0
        });
        check(
            "poll woken by child's write",
            poll1(q[0], libc::POLLIN, 5000),
        );
        wait_text(pid);
        check("poll two fds", {
            let mut fds = [
                libc::pollfd {
                    fd: p[0],
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: q[1],
                    events: libc::POLLOUT,
                    revents: 0,
                },
                libc::pollfd {
                    fd: q[0],
                    events: libc::POLLOUT,
                    revents: 0,
                },
            ];
            let r = libc::poll(fds.as_mut_ptr(), 3, 0);
            format!(
                "{r}: {} / {} / {}",
                revents(fds[0].revents),
                revents(fds[1].revents),
                revents(fds[2].revents)
            )
        });
        close(p[1]);
        check(
            "poll after writer closed, data left",
            poll1(p[0], libc::POLLIN, 0),
        );
        read_str(p[0], 10);
        check(
            "poll after writer closed, drained",
            poll1(p[0], libc::POLLIN, 0),
        );
        close(p[0]);
        close(q[0]);
        check(
            "poll write end after reader closed",
            poll1(q[1], libc::POLLOUT, 0),
        );
        close(q[1]);
        check("poll /dev/null", {
            let n = libc::open(c("/dev/null").as_ptr(), libc::O_RDWR);
            let r = poll1(n, libc::POLLIN | libc::POLLOUT, 0);
            close(n);
            r
        });
        check("poll regular file", {
            let n = libc::open(c("/proc/self/stat").as_ptr(), libc::O_RDONLY);
            let r = poll1(n, libc::POLLIN | libc::POLLOUT, 0);
            close(n);
            r
        });

        // --- ppoll ---
        let p = pipe(0);
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let mut pfd = libc::pollfd {
            fd: p[0],
            events: libc::POLLIN,
            revents: 0,
        };
        check(
            "ppoll timeout 0",
            val(libc::ppoll(&mut pfd, 1, &zero, null()) as i64),
        );
        let ten = libc::timespec {
            tv_sec: 0,
            tv_nsec: 10_000_000,
        };
        let t0 = monotonic_ns();
        check(
            "ppoll 10ms",
            val(libc::ppoll(&mut pfd, 1, &ten, null()) as i64),
        );
        check("ppoll waited >= 10ms", monotonic_ns() - t0 >= 10_000_000);
        write_str(p[1], "y");
        check(
            "ppoll readable",
            format!(
                "{} revents {}",
                val(libc::ppoll(&mut pfd, 1, &zero, null()) as i64),
                revents(pfd.revents)
            ),
        );
        let bad = libc::timespec {
            tv_sec: 0,
            tv_nsec: 1_000_000_000,
        };
        check(
            "ppoll bad timeout",
            err(libc::ppoll(&mut pfd, 1, &bad, null()) as i64),
        );

        // --- select, pselect6 ---
        let mut readable = fd_set(&[p[0]]);
        let mut timeout = libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        };
        check(
            "select readable",
            format!(
                "{} set {}",
                val(libc::select(
                    p[0] + 1,
                    &mut readable,
                    null_mut(),
                    null_mut(),
                    &mut timeout
                ) as i64),
                libc::FD_ISSET(p[0], &readable)
            ),
        );
        read_str(p[0], 10);
        let mut readable = fd_set(&[p[0]]);
        let mut writable = fd_set(&[p[1]]);
        check(
            "select empty + writable",
            format!(
                "{} read set {} write set {}",
                val(libc::select(
                    p[1].max(p[0]) + 1,
                    &mut readable,
                    &mut writable,
                    null_mut(),
                    &mut timeout
                ) as i64),
                libc::FD_ISSET(p[0], &readable),
                libc::FD_ISSET(p[1], &writable)
            ),
        );
        let mut readable = fd_set(&[p[0]]);
        let mut timeout = libc::timeval {
            tv_sec: 0,
            tv_usec: 15_000,
        };
        let t0 = monotonic_ns();
        check(
            "select 15ms timeout",
            val(libc::select(
                p[0] + 1,
                &mut readable,
                null_mut(),
                null_mut(),
                &mut timeout,
            ) as i64),
        );
        check("select waited >= 15ms", monotonic_ns() - t0 >= 15_000_000);
        check(
            "select timeout updated to 0",
            timeout.tv_sec == 0 && timeout.tv_usec == 0,
        );
        let closed = libc::dup(p[0]);
        close(closed);
        let mut bad_set = fd_set(&[closed]);
        let mut timeout = libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        };
        check(
            "select closed fd",
            err(libc::select(
                closed + 1,
                &mut bad_set,
                null_mut(),
                null_mut(),
                &mut timeout,
            ) as i64),
        );
        check(
            "select negative nfds",
            err(libc::select(-1, null_mut(), null_mut(), null_mut(), &mut timeout) as i64),
        );
        let mut bad_timeout = libc::timeval {
            tv_sec: 0,
            tv_usec: -1,
        };
        check(
            "select bad timeout",
            err(libc::select(0, null_mut(), null_mut(), null_mut(), &mut bad_timeout) as i64),
        );
        let mut readable = fd_set(&[p[0]]);
        write_str(p[1], "z");
        check(
            "pselect readable",
            val(libc::pselect(
                p[0] + 1,
                &mut readable,
                null_mut(),
                null_mut(),
                &zero,
                null(),
            ) as i64),
        );
        close(p[0]);
        close(p[1]);

        // --- epoll ---
        let ep = libc::epoll_create1(libc::EPOLL_CLOEXEC);
        check("epoll_create1", ok(ep as i64));
        check(
            "epoll_create1 bad flags",
            err(libc::epoll_create1(0x1234) as i64),
        );
        let p = pipe(0);
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: 77,
        };
        check(
            "EPOLL_CTL_ADD",
            ok(libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, p[0], &mut event) as i64),
        );
        check(
            "EPOLL_CTL_ADD again",
            err(libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, p[0], &mut event) as i64),
        );
        check(
            "EPOLL_CTL_DEL unknown fd",
            err(libc::epoll_ctl(ep, libc::EPOLL_CTL_DEL, p[1], &mut event) as i64),
        );
        check(
            "EPOLL_CTL_ADD itself",
            err(libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, ep, &mut event) as i64),
        );
        check("EPOLL_CTL_ADD regular file", {
            let f = libc::open(c("/proc/self/stat").as_ptr(), libc::O_RDONLY);
            let r = err(libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, f, &mut event) as i64);
            close(f);
            r
        });
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 4];
        check(
            "epoll_wait empty, timeout 0",
            val(libc::epoll_wait(ep, events.as_mut_ptr(), 4, 0) as i64),
        );
        check(
            "epoll_wait maxevents 0",
            err(libc::epoll_wait(ep, events.as_mut_ptr(), 0, 0) as i64),
        );
        write_str(p[1], "e");
        let n = libc::epoll_wait(ep, events.as_mut_ptr(), 4, 1000);
        check(
            "epoll_wait after write",
            format!(
                "{} events IN {} data {}",
                val(n as i64),
                events[0].events & libc::EPOLLIN as u32 != 0,
                { events[0].u64 }
            ),
        );
        let t0 = monotonic_ns();
        read_str(p[0], 10);
        check(
            "epoll_wait 10ms timeout",
            val(libc::epoll_wait(ep, events.as_mut_ptr(), 4, 10) as i64),
        );
        check(
            "epoll_wait waited >= 10ms",
            monotonic_ns() - t0 >= 10_000_000,
        );
        let pid = spawn(|| {
            sleep_ms(30);
            write_all(p[1], b"w");
            0
        });
        check(
            "epoll_wait woken by child",
            val(libc::epoll_wait(ep, events.as_mut_ptr(), 4, 5000) as i64),
        );
        wait_text(pid);
        check(
            "EPOLL_CTL_DEL",
            ok(libc::epoll_ctl(ep, libc::EPOLL_CTL_DEL, p[0], null_mut()) as i64),
        );
        check(
            "epoll_wait after DEL",
            val(libc::epoll_wait(ep, events.as_mut_ptr(), 4, 0) as i64),
        );
        close(ep);
        close(p[0]);
        close(p[1]);

        // --- eventfd ---
        let efd = libc::eventfd(3, libc::EFD_NONBLOCK);
        check("eventfd", ok(efd as i64));
        let mut value = 0u64;
        let add = 4u64;
        libc::write(efd, (&add as *const u64).cast(), 8);
        check(
            "eventfd read sum",
            format!(
                "{} {}",
                val(libc::read(efd, (&mut value as *mut u64).cast(), 8) as i64),
                value
            ),
        );
        check(
            "eventfd read empty",
            err(libc::read(efd, (&mut value as *mut u64).cast(), 8) as i64),
        );
        check(
            "eventfd short read",
            err(libc::read(efd, (&mut value as *mut u64).cast(), 4) as i64),
        );
        close(efd);

        // --- socketpair ---
        let mut sv = [0; 2];
        check(
            "socketpair AF_UNIX stream",
            ok(libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, sv.as_mut_ptr()) as i64),
        );
        check(
            "socketpair data",
            format!("{} / {}", write_str(sv[0], "ping"), read_str(sv[1], 10)),
        );
        close(sv[0]);
        close(sv[1]);
    }
    let _ = std::fs::remove_dir_all(DIR);
    check("done", "ok");
}
