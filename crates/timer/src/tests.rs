//! Host tests of the timer queues, driven by [`MockClock`] and hand-polled futures.
//!
//! No executor is involved: each test polls `Sleep`/`Timeout` with a counting waker,
//! moves the mock clock, and calls `handle_interrupt` as the interrupt handler would, so
//! every wake, entry and alarm write can be checked exactly.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use crate::mock::MockClock;
use crate::{Elapsed, Instant, Timers};

/// A waker that counts its wakes and appends its id to a shared log.
struct Probe {
    id: usize,
    wakes: AtomicUsize,
    log: Arc<Mutex<Vec<usize>>>,
}

impl Wake for Probe {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.log.lock().unwrap().push(self.id);
    }
}

impl Probe {
    fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

/// A probe with its own log, and its waker.
fn new_probe(id: usize) -> (Arc<Probe>, Waker) {
    probe_logging_to(id, &Arc::default())
}

/// A probe appending to `log`, and its waker.
fn probe_logging_to(id: usize, log: &Arc<Mutex<Vec<usize>>>) -> (Arc<Probe>, Waker) {
    let probe = Arc::new(Probe {
        id,
        wakes: AtomicUsize::new(0),
        log: log.clone(),
    });
    let waker = Waker::from(probe.clone());
    (probe, waker)
}

/// Polls `future` once with `waker`.
fn poll<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

fn nanos(nanos: u64) -> Duration {
    Duration::from_nanos(nanos)
}

fn at(nanos: u64) -> Option<Instant> {
    Some(Instant::from_nanos(nanos))
}

#[test]
fn sleeps_fire_in_deadline_order_exactly_at_their_times() {
    let clock = MockClock::new(1);
    let timers = Timers::new(&clock, 1);
    let log = Arc::default();
    // Registered out of order: 30, 10, 20.
    let mut sleeps: Vec<_> = [30, 10, 20]
        .into_iter()
        .map(|deadline| {
            let (probe, waker) = probe_logging_to(deadline as usize, &log);
            let mut sleep = timers.sleep_until(Instant::from_nanos(deadline));
            assert!(poll(&mut sleep, &waker).is_pending());
            (sleep, probe, waker)
        })
        .collect();
    assert_eq!(timers.pending(0), 3);
    assert_eq!(clock.alarm(), at(10));

    clock.set(Instant::from_nanos(9));
    assert_eq!(timers.handle_interrupt(), 0, "nothing is due before 10");
    for (deadline, expected_alarm) in [(10, at(20)), (20, at(30)), (30, None)] {
        clock.set(Instant::from_nanos(deadline));
        assert_eq!(timers.handle_interrupt(), 1);
        assert_eq!(clock.alarm(), expected_alarm);
    }
    assert_eq!(*log.lock().unwrap(), [10, 20, 30]);
    for (sleep, probe, waker) in &mut sleeps {
        assert_eq!(probe.wakes(), 1);
        assert_eq!(poll(sleep, waker), Poll::Ready(()));
    }
    assert_eq!(timers.pending(0), 0);
}

#[test]
fn equal_deadlines_all_fire_in_registration_order() {
    let clock = MockClock::new(1);
    let timers = Timers::new(&clock, 1);
    let log = Arc::default();
    let sleeps: Vec<_> = (0..5)
        .map(|id| {
            let (_, waker) = probe_logging_to(id, &log);
            let mut sleep = timers.sleep(nanos(7));
            assert!(poll(&mut sleep, &waker).is_pending());
            sleep
        })
        .collect();
    assert_eq!(clock.alarm_calls(), 1, "equal deadlines arm the timer once");
    clock.advance(nanos(7));
    assert_eq!(timers.handle_interrupt(), 5);
    assert_eq!(*log.lock().unwrap(), [0, 1, 2, 3, 4]);
    assert_eq!(clock.alarm(), None);
    drop(sleeps);
}

#[test]
fn dropped_sleep_leaves_no_entry_and_alarm_follows() {
    let clock = MockClock::new(1);
    let timers = Timers::new(&clock, 1);
    let (probe, waker) = new_probe(0);
    let mut first = timers.sleep(nanos(10));
    let mut second = timers.sleep(nanos(20));
    let mut third = timers.sleep(nanos(30));
    for sleep in [&mut first, &mut second, &mut third] {
        assert!(poll(sleep, &waker).is_pending());
    }
    assert_eq!(clock.alarm(), at(10));

    let calls = clock.alarm_calls();
    drop(second);
    assert_eq!(timers.pending(0), 2);
    assert_eq!(
        clock.alarm_calls(),
        calls,
        "dropping a later entry leaves the alarm alone"
    );
    drop(first);
    assert_eq!(
        clock.alarm(),
        at(30),
        "dropping the earliest re-arms for the next"
    );
    drop(third);
    assert_eq!(timers.pending(0), 0);
    assert_eq!(clock.alarm(), None, "an empty queue disarms the timer");

    clock.advance(nanos(100));
    assert_eq!(timers.handle_interrupt(), 0);
    assert_eq!(probe.wakes(), 0, "a dropped sleep is never woken");
}

#[test]
fn only_a_new_earliest_deadline_moves_the_alarm() {
    let clock = MockClock::new(1);
    let timers = Timers::new(&clock, 1);
    let (_, waker) = new_probe(0);
    assert_eq!(clock.alarm_calls(), 0);

    let mut middle = timers.sleep(nanos(50));
    assert!(poll(&mut middle, &waker).is_pending());
    assert_eq!((clock.alarm(), clock.alarm_calls()), (at(50), 1));

    let mut later = timers.sleep(nanos(80));
    assert!(poll(&mut later, &waker).is_pending());
    assert_eq!(
        (clock.alarm(), clock.alarm_calls()),
        (at(50), 1),
        "a later insert does not arm"
    );

    let mut earlier = timers.sleep(nanos(20));
    assert!(poll(&mut earlier, &waker).is_pending());
    assert_eq!(
        (clock.alarm(), clock.alarm_calls()),
        (at(20), 2),
        "an earlier insert re-arms"
    );

    assert!(poll(&mut middle, &waker).is_pending());
    assert_eq!(
        clock.alarm_calls(),
        2,
        "re-polling with the same waker changes nothing"
    );

    clock.advance(nanos(20));
    assert_eq!(timers.handle_interrupt(), 1);
    assert_eq!(
        clock.alarm(),
        at(50),
        "after an interrupt the alarm moves to the next"
    );
    clock.advance(nanos(30));
    assert_eq!(timers.handle_interrupt(), 1);
    assert_eq!(clock.alarm(), at(80));
    clock.advance(nanos(30));
    assert_eq!(timers.handle_interrupt(), 1);
    assert_eq!(clock.alarm(), None, "no alarm while nothing is due");
    let calls = clock.alarm_calls();
    for sleep in [&mut earlier, &mut middle, &mut later] {
        assert_eq!(poll(sleep, &waker), Poll::Ready(()));
    }
    drop((earlier, middle, later));
    assert_eq!(
        clock.alarm_calls(),
        calls,
        "completing fired sleeps does not touch the alarm"
    );
}

#[test]
fn past_deadline_is_ready_without_registering() {
    let clock = MockClock::new(1);
    clock.set(Instant::from_nanos(1_000));
    let timers = Timers::new(&clock, 1);
    let (probe, waker) = new_probe(0);
    for deadline in [0, 999, 1_000] {
        let mut sleep = timers.sleep_until(Instant::from_nanos(deadline));
        assert_eq!(poll(&mut sleep, &waker), Poll::Ready(()));
        assert!(!sleep.is_registered());
    }
    let mut zero = timers.sleep(Duration::ZERO);
    assert_eq!(poll(&mut zero, &waker), Poll::Ready(()));
    assert_eq!(timers.pending(0), 0);
    assert_eq!((clock.alarm(), clock.alarm_calls()), (None, 0));
    assert_eq!(probe.wakes(), 0);
}

#[test]
fn repoll_with_a_different_waker_wakes_the_new_one() {
    let clock = MockClock::new(1);
    let timers = Timers::new(&clock, 1);
    let (old, old_waker) = new_probe(0);
    let (new, new_waker) = new_probe(1);
    let mut sleep = timers.sleep(nanos(10));
    assert!(poll(&mut sleep, &old_waker).is_pending());
    assert!(poll(&mut sleep, &new_waker).is_pending());
    assert_eq!(timers.pending(0), 1, "a re-poll does not add an entry");
    clock.advance(nanos(10));
    assert_eq!(timers.handle_interrupt(), 1);
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
    assert_eq!(poll(&mut sleep, &new_waker), Poll::Ready(()));
}

#[test]
fn repoll_that_races_the_interrupt_completes() {
    // The race: a re-poll reads the clock just before the deadline, then the owner hart's
    // interrupt takes the entry before the re-poll looks it up. Setting the mock clock
    // back replays that interleaving deterministically.
    let clock = MockClock::new(1);
    let timers = Timers::new(&clock, 1);
    let (old, old_waker) = new_probe(0);
    let (_, new_waker) = new_probe(1);
    let mut sleep = timers.sleep(nanos(10));
    assert!(poll(&mut sleep, &old_waker).is_pending());
    clock.set(Instant::from_nanos(10));
    assert_eq!(timers.handle_interrupt(), 1);
    assert_eq!(old.wakes(), 1);
    clock.set(Instant::from_nanos(9));
    assert_eq!(
        poll(&mut sleep, &new_waker),
        Poll::Ready(()),
        "no waker would be left to wake it"
    );
    assert!(!sleep.is_registered());
    assert_eq!(timers.pending(0), 0);
}

#[test]
fn wakers_are_called_after_the_queue_lock_is_released() {
    /// A waker that records whether hart 0's queue was locked when it ran.
    struct LockCheck(AtomicUsize);
    impl Wake for LockCheck {
        fn wake(self: Arc<Self>) {
            let locked = TIMERS.get().unwrap().queue(0).is_locked();
            self.0.store(if locked { 2 } else { 1 }, Ordering::SeqCst);
        }
    }
    static CLOCK: OnceLock<MockClock> = OnceLock::new();
    static TIMERS: OnceLock<Timers<'static>> = OnceLock::new();
    let clock = CLOCK.get_or_init(|| MockClock::new(1));
    let timers = TIMERS.get_or_init(|| Timers::new(clock, 1));

    let check = Arc::new(LockCheck(AtomicUsize::new(0)));
    let mut sleep = timers.sleep(nanos(5));
    assert!(poll(&mut sleep, &Waker::from(check.clone())).is_pending());
    clock.advance(nanos(5));
    assert_eq!(timers.handle_interrupt(), 1);
    assert_eq!(
        check.0.load(Ordering::SeqCst),
        1,
        "woken (1) with the lock free, not held (2)"
    );
}

#[test]
fn timeout_returns_ok_when_the_future_finishes_first() {
    let clock = MockClock::new(1);
    let timers = Timers::new(&clock, 1);
    let (probe, waker) = new_probe(0);
    let mut timeout = timers.timeout(nanos(100), timers.sleep(nanos(10)));
    assert!(poll(&mut timeout, &waker).is_pending());
    assert_eq!(timers.pending(0), 2);
    assert_eq!(clock.alarm(), at(10));

    clock.advance(nanos(10));
    assert_eq!(timers.handle_interrupt(), 1);
    assert_eq!(probe.wakes(), 1);
    assert_eq!(poll(&mut timeout, &waker), Poll::Ready(Ok(())));
    assert_eq!(
        timers.pending(0),
        0,
        "the timeout's own entry is removed at completion"
    );
    assert_eq!(clock.alarm(), None);

    // A future that is ready at once never registers the timeout's sleep.
    let calls = clock.alarm_calls();
    let mut ready = timers.timeout(nanos(100), std::future::ready(7));
    assert_eq!(poll(&mut ready, &waker), Poll::Ready(Ok(7)));
    assert_eq!((timers.pending(0), clock.alarm_calls()), (0, calls));
}

#[test]
fn timeout_returns_elapsed_when_the_deadline_comes_first() {
    let clock = MockClock::new(1);
    let timers = Timers::new(&clock, 1);
    let (probe, waker) = new_probe(0);
    let mut timeout = timers.timeout_at(Instant::from_nanos(10), std::future::pending::<()>());
    assert!(poll(&mut timeout, &waker).is_pending());
    assert_eq!(timers.pending(0), 1);

    clock.advance(nanos(9));
    assert_eq!(timers.handle_interrupt(), 0);
    assert!(poll(&mut timeout, &waker).is_pending());
    clock.advance(nanos(1));
    assert_eq!(timers.handle_interrupt(), 1);
    assert_eq!(probe.wakes(), 1);
    assert_eq!(poll(&mut timeout, &waker), Poll::Ready(Err(Elapsed)));
    assert_eq!(timers.pending(0), 0);
    assert_eq!(clock.alarm(), None);
    assert_eq!(Elapsed.to_string(), "deadline has elapsed");
}

#[test]
fn dropped_timeout_leaves_no_entry() {
    let clock = MockClock::new(1);
    let timers = Timers::new(&clock, 1);
    let (_, waker) = new_probe(0);
    let mut timeout = timers.timeout(nanos(10), timers.sleep(nanos(20)));
    assert!(poll(&mut timeout, &waker).is_pending());
    assert_eq!(timers.pending(0), 2);
    drop(timeout);
    assert_eq!(timers.pending(0), 0);
    assert_eq!(clock.alarm(), None);
}

#[test]
fn a_sleep_lives_in_the_queue_of_the_hart_that_first_polled_it() {
    let clock = MockClock::new(2);
    let timers = Timers::new(&clock, 2);
    let (probe, waker) = new_probe(0);
    clock.set_hart(1);
    let mut sleep = timers.sleep(nanos(10));
    assert!(poll(&mut sleep, &waker).is_pending());
    assert_eq!((timers.pending(0), timers.pending(1)), (0, 1));
    assert_eq!((clock.alarm_on(0), clock.alarm_on(1)), (None, at(10)));

    // Re-polled on hart 0 after a migration: the entry stays on hart 1, with the new waker.
    clock.set_hart(0);
    let (replacement, new_waker) = new_probe(1);
    assert!(poll(&mut sleep, &new_waker).is_pending());
    assert_eq!((timers.pending(0), timers.pending(1)), (0, 1));
    assert_eq!(clock.alarm_on(0), None);

    clock.advance(nanos(10));
    assert_eq!(
        timers.handle_interrupt(),
        0,
        "hart 0's interrupt does not wake hart 1's entry"
    );
    assert_eq!(timers.pending(1), 1);
    clock.set_hart(1);
    assert_eq!(timers.handle_interrupt(), 1);
    assert_eq!((probe.wakes(), replacement.wakes()), (0, 1));
    assert_eq!(clock.alarm_on(1), None);
    clock.set_hart(0);
    assert_eq!(poll(&mut sleep, &new_waker), Poll::Ready(()));
}

#[test]
fn drop_on_another_hart_removes_the_entry_and_the_owner_re_arms_later() {
    let clock = MockClock::new(2);
    let timers = Timers::new(&clock, 2);
    let (probe, waker) = new_probe(0);
    let mut first = timers.sleep(nanos(10));
    let mut second = timers.sleep(nanos(20));
    assert!(poll(&mut first, &waker).is_pending());
    assert!(poll(&mut second, &waker).is_pending());
    assert_eq!(clock.alarm_on(0), at(10));

    clock.set_hart(1);
    let calls = clock.alarm_calls();
    drop(first);
    assert_eq!(timers.pending(0), 1);
    assert_eq!(
        clock.alarm_calls(),
        calls,
        "hart 1 cannot program hart 0's timer"
    );
    assert_eq!((clock.alarm_on(0), clock.alarm_on(1)), (at(10), None));

    // Hart 0 takes one early interrupt, which wakes nothing and re-arms for the next.
    clock.set_hart(0);
    clock.advance(nanos(10));
    assert_eq!(timers.handle_interrupt(), 0);
    assert_eq!(clock.alarm_on(0), at(20));
    clock.advance(nanos(10));
    assert_eq!(timers.handle_interrupt(), 1);
    assert_eq!(probe.wakes(), 1);
    assert_eq!(clock.alarm_on(0), None);
    assert_eq!(poll(&mut second, &waker), Poll::Ready(()));
}

#[test]
fn concurrent_registering_dropping_and_interrupts_lose_no_wake() {
    let (workers, sleeps_per_worker) = if cfg!(miri) { (2, 12) } else { (4, 3_000) };
    let clock = MockClock::new(1);
    let timers = Timers::new(&clock, 1);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let interrupter = scope.spawn(|| {
            let mut woken = 0;
            while !stop.load(Ordering::SeqCst) {
                clock.advance(nanos(1));
                woken += timers.handle_interrupt();
                std::thread::yield_now();
            }
            woken
        });
        let workers: Vec<_> = (0..workers)
            .map(|worker| {
                let timers = &timers;
                scope.spawn(move || {
                    // Sleeps whose last poll was Pending, with the probe of that poll.
                    let mut waiting = Vec::new();
                    for index in 0..sleeps_per_worker {
                        let id = worker * sleeps_per_worker + index;
                        let (mut probe, waker) = new_probe(id);
                        let mut sleep = timers.sleep(nanos((index % 7) as u64));
                        if poll(&mut sleep, &waker).is_ready() {
                            continue;
                        }
                        if index % 3 == 0 {
                            drop(sleep);
                            continue;
                        }
                        if index % 5 == 1 {
                            let (replacement, new_waker) = new_probe(id);
                            if poll(&mut sleep, &new_waker).is_ready() {
                                continue;
                            }
                            probe = replacement;
                        }
                        waiting.push((sleep, probe));
                    }
                    waiting
                })
            })
            .collect();
        let mut waiting: Vec<_> = workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect();
        stop.store(true, Ordering::SeqCst);
        let woken_by_interrupter = interrupter.join().unwrap();

        // Everything still queued is due now; one last interrupt must wake it all.
        clock.advance(Duration::from_secs(1));
        let woken_at_end = timers.handle_interrupt();
        assert_eq!(timers.pending(0), 0);
        assert_eq!(clock.alarm(), None);
        assert!(woken_by_interrupter + woken_at_end >= waiting.len());
        let (_, spare_waker) = new_probe(usize::MAX);
        for (sleep, probe) in &mut waiting {
            assert_eq!(
                probe.wakes(),
                1,
                "sleep {} was not woken exactly once",
                probe.id
            );
            assert_eq!(poll(sleep, &spare_waker), Poll::Ready(()));
        }
    });
}
