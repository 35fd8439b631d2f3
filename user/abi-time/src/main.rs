//! abi-time: clock and sleep system calls — clock_gettime for every common clock,
//! clock_getres, nanosleep and clock_nanosleep (relative and TIMER_ABSTIME) measured
//! against the monotonic clock, gettimeofday vs REALTIME, times(), interval timers, and
//! their error paths.
//!
//! Every line is a relation (`>= 20ms: true`), never a time; the exit status is 0
//! whatever the checks show.

#[path = "../../abi-common/abi_common.rs"]
mod common;

use common::*;
use std::ptr::null_mut;

fn ns(t: &libc::timespec) -> i128 {
    t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128
}

fn now(clock: libc::clockid_t) -> Option<libc::timespec> {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is live.
    (unsafe { libc::clock_gettime(clock, &mut t) } == 0).then_some(t)
}

/// The raw system call (no vDSO), so the kernel's own clock_gettime is what is checked.
fn raw_now(clock: libc::clockid_t) -> Result<libc::timespec, i32> {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is live.
    let r = unsafe { libc::syscall(libc::SYS_clock_gettime, clock, &mut t) };
    if r == 0 {
        Ok(t)
    } else {
        Err(errno())
    }
}

fn main() {
    // SAFETY (whole program): the libc calls get live buffers of the right types, or
    // deliberately bad pointers that the kernel must reject.
    unsafe {
        let clocks = [
            ("REALTIME", libc::CLOCK_REALTIME),
            ("MONOTONIC", libc::CLOCK_MONOTONIC),
            ("PROCESS_CPUTIME_ID", libc::CLOCK_PROCESS_CPUTIME_ID),
            ("THREAD_CPUTIME_ID", libc::CLOCK_THREAD_CPUTIME_ID),
            ("MONOTONIC_RAW", libc::CLOCK_MONOTONIC_RAW),
            ("REALTIME_COARSE", libc::CLOCK_REALTIME_COARSE),
            ("MONOTONIC_COARSE", libc::CLOCK_MONOTONIC_COARSE),
            ("BOOTTIME", libc::CLOCK_BOOTTIME),
        ];
        for (name, id) in clocks {
            let result = raw_now(id);
            check(
                &format!("clock_gettime {name}"),
                match result {
                    Ok(t) => format!(
                        "ok tv_nsec < 1e9 {}",
                        (0..1_000_000_000).contains(&t.tv_nsec)
                    ),
                    Err(e) => errno_name(e),
                },
            );
            let mut res = libc::timespec {
                tv_sec: 9,
                tv_nsec: 9,
            };
            let r = libc::syscall(libc::SYS_clock_getres, id, &mut res);
            check(
                &format!("clock_getres {name}"),
                format!(
                    "{} 0 < res <= 10ms {}",
                    ok(r),
                    res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 10_000_000
                ),
            );
        }
        check(
            "clock_gettime invalid clock 99",
            raw_now(99).map_or_else(errno_name, |_| "unexpected success".into()),
        );
        check(
            "clock_gettime invalid clock -1 (bad cpu clock)",
            raw_now(-1).map_or_else(errno_name, |_| "unexpected success".into()),
        );
        check(
            "clock_gettime bad pointer",
            err(libc::syscall(
                libc::SYS_clock_gettime,
                libc::CLOCK_MONOTONIC,
                0x10usize,
            )),
        );
        check(
            "clock_getres NULL res",
            ok(libc::syscall(
                libc::SYS_clock_getres,
                libc::CLOCK_MONOTONIC,
                0usize,
            )),
        );
        check(
            "clock_getres invalid clock",
            err(libc::syscall(libc::SYS_clock_getres, 99, 0usize)),
        );
        check(
            "clock_settime MONOTONIC",
            err(libc::clock_settime(
                libc::CLOCK_MONOTONIC,
                &libc::timespec {
                    tv_sec: 1,
                    tv_nsec: 0,
                },
            ) as i64),
        );

        // --- relations between clocks ---
        let real = now(libc::CLOCK_REALTIME).unwrap();
        check("REALTIME after 2020", real.tv_sec > 1_577_836_800);
        let mut tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        };
        check(
            "gettimeofday",
            ok(libc::gettimeofday(&mut tv, null_mut()) as i64),
        );
        check(
            "gettimeofday tv_usec < 1e6",
            (0..1_000_000).contains(&tv.tv_usec),
        );
        check(
            "gettimeofday within 1s of REALTIME",
            (tv.tv_sec - real.tv_sec).abs() <= 1,
        );
        check(
            "gettimeofday raw syscall",
            ok(libc::syscall(libc::SYS_gettimeofday, &mut tv, 0usize)),
        );
        check(
            "time() within 1s of REALTIME",
            (libc::time(null_mut()) - real.tv_sec).abs() <= 1,
        );
        let mono = raw_now(libc::CLOCK_MONOTONIC).unwrap();
        let boot = raw_now(libc::CLOCK_BOOTTIME).unwrap();
        check("BOOTTIME >= MONOTONIC", ns(&boot) >= ns(&mono));
        check("MONOTONIC < 1 day after boot", mono.tv_sec < 86_400);
        let mut last = 0;
        let mut backwards = false;
        for _ in 0..1000 {
            let t = ns(&raw_now(libc::CLOCK_MONOTONIC).unwrap());
            backwards |= t < last;
            last = t;
        }
        check("MONOTONIC never goes back (1000 reads)", !backwards);
        let cpu0 = ns(&raw_now(libc::CLOCK_PROCESS_CPUTIME_ID).unwrap());
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
        }
        std::hint::black_box(x);
        let cpu1 = ns(&raw_now(libc::CLOCK_PROCESS_CPUTIME_ID).unwrap());
        check("PROCESS_CPUTIME advances with work", cpu1 > cpu0);
        check(
            "THREAD_CPUTIME > 0",
            ns(&raw_now(libc::CLOCK_THREAD_CPUTIME_ID).unwrap()) > 0,
        );

        // --- nanosleep ---
        let t0 = ns(&now(libc::CLOCK_MONOTONIC).unwrap());
        let r = libc::nanosleep(
            &libc::timespec {
                tv_sec: 0,
                tv_nsec: 20_000_000,
            },
            null_mut(),
        );
        let slept = ns(&now(libc::CLOCK_MONOTONIC).unwrap()) - t0;
        check("nanosleep 20ms", ok(r as i64));
        check("nanosleep slept >= 20ms", slept >= 20_000_000);
        check("nanosleep slept < 2s", slept < 2_000_000_000);
        check(
            "nanosleep 0",
            ok(libc::nanosleep(
                &libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                null_mut(),
            ) as i64),
        );
        check(
            "nanosleep tv_nsec 1e9",
            err(libc::nanosleep(
                &libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 1_000_000_000,
                },
                null_mut(),
            ) as i64),
        );
        check(
            "nanosleep negative tv_nsec",
            err(libc::nanosleep(
                &libc::timespec {
                    tv_sec: 0,
                    tv_nsec: -1,
                },
                null_mut(),
            ) as i64),
        );
        check(
            "nanosleep negative tv_sec",
            err(libc::nanosleep(
                &libc::timespec {
                    tv_sec: -1,
                    tv_nsec: 0,
                },
                null_mut(),
            ) as i64),
        );
        check(
            "nanosleep bad pointer",
            err(libc::syscall(libc::SYS_nanosleep, 0x10usize, 0usize)),
        );

        // --- clock_nanosleep ---
        let t0 = ns(&now(libc::CLOCK_MONOTONIC).unwrap());
        let r = libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            0,
            &libc::timespec {
                tv_sec: 0,
                tv_nsec: 15_000_000,
            },
            null_mut(),
        );
        let slept = ns(&now(libc::CLOCK_MONOTONIC).unwrap()) - t0;
        check(
            "clock_nanosleep relative 15ms",
            format!("{} slept >= 15ms {}", r, slept >= 15_000_000),
        );
        let start = now(libc::CLOCK_MONOTONIC).unwrap();
        let target = ns(&start) + 25_000_000;
        let deadline = libc::timespec {
            tv_sec: (target / 1_000_000_000) as i64,
            tv_nsec: (target % 1_000_000_000) as i64,
        };
        let r = libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &deadline,
            null_mut(),
        );
        let after = ns(&now(libc::CLOCK_MONOTONIC).unwrap());
        check(
            "clock_nanosleep TIMER_ABSTIME +25ms",
            format!("{} woke at or after deadline {}", r, after >= target),
        );
        let t0 = ns(&now(libc::CLOCK_MONOTONIC).unwrap());
        let r = libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &start,
            null_mut(),
        );
        check(
            "clock_nanosleep TIMER_ABSTIME in the past",
            format!(
                "{} returned within 10ms {}",
                r,
                ns(&now(libc::CLOCK_MONOTONIC).unwrap()) - t0 < 10_000_000
            ),
        );
        let real_now = now(libc::CLOCK_REALTIME).unwrap();
        let target = ns(&real_now) + 10_000_000;
        let deadline = libc::timespec {
            tv_sec: (target / 1_000_000_000) as i64,
            tv_nsec: (target % 1_000_000_000) as i64,
        };
        let r = libc::clock_nanosleep(
            libc::CLOCK_REALTIME,
            libc::TIMER_ABSTIME,
            &deadline,
            null_mut(),
        );
        check(
            "clock_nanosleep REALTIME TIMER_ABSTIME",
            format!(
                "{} woke after {}",
                r,
                ns(&now(libc::CLOCK_REALTIME).unwrap()) >= target
            ),
        );
        check(
            "clock_nanosleep BOOTTIME",
            libc::clock_nanosleep(
                libc::CLOCK_BOOTTIME,
                0,
                &libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 1_000_000,
                },
                null_mut(),
            ),
        );
        // clock_nanosleep returns the error number instead of setting errno.
        check(
            "clock_nanosleep invalid clock",
            errno_name(libc::clock_nanosleep(
                99,
                0,
                &libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 1,
                },
                null_mut(),
            )),
        );
        check(
            "clock_nanosleep THREAD_CPUTIME",
            errno_name(libc::clock_nanosleep(
                libc::CLOCK_THREAD_CPUTIME_ID,
                0,
                &libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 1,
                },
                null_mut(),
            )),
        );
        check(
            "clock_nanosleep bad nsec",
            errno_name(libc::clock_nanosleep(
                libc::CLOCK_MONOTONIC,
                0,
                &libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 2_000_000_000,
                },
                null_mut(),
            )),
        );
        check(
            "clock_nanosleep bad flags ignored",
            libc::clock_nanosleep(
                libc::CLOCK_MONOTONIC,
                0x10,
                &libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 1000,
                },
                null_mut(),
            ),
        );

        // --- times() ---
        let mut tms: libc::tms = std::mem::zeroed();
        let c0 = libc::times(&mut tms);
        check(
            "times returns",
            if c0 as i64 == -1 {
                errno_name(errno())
            } else {
                "ok".into()
            },
        );
        sleep_ms(30);
        let c1 = libc::times(&mut tms);
        check("times monotonic", c1 >= c0);
        check("times advanced over 30ms sleep", c1 > c0);
        check(
            "times NULL buffer",
            libc::syscall(libc::SYS_times, 0usize) != -1,
        );
        check("sysconf CLK_TCK", libc::sysconf(libc::_SC_CLK_TCK));
        check("times children after child spin", {
            let pid = spawn(|| {
                let mut x = 0u64;
                for i in 0..20_000_000u64 {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
                }
                std::hint::black_box(x);
                0
            });
            wait_text(pid);
            libc::times(&mut tms);
            format!(
                "cutime+cstime >= 0 {}",
                tms.tms_cutime + tms.tms_cstime >= 0
            )
        });

        // --- interval timers ---
        let mut value: libc::itimerval = std::mem::zeroed();
        check(
            "getitimer REAL idle",
            format!(
                "{} zero {}",
                ok(libc::getitimer(libc::ITIMER_REAL, &mut value) as i64),
                value.it_value.tv_sec == 0 && value.it_value.tv_usec == 0
            ),
        );
        let timer = libc::itimerval {
            it_interval: libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
            it_value: libc::timeval {
                tv_sec: 5,
                tv_usec: 0,
            },
        };
        libc::setitimer(libc::ITIMER_REAL, &timer, null_mut());
        libc::getitimer(libc::ITIMER_REAL, &mut value);
        check(
            "getitimer REAL armed: 4s < left <= 5s",
            value.it_value.tv_sec == 4
                || (value.it_value.tv_sec == 5 && value.it_value.tv_usec == 0),
        );
        let mut old: libc::itimerval = std::mem::zeroed();
        let zero: libc::itimerval = std::mem::zeroed();
        libc::setitimer(libc::ITIMER_REAL, &zero, &mut old);
        check("setitimer disarm returns old", old.it_value.tv_sec >= 4);
        check(
            "setitimer bad which",
            err(libc::setitimer(7, &zero, null_mut()) as i64),
        );
        check(
            "setitimer bad usec",
            err(libc::setitimer(
                libc::ITIMER_REAL,
                &libc::itimerval {
                    it_interval: libc::timeval {
                        tv_sec: 0,
                        tv_usec: 0,
                    },
                    it_value: libc::timeval {
                        tv_sec: 0,
                        tv_usec: 2_000_000,
                    },
                },
                null_mut(),
            ) as i64),
        );

        // --- POSIX timers ---
        let mut sev: libc::sigevent = std::mem::zeroed();
        sev.sigev_notify = libc::SIGEV_SIGNAL;
        sev.sigev_signo = libc::SIGUSR1;
        let mut timer_id: libc::timer_t = std::mem::zeroed();
        let r = libc::timer_create(libc::CLOCK_MONOTONIC, &mut sev, &mut timer_id);
        check("timer_create", ok(r as i64));
        if r == 0 {
            let set = {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGUSR1);
                set
            };
            libc::sigprocmask(libc::SIG_BLOCK, &set, null_mut());
            let spec = libc::itimerspec {
                it_interval: libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 20_000_000,
                },
            };
            let t0 = ns(&now(libc::CLOCK_MONOTONIC).unwrap());
            check(
                "timer_settime 20ms",
                ok(libc::timer_settime(timer_id, 0, &spec, null_mut()) as i64),
            );
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let signo = libc::sigwaitinfo(&set, &mut info);
            let waited = ns(&now(libc::CLOCK_MONOTONIC).unwrap()) - t0;
            check(
                "timer expiry signal",
                format!(
                    "{} SI_TIMER {} after >= 20ms {}",
                    signal_name(signo),
                    info.si_code == libc::SI_TIMER,
                    waited >= 20_000_000
                ),
            );
            check("timer_delete", ok(libc::timer_delete(timer_id) as i64));
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, null_mut());
        }
        check(
            "timer_create bad clock",
            err(libc::timer_create(99, &mut sev, &mut timer_id) as i64),
        );
    }
    check("done", "ok");
}
