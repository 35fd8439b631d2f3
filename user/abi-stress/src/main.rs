//! abi-stress: many processes, threads and signals at once — 200 children forked and
//! reaped, a fork chain 100 deep, 64 threads alive together, 500 short-lived threads, a
//! storm of 1,000 signals, pipe ping-pong between processes, 50 fork+exec, mmap churn and
//! file churn.
//!
//! Every line is a count or a relation; the exit status is 0 whatever the checks show.

#[path = "../../abi-common/abi_common.rs"]
mod common;

use common::*;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};

static RECEIVED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn count_signal(_signo: i32) {
    RECEIVED.fetch_add(1, SeqCst);
}

/// Forks a chain: each process forks the next and exits with its child's code + 1.
fn chain(depth: u32) -> i32 {
    if depth == 0 {
        return 0;
    }
    let pid = spawn(move || chain(depth - 1));
    let mut status = 0;
    // SAFETY: `status` is live.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 && errno() == libc::EINTR {}
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status) + 1
    } else {
        1000
    }
}

fn main() {
    // SAFETY (whole program): the libc calls get live buffers of the right types;
    // children end in _exit or execve.
    unsafe {
        // --- 200 children at once ---
        let pids: Vec<_> = (0..200).map(|i| spawn(move || i % 50)).collect();
        let mut reaped = 0;
        let mut sum = 0;
        let mut status = 0;
        loop {
            let r = libc::wait(&mut status);
            if r < 0 {
                if errno() == libc::EINTR {
                    continue;
                }
                check("200 children: wait ends with", errno_name(errno()));
                break;
            }
            reaped += 1;
            sum += libc::WEXITSTATUS(status);
        }
        check("200 children: forked", pids.len());
        check("200 children: reaped", reaped);
        check("200 children: sum of exit codes", sum);

        // --- fork chain ---
        check("fork chain 100 deep returns", chain(100));

        // --- threads ---
        let barrier = Arc::new(Barrier::new(65));
        let alive = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..64)
            .map(|i| {
                let (barrier, alive) = (barrier.clone(), alive.clone());
                std::thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn(move || {
                        alive.fetch_add(1, SeqCst);
                        barrier.wait();
                        i
                    })
                    .unwrap()
            })
            .collect();
        barrier.wait();
        check("64 threads alive together", alive.load(SeqCst));
        check(
            "64 threads joined, sum",
            handles.into_iter().map(|h| h.join().unwrap()).sum::<i32>(),
        );
        let mut total = 0u64;
        for i in 0..500u64 {
            total += std::thread::spawn(move || i).join().unwrap();
        }
        check("500 short-lived threads, sum", total);

        // --- signal storm ---
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = count_signal as *const () as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigaction(libc::SIGUSR1, &action, null_mut());
        let parent = libc::getpid();
        let sender = spawn(move || {
            for _ in 0..1000 {
                if libc::kill(parent, libc::SIGUSR1) < 0 {
                    return 1;
                }
            }
            0
        });
        let sent = wait_text(sender);
        sleep_ms(50);
        let received = RECEIVED.load(SeqCst);
        check("signal storm sender", sent);
        check("signal storm received > 0", received > 0);
        check("signal storm received <= 1000", received <= 1000);
        check("signal storm survived", true);
        RECEIVED.store(0, SeqCst);
        let p = pipe(0);
        let sender = spawn(move || {
            for _ in 0..1000 {
                libc::kill(parent, libc::SIGUSR1);
            }
            write_all(p[1], b"done");
            0
        });
        let mut buffer = [0u8; 4];
        let r = libc::read(p[0], buffer.as_mut_ptr().cast(), 4);
        check("storm during SA_RESTART read: read", val(r as i64));
        check(
            "storm during SA_RESTART read: received > 0",
            RECEIVED.load(SeqCst) > 0,
        );
        wait_text(sender);
        libc::close(p[0]);
        libc::close(p[1]);

        // --- pipe ping-pong ---
        let there = pipe(0);
        let back = pipe(0);
        let echo = spawn(move || {
            libc::close(there[1]);
            libc::close(back[0]);
            let mut byte = [0u8; 1];
            loop {
                if libc::read(there[0], byte.as_mut_ptr().cast(), 1) != 1 {
                    return 0;
                }
                byte[0] = byte[0].wrapping_add(1);
                libc::write(back[1], byte.as_ptr().cast(), 1);
            }
        });
        libc::close(there[0]);
        libc::close(back[1]);
        let mut good = 0;
        for i in 0..1000u32 {
            let out = [(i % 251) as u8];
            let mut reply = [0u8; 1];
            libc::write(there[1], out.as_ptr().cast(), 1);
            if libc::read(back[0], reply.as_mut_ptr().cast(), 1) == 1
                && reply[0] == out[0].wrapping_add(1)
            {
                good += 1;
            }
        }
        libc::close(there[1]);
        check("pipe ping-pong 1000 round trips", good);
        check("echo process", wait_text(echo));
        libc::close(back[0]);

        // --- fork + exec ---
        let path = c("/bin/busybox");
        let args = [c("true")];
        let argv = [args[0].as_ptr(), null()];
        let mut ok_count = 0;
        for _ in 0..50 {
            let pid = spawn(|| {
                libc::execve(path.as_ptr(), argv.as_ptr(), [null()].as_ptr());
                127
            });
            if wait_text(pid) == "exited 0" {
                ok_count += 1;
            }
        }
        check("50 fork+exec of busybox true", ok_count);

        // --- mmap churn ---
        let mut churn_ok = true;
        for i in 0..1000usize {
            let len = 4096 * (1 + i % 8);
            let p = libc::mmap(
                null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            ) as *mut u8;
            if p as *mut libc::c_void == libc::MAP_FAILED {
                churn_ok = false;
                break;
            }
            std::ptr::write_volatile(p.add(len - 1), i as u8);
            churn_ok &= std::ptr::read_volatile(p.add(len - 1)) == i as u8;
            libc::munmap(p.cast(), len);
        }
        check("1000 mmap/touch/munmap", churn_ok);

        // --- file churn ---
        let dir = scratch_dir("/tmp/abi-stress");
        let mut files_ok = 0;
        for i in 0..500 {
            let name = c(&format!("{dir}/f{i}"));
            let fd = libc::open(
                name.as_ptr(),
                libc::O_CREAT | libc::O_RDWR | libc::O_TRUNC,
                0o644,
            );
            if fd >= 0 && write_all(fd, format!("{i}").as_bytes()) {
                files_ok += 1;
            }
            libc::close(fd);
        }
        check("500 files created", files_ok);
        check(
            "directory lists 500",
            std::fs::read_dir(&dir).map_or(0, |d| d.count()),
        );
        let mut removed = 0;
        for i in 0..500 {
            if libc::unlink(c(&format!("{dir}/f{i}")).as_ptr()) == 0 {
                removed += 1;
            }
        }
        check("500 files removed", removed);
        check("rmdir", ok(libc::rmdir(c(&dir).as_ptr()) as i64));

        // --- children with threads, all at once ---
        let pids: Vec<_> = (0..20)
            .map(|_| {
                spawn(|| {
                    let handles: Vec<_> = (0..4).map(|i| std::thread::spawn(move || i)).collect();
                    handles.into_iter().map(|h| h.join().unwrap()).sum()
                })
            })
            .collect();
        let results: Vec<String> = pids.into_iter().map(wait_text).collect();
        check(
            "20 children x 4 threads",
            results.iter().all(|r| r == "exited 6"),
        );
    }
    check("done", "ok");
}
