//! Signals as Linux riscv64 defines them: numbers, sets, default actions, `sigaction`,
//! `siginfo`, `sigaltstack` and the signal frame the kernel pushes on the user stack.
//!
//! The kernel's signal code needs all of this to be bit-exact, because user space (glibc's
//! `sigaction`, a handler reading its `ucontext_t`, `sigreturn`) reads and writes these
//! structures directly. Sources: include/uapi/asm-generic/{signal,signal-defs,siginfo}.h,
//! include/uapi/linux/signal.h, arch/riscv/include/uapi/asm/{ptrace,sigcontext,ucontext}.h
//! and arch/riscv/kernel/signal.c. Two riscv64 particulars shape the frame code:
//!
//! - There is no `SA_RESTORER` and no `sa_restorer` field: the kernel's `struct sigaction`
//!   is `{handler, flags, mask}` (24 bytes), and a handler returns through `ra`, which Linux
//!   points at the vDSO's `__vdso_rt_sigreturn` (`li a7, 139; ecall`). A kernel without a
//!   vDSO must provide such a trampoline itself.
//! - The frame is `struct rt_sigframe { siginfo_t info; struct ucontext uc; }` (1088 bytes,
//!   16-byte aligned), and `uc_sigmask` sits *before* `uc_mcontext` (unlike x86_64 and arm64),
//!   followed by 120 reserved bytes so the mask could grow.

use core::fmt;
use core::ops::{BitAnd, BitOr, Not};

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `_NSIG`: signals are numbered 1 to 64.
pub const NSIG: u32 = 64;
/// The first real-time signal number (glibc reserves 32 and 33 for itself).
pub const SIGRTMIN: u32 = 32;
/// The last real-time signal number.
pub const SIGRTMAX: u32 = 64;

/// A signal number, 1 to 64.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(u8);

macro_rules! signals {
    ($($name:ident = $value:literal, $action:ident, $text:literal;)*) => {
        impl Signal {
            $(
                #[doc = $text]
                pub const $name: Signal = Signal($value);
            )*

            /// The symbolic name (`"SIGINT"`) of a standard signal (1 to 31); real-time
            /// signals have none.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// What happens when this signal is delivered with `SIG_DFL` in place
            /// (signal(7); the kernel's `sig_kernel_*` masks).
            pub const fn default_action(self) -> DefaultAction {
                match self.0 {
                    $($value => DefaultAction::$action,)*
                    // Real-time signals terminate by default.
                    _ => DefaultAction::Terminate,
                }
            }
        }
    };
}

signals! {
    SIGHUP = 1, Terminate, "Hangup of the controlling terminal or death of its process.";
    SIGINT = 2, Terminate, "Interrupt from the keyboard (^C).";
    SIGQUIT = 3, CoreDump, "Quit from the keyboard (^\\).";
    SIGILL = 4, CoreDump, "Illegal instruction.";
    SIGTRAP = 5, CoreDump, "Trace or breakpoint trap.";
    SIGABRT = 6, CoreDump, "Abort (abort(3)); also called SIGIOT.";
    SIGBUS = 7, CoreDump, "Bus error (bad memory access).";
    SIGFPE = 8, CoreDump, "Arithmetic exception.";
    SIGKILL = 9, Terminate, "Kill; cannot be caught, blocked or ignored.";
    SIGUSR1 = 10, Terminate, "User-defined signal 1.";
    SIGSEGV = 11, CoreDump, "Invalid memory reference.";
    SIGUSR2 = 12, Terminate, "User-defined signal 2.";
    SIGPIPE = 13, Terminate, "Write to a pipe with no readers.";
    SIGALRM = 14, Terminate, "Timer signal from alarm(2) / ITIMER_REAL.";
    SIGTERM = 15, Terminate, "Termination request.";
    SIGSTKFLT = 16, Terminate, "Stack fault on coprocessor (unused).";
    SIGCHLD = 17, Ignore, "A child stopped, continued or terminated.";
    SIGCONT = 18, Continue, "Continue if stopped.";
    SIGSTOP = 19, Stop, "Stop; cannot be caught, blocked or ignored.";
    SIGTSTP = 20, Stop, "Stop typed at the terminal (^Z).";
    SIGTTIN = 21, Stop, "Terminal input for a background process.";
    SIGTTOU = 22, Stop, "Terminal output for a background process.";
    SIGURG = 23, Ignore, "Urgent condition on a socket.";
    SIGXCPU = 24, CoreDump, "CPU time limit exceeded.";
    SIGXFSZ = 25, CoreDump, "File size limit exceeded.";
    SIGVTALRM = 26, Terminate, "Virtual alarm clock (ITIMER_VIRTUAL).";
    SIGPROF = 27, Terminate, "Profiling timer expired (ITIMER_PROF).";
    SIGWINCH = 28, Ignore, "Window resize.";
    SIGIO = 29, Terminate, "I/O now possible; also called SIGPOLL.";
    SIGPWR = 30, Terminate, "Power failure.";
    SIGSYS = 31, CoreDump, "Bad system call.";
}

impl Signal {
    /// `SIGIOT` is `SIGABRT`.
    pub const SIGIOT: Signal = Signal::SIGABRT;
    /// `SIGPOLL` is `SIGIO`.
    pub const SIGPOLL: Signal = Signal::SIGIO;

    /// The signal numbered `number`, if it is one (1 to 64). Zero is not a signal; callers
    /// of kill(2) treat it as "check only" before getting here.
    pub const fn new(number: u32) -> Option<Signal> {
        if number >= 1 && number <= NSIG {
            Some(Signal(number as u8))
        } else {
            None
        }
    }

    /// The real-time signal `SIGRTMIN + offset`, if that is at most `SIGRTMAX`.
    pub const fn realtime(offset: u32) -> Option<Signal> {
        if offset <= SIGRTMAX - SIGRTMIN {
            Some(Signal((SIGRTMIN + offset) as u8))
        } else {
            None
        }
    }

    /// The signal number.
    pub const fn number(self) -> u32 {
        self.0 as u32
    }

    /// Whether this is a real-time (queued) signal, 32 to 64.
    pub const fn is_realtime(self) -> bool {
        self.0 as u32 >= SIGRTMIN
    }

    /// Whether a handler may be installed or the signal blocked/ignored (all but SIGKILL
    /// and SIGSTOP).
    pub const fn is_catchable(self) -> bool {
        self.0 != Signal::SIGKILL.0 && self.0 != Signal::SIGSTOP.0
    }

    /// Whether the signal reports a fault of the current instruction (SIGSEGV, SIGBUS,
    /// SIGILL, SIGTRAP, SIGFPE, SIGSYS): Linux delivers these before any other pending one.
    pub const fn is_synchronous(self) -> bool {
        SigSet::SYNCHRONOUS.contains(self)
    }

    /// This signal's bit in a [`SigSet`]: `1 << (number - 1)`.
    pub const fn bit(self) -> u64 {
        1 << (self.0 - 1)
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None if self.0 as u32 == SIGRTMIN => f.write_str("SIGRTMIN"),
            None => write!(f, "SIGRTMIN+{}", self.0 as u32 - SIGRTMIN),
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// What the kernel does with a signal whose disposition is `SIG_DFL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// End the process (wait status: "killed by signal").
    Terminate,
    /// End the process and dump core (wait status has the core flag, 0x80).
    CoreDump,
    /// Discard the signal.
    Ignore,
    /// Stop the process (job control).
    Stop,
    /// Continue a stopped process; otherwise ignore.
    Continue,
}

/// A signal set (`sigset_t`, one 64-bit word on riscv64): bit `n - 1` stands for signal `n`.
///
/// rt_sigprocmask/rt_sigaction/rt_sigsuspend/ppoll take its size as an argument and Linux
/// rejects any size other than 8 with `EINVAL` ([`SigSet::SIZE`]).
#[repr(transparent)]
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct SigSet(pub u64);

impl SigSet {
    /// The size user space must pass as `sigsetsize`.
    pub const SIZE: usize = core::mem::size_of::<SigSet>();
    /// No signals.
    pub const EMPTY: SigSet = SigSet(0);
    /// All 64 signals.
    pub const FULL: SigSet = SigSet(u64::MAX);
    /// SIGKILL and SIGSTOP, which can be neither blocked nor caught.
    pub const UNBLOCKABLE: SigSet = SigSet(Signal::SIGKILL.bit() | Signal::SIGSTOP.bit());
    /// The kernel's `SYNCHRONOUS_MASK`: faults of the current instruction, delivered first.
    pub const SYNCHRONOUS: SigSet = SigSet(
        Signal::SIGSEGV.bit()
            | Signal::SIGBUS.bit()
            | Signal::SIGILL.bit()
            | Signal::SIGTRAP.bit()
            | Signal::SIGFPE.bit()
            | Signal::SIGSYS.bit(),
    );
    /// Signals whose default action stops the process (`SIG_KERNEL_STOP_MASK`).
    pub const STOP: SigSet = SigSet(
        Signal::SIGSTOP.bit()
            | Signal::SIGTSTP.bit()
            | Signal::SIGTTIN.bit()
            | Signal::SIGTTOU.bit(),
    );

    /// The set holding only `signal`.
    pub const fn of(signal: Signal) -> SigSet {
        SigSet(signal.bit())
    }

    /// Whether `signal` is in the set.
    pub const fn contains(self, signal: Signal) -> bool {
        self.0 & signal.bit() != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set with `signal` added.
    pub const fn with(self, signal: Signal) -> SigSet {
        SigSet(self.0 | signal.bit())
    }

    /// The set with `signal` removed.
    pub const fn without(self, signal: Signal) -> SigSet {
        SigSet(self.0 & !signal.bit())
    }

    /// Adds `signal`.
    pub fn insert(&mut self, signal: Signal) {
        self.0 |= signal.bit();
    }

    /// Removes `signal`.
    pub fn remove(&mut self, signal: Signal) {
        self.0 &= !signal.bit();
    }

    /// Signals in either set.
    pub const fn union(self, other: SigSet) -> SigSet {
        SigSet(self.0 | other.0)
    }

    /// Signals in both sets.
    pub const fn intersection(self, other: SigSet) -> SigSet {
        SigSet(self.0 & other.0)
    }

    /// Signals in `self` but not in `other`.
    pub const fn difference(self, other: SigSet) -> SigSet {
        SigSet(self.0 & !other.0)
    }

    /// The set as a process may block it: SIGKILL and SIGSTOP removed (rt_sigprocmask and
    /// rt_sigaction's mask silently drop them).
    pub const fn blockable(self) -> SigSet {
        self.difference(SigSet::UNBLOCKABLE)
    }

    /// The lowest-numbered signal in the set.
    pub const fn lowest(self) -> Option<Signal> {
        if self.0 == 0 {
            None
        } else {
            Some(Signal(self.0.trailing_zeros() as u8 + 1))
        }
    }

    /// The signal Linux delivers first out of this pending set (`next_signal`): the lowest
    /// synchronous one if any, otherwise the lowest one.
    pub const fn next_to_deliver(self) -> Option<Signal> {
        match self.intersection(SigSet::SYNCHRONOUS).lowest() {
            Some(signal) => Some(signal),
            None => self.lowest(),
        }
    }

    /// The signals in the set, lowest first.
    pub fn iter(self) -> impl Iterator<Item = Signal> {
        let mut rest = self;
        core::iter::from_fn(move || {
            let signal = rest.lowest()?;
            rest.remove(signal);
            Some(signal)
        })
    }
}

impl BitOr for SigSet {
    type Output = SigSet;
    fn bitor(self, other: SigSet) -> SigSet {
        self.union(other)
    }
}

impl BitAnd for SigSet {
    type Output = SigSet;
    fn bitand(self, other: SigSet) -> SigSet {
        self.intersection(other)
    }
}

impl Not for SigSet {
    type Output = SigSet;
    fn not(self) -> SigSet {
        SigSet(!self.0)
    }
}

impl From<Signal> for SigSet {
    fn from(signal: Signal) -> SigSet {
        SigSet::of(signal)
    }
}

impl fmt::Debug for SigSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

// rt_sigprocmask `how` values.
/// rt_sigprocmask: add the given set to the blocked set.
pub const SIG_BLOCK: u32 = 0;
/// rt_sigprocmask: remove the given set from the blocked set.
pub const SIG_UNBLOCK: u32 = 1;
/// rt_sigprocmask: replace the blocked set.
pub const SIG_SETMASK: u32 = 2;

// Handler values with special meaning.
/// `sa_handler` value: the default action.
pub const SIG_DFL: u64 = 0;
/// `sa_handler` value: ignore the signal.
pub const SIG_IGN: u64 = 1;
/// signal(2)'s error return, `(sighandler_t)-1`; never a valid `sa_handler`.
pub const SIG_ERR: u64 = u64::MAX;

// sa_flags bits (asm-generic/signal-defs.h). riscv64 defines no SA_RESTORER.
/// Do not send SIGCHLD when a child stops or continues.
pub const SA_NOCLDSTOP: u64 = 0x0000_0001;
/// Do not turn dead children into zombies (SIGCHLD only).
pub const SA_NOCLDWAIT: u64 = 0x0000_0002;
/// The handler takes `(int, siginfo_t *, void *ucontext)`.
pub const SA_SIGINFO: u64 = 0x0000_0004;
/// Never supported; lets user space probe that unknown flags are cleared.
pub const SA_UNSUPPORTED: u64 = 0x0000_0400;
/// Report tag bits of fault addresses (arm64 only in practice).
pub const SA_EXPOSE_TAGBITS: u64 = 0x0000_0800;
/// Run the handler on the alternate signal stack.
pub const SA_ONSTACK: u64 = 0x0800_0000;
/// Restart interrupted system calls (`-ERESTARTSYS` becomes a restart, not `EINTR`).
pub const SA_RESTART: u64 = 0x1000_0000;
/// Do not block the signal while its handler runs.
pub const SA_NODEFER: u64 = 0x4000_0000;
/// Reset the disposition to `SIG_DFL` when the handler is entered.
pub const SA_RESETHAND: u64 = 0x8000_0000;
/// Old name of [`SA_NODEFER`].
pub const SA_NOMASK: u64 = SA_NODEFER;
/// Old name of [`SA_RESETHAND`].
pub const SA_ONESHOT: u64 = SA_RESETHAND;
/// The flags Linux keeps in `sa_flags` (`UAPI_SA_FLAGS`; riscv64 adds no architecture flag).
/// Since Linux 5.11 every other bit is cleared, so rt_sigaction's old action reports only
/// these.
pub const SA_UAPI_FLAGS: u64 = SA_NOCLDSTOP
    | SA_NOCLDWAIT
    | SA_SIGINFO
    | SA_ONSTACK
    | SA_RESTART
    | SA_NODEFER
    | SA_RESETHAND
    | SA_EXPOSE_TAGBITS;

/// The riscv64 kernel's `struct sigaction` as rt_sigaction(2) reads and writes it.
///
/// Unlike x86_64 (`{handler, flags, restorer, mask}`, 32 bytes) riscv64 has no
/// `sa_restorer`: 24 bytes. glibc's user-facing `struct sigaction` is different (its mask
/// has 1024 bits); glibc converts before calling the kernel.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct SigAction {
    /// `sa_handler`/`sa_sigaction`: [`SIG_DFL`], [`SIG_IGN`] or the handler's address.
    pub sa_handler: u64,
    /// `SA_*` flags.
    pub sa_flags: u64,
    /// Signals blocked while the handler runs (besides the signal itself unless
    /// `SA_NODEFER`).
    pub sa_mask: SigSet,
}

/// A signal's disposition, decoded from [`SigAction::sa_handler`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// `SIG_DFL`: the signal's [`DefaultAction`].
    Default,
    /// `SIG_IGN`.
    Ignore,
    /// A user handler at this address.
    Handler(u64),
}

impl SigAction {
    /// What `sa_handler` asks for.
    pub const fn disposition(&self) -> Disposition {
        match self.sa_handler {
            SIG_DFL => Disposition::Default,
            SIG_IGN => Disposition::Ignore,
            address => Disposition::Handler(address),
        }
    }

    /// Whether delivering `signal` under this action would run no handler and have no effect
    /// (ignored explicitly, or by default).
    pub const fn ignores(&self, signal: Signal) -> bool {
        match self.disposition() {
            Disposition::Ignore => true,
            Disposition::Default => {
                matches!(signal.default_action(), DefaultAction::Ignore)
            }
            Disposition::Handler(_) => false,
        }
    }
}

// sigaltstack (include/uapi/linux/signal.h, asm-generic/signal.h).
/// `ss_flags` reported by sigaltstack: the thread is currently running on the stack.
pub const SS_ONSTACK: i32 = 1;
/// `ss_flags`: the alternate stack is disabled.
pub const SS_DISABLE: i32 = 2;
/// `ss_flags`: disable the alternate stack while a handler runs on it.
pub const SS_AUTODISARM: i32 = 1 << 31;
/// Flag bits sigaltstack accepts besides the mode.
pub const SS_FLAG_BITS: i32 = SS_AUTODISARM;
/// The smallest alternate stack sigaltstack accepts (`ENOMEM` below this).
pub const MINSIGSTKSZ: usize = 2048;
/// The suggested alternate stack size.
pub const SIGSTKSZ: usize = 8192;

/// `stack_t`: an alternate signal stack (sigaltstack(2), `uc_stack`).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct StackT {
    /// Base (lowest address) of the stack.
    pub ss_sp: u64,
    /// `SS_*` flags.
    pub ss_flags: i32,
    /// Padding before the 8-byte `ss_size`.
    pub _pad: u32,
    /// Size in bytes.
    pub ss_size: u64,
}

// si_code values (asm-generic/siginfo.h). Values <= 0 mean "sent by user space".
/// Sent by kill(2), raise(3).
pub const SI_USER: i32 = 0;
/// Sent by the kernel.
pub const SI_KERNEL: i32 = 0x80;
/// Sent by sigqueue(3) / rt_sigqueueinfo.
pub const SI_QUEUE: i32 = -1;
/// A POSIX timer expired.
pub const SI_TIMER: i32 = -2;
/// A POSIX message queue changed state.
pub const SI_MESGQ: i32 = -3;
/// Asynchronous I/O completed.
pub const SI_ASYNCIO: i32 = -4;
/// Queued SIGIO.
pub const SI_SIGIO: i32 = -5;
/// Sent by tkill(2) / tgkill(2).
pub const SI_TKILL: i32 = -6;
/// Sent by execve killing the other threads.
pub const SI_DETHREAD: i32 = -7;
/// glibc's asynchronous name lookup completed.
pub const SI_ASYNCNL: i32 = -60;

/// SIGILL: illegal opcode.
pub const ILL_ILLOPC: i32 = 1;
/// SIGILL: illegal operand.
pub const ILL_ILLOPN: i32 = 2;
/// SIGILL: illegal addressing mode.
pub const ILL_ILLADR: i32 = 3;
/// SIGILL: illegal trap.
pub const ILL_ILLTRP: i32 = 4;
/// SIGILL: privileged opcode.
pub const ILL_PRVOPC: i32 = 5;
/// SIGILL: privileged register.
pub const ILL_PRVREG: i32 = 6;
/// SIGILL: coprocessor error.
pub const ILL_COPROC: i32 = 7;
/// SIGILL: internal stack error.
pub const ILL_BADSTK: i32 = 8;

/// SIGFPE: integer divide by zero.
pub const FPE_INTDIV: i32 = 1;
/// SIGFPE: integer overflow.
pub const FPE_INTOVF: i32 = 2;
/// SIGFPE: floating-point divide by zero.
pub const FPE_FLTDIV: i32 = 3;
/// SIGFPE: floating-point overflow.
pub const FPE_FLTOVF: i32 = 4;
/// SIGFPE: floating-point underflow.
pub const FPE_FLTUND: i32 = 5;
/// SIGFPE: floating-point inexact result.
pub const FPE_FLTRES: i32 = 6;
/// SIGFPE: floating-point invalid operation.
pub const FPE_FLTINV: i32 = 7;
/// SIGFPE: subscript out of range.
pub const FPE_FLTSUB: i32 = 8;

/// SIGSEGV: address not mapped.
pub const SEGV_MAPERR: i32 = 1;
/// SIGSEGV: mapped, but the access is not permitted.
pub const SEGV_ACCERR: i32 = 2;

/// SIGBUS: misaligned address.
pub const BUS_ADRALN: i32 = 1;
/// SIGBUS: nonexistent physical address (e.g. beyond the end of a mapped file).
pub const BUS_ADRERR: i32 = 2;
/// SIGBUS: object-specific hardware error.
pub const BUS_OBJERR: i32 = 3;

/// SIGTRAP: breakpoint (`ebreak`).
pub const TRAP_BRKPT: i32 = 1;
/// SIGTRAP: trace trap.
pub const TRAP_TRACE: i32 = 2;
/// SIGTRAP: taken branch trap.
pub const TRAP_BRANCH: i32 = 3;
/// SIGTRAP: hardware breakpoint/watchpoint.
pub const TRAP_HWBKPT: i32 = 4;
/// SIGTRAP: undiagnosed trap.
pub const TRAP_UNK: i32 = 5;

/// SIGCHLD: the child exited (`si_status` is its exit code).
pub const CLD_EXITED: i32 = 1;
/// SIGCHLD: the child was killed (`si_status` is the signal).
pub const CLD_KILLED: i32 = 2;
/// SIGCHLD: the child was killed and dumped core.
pub const CLD_DUMPED: i32 = 3;
/// SIGCHLD: a traced child trapped.
pub const CLD_TRAPPED: i32 = 4;
/// SIGCHLD: the child stopped (`si_status` is the stop signal).
pub const CLD_STOPPED: i32 = 5;
/// SIGCHLD: a stopped child continued (`si_status` is SIGCONT).
pub const CLD_CONTINUED: i32 = 6;

/// SIGPOLL: data input available.
pub const POLL_IN: i32 = 1;
/// SIGPOLL: output buffers available.
pub const POLL_OUT: i32 = 2;
/// SIGPOLL: input message available.
pub const POLL_MSG: i32 = 3;
/// SIGPOLL: I/O error.
pub const POLL_ERR: i32 = 4;
/// SIGPOLL: high-priority input available.
pub const POLL_PRI: i32 = 5;
/// SIGPOLL: device disconnected.
pub const POLL_HUP: i32 = 6;

/// SIGSYS: seccomp triggered.
pub const SYS_SECCOMP: i32 = 1;

/// `siginfo_t` (128 bytes): what a `SA_SIGINFO` handler, waitid(2) and rt_sigtimedwait(2)
/// receive.
///
/// `si_signo`, `si_errno`, `si_code` come first (this order on riscv64; MIPS swaps the
/// last two), then 4 bytes of padding and the 8-byte-aligned union `_sifields` at offset 16,
/// kept here as raw words and reached through the constructors and accessors, whose
/// offsets within the union follow asm-generic/siginfo.h:
///
/// | layout            | +0            | +4      | +8                 | +16     | +24     |
/// |-------------------|---------------|---------|--------------------|---------|---------|
/// | kill, tkill       | pid (i32)     | uid     |                    |         |         |
/// | rt, queue         | pid           | uid     | sigval (u64)       |         |         |
/// | timer             | timer id      | overrun | sigval             |         |         |
/// | SIGCHLD           | pid           | uid     | status (i32)       | utime   | stime   |
/// | fault             | addr (u64)    |         | (trapno/lsb/...)   |         |         |
/// | SIGPOLL           | band (i64)    |         | fd (i32)           |         |         |
/// | SIGSYS            | call addr     |         | syscall (i32)      |         |         |
///
/// (SIGSYS's `si_arch`, a `u32`, follows `si_syscall` at +12.)
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct SigInfo {
    /// The signal number.
    pub si_signo: i32,
    /// An errno value; Linux leaves it 0 almost everywhere.
    pub si_errno: i32,
    /// `SI_*`, `CLD_*`, `SEGV_*` ...: why the signal was sent.
    pub si_code: i32,
    /// Padding before the 8-byte-aligned union.
    pub _pad: i32,
    /// `union __sifields` plus the padding up to 128 bytes.
    pub sifields: [u64; 14],
}

impl Default for SigInfo {
    fn default() -> Self {
        Self::new(0, 0)
    }
}

impl SigInfo {
    /// A siginfo with `si_signo` and `si_code` set and everything else zero.
    pub const fn new(signo: i32, code: i32) -> SigInfo {
        SigInfo {
            si_signo: signo,
            si_errno: 0,
            si_code: code,
            _pad: 0,
            sifields: [0; 14],
        }
    }

    /// `_kill` layout: sent by process `pid` of user `uid`; `code` is [`SI_USER`] for
    /// kill(2) and [`SI_TKILL`] for tkill/tgkill.
    pub fn kill(signal: Signal, code: i32, pid: i32, uid: u32) -> SigInfo {
        let mut info = SigInfo::new(signal.number() as i32, code);
        info.put_i32(0, pid);
        info.put_u32(4, uid);
        info
    }

    /// `_rt` layout (sigqueue, rt_sigqueueinfo): like [`SigInfo::kill`] plus a value.
    pub fn queued(signal: Signal, code: i32, pid: i32, uid: u32, value: u64) -> SigInfo {
        let mut info = SigInfo::kill(signal, code, pid, uid);
        info.put_u64(8, value);
        info
    }

    /// A signal the kernel raised itself with no further detail (`SI_KERNEL`).
    pub fn kernel(signal: Signal) -> SigInfo {
        SigInfo::new(signal.number() as i32, SI_KERNEL)
    }

    /// `_sigchld` layout: child `pid` (owned by `uid`) changed state. `code` is a `CLD_*`
    /// value; `status` is the exit code for [`CLD_EXITED`], otherwise the signal number;
    /// `utime`/`stime` are in clock ticks.
    pub fn child(code: i32, pid: i32, uid: u32, status: i32, utime: i64, stime: i64) -> SigInfo {
        let mut info = SigInfo::new(Signal::SIGCHLD.number() as i32, code);
        info.put_i32(0, pid);
        info.put_u32(4, uid);
        info.put_i32(8, status);
        info.put_u64(16, utime as u64);
        info.put_u64(24, stime as u64);
        info
    }

    /// `_sigfault` layout: `signal` (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) for an access
    /// at, or an instruction at, `addr`.
    pub fn fault(signal: Signal, code: i32, addr: u64) -> SigInfo {
        let mut info = SigInfo::new(signal.number() as i32, code);
        info.put_u64(0, addr);
        info
    }

    /// `_timer` layout: POSIX timer `timer_id` expired (`SI_TIMER`).
    pub fn timer(signal: Signal, timer_id: i32, overrun: i32, value: u64) -> SigInfo {
        let mut info = SigInfo::new(signal.number() as i32, SI_TIMER);
        info.put_i32(0, timer_id);
        info.put_i32(4, overrun);
        info.put_u64(8, value);
        info
    }

    /// `_sigpoll` layout: `band` (`POLL*` event bits) became ready on `fd`.
    pub fn poll(signal: Signal, code: i32, band: i64, fd: i32) -> SigInfo {
        let mut info = SigInfo::new(signal.number() as i32, code);
        info.put_u64(0, band as u64);
        info.put_i32(8, fd);
        info
    }

    /// The signal, if `si_signo` is a valid one.
    pub fn signal(&self) -> Option<Signal> {
        Signal::new(self.si_signo as u32)
    }

    /// `si_pid` (kill, rt, SIGCHLD layouts).
    pub fn pid(&self) -> i32 {
        self.get_i32(0)
    }

    /// `si_uid` (kill, rt, SIGCHLD layouts).
    pub fn uid(&self) -> u32 {
        self.get_i32(4) as u32
    }

    /// `si_status` (SIGCHLD layout).
    pub fn status(&self) -> i32 {
        self.get_i32(8)
    }

    /// `si_utime` (SIGCHLD layout), in clock ticks.
    pub fn utime(&self) -> i64 {
        self.get_u64(16) as i64
    }

    /// `si_stime` (SIGCHLD layout), in clock ticks.
    pub fn stime(&self) -> i64 {
        self.get_u64(24) as i64
    }

    /// `si_value` (rt and timer layouts).
    pub fn value(&self) -> u64 {
        self.get_u64(8)
    }

    /// `si_addr` (fault layout).
    pub fn addr(&self) -> u64 {
        self.get_u64(0)
    }

    /// `si_fd` (SIGPOLL layout).
    pub fn fd(&self) -> i32 {
        self.get_i32(8)
    }

    fn put_i32(&mut self, offset: usize, value: i32) {
        self.sifields.as_mut_bytes()[offset..offset + 4].copy_from_slice(&value.to_ne_bytes());
    }

    fn put_u32(&mut self, offset: usize, value: u32) {
        self.sifields.as_mut_bytes()[offset..offset + 4].copy_from_slice(&value.to_ne_bytes());
    }

    fn put_u64(&mut self, offset: usize, value: u64) {
        self.sifields.as_mut_bytes()[offset..offset + 8].copy_from_slice(&value.to_ne_bytes());
    }

    fn get_i32(&self, offset: usize) -> i32 {
        let mut bytes = [0; 4];
        bytes.copy_from_slice(&self.sifields.as_bytes()[offset..offset + 4]);
        i32::from_ne_bytes(bytes)
    }

    fn get_u64(&self, offset: usize) -> u64 {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(&self.sifields.as_bytes()[offset..offset + 8]);
        u64::from_ne_bytes(bytes)
    }
}

impl fmt::Debug for SigInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigInfo")
            .field("si_signo", &self.si_signo)
            .field("si_errno", &self.si_errno)
            .field("si_code", &self.si_code)
            .field("sifields", &&self.sifields[..4])
            .finish_non_exhaustive()
    }
}

/// Index of `pc` in [`UserRegs::regs`] (glibc's `REG_PC`).
pub const REG_PC: usize = 0;
/// Index of `ra` (x1).
pub const REG_RA: usize = 1;
/// Index of `sp` (x2).
pub const REG_SP: usize = 2;
/// Index of `gp` (x3).
pub const REG_GP: usize = 3;
/// Index of `tp` (x4), the thread pointer.
pub const REG_TP: usize = 4;
/// Index of `s0`/`fp` (x8).
pub const REG_S0: usize = 8;
/// Index of `a0` (x10): first argument and return value.
pub const REG_A0: usize = 10;
/// Index of `a7` (x17): the system-call number.
pub const REG_A7: usize = 17;

/// `struct user_regs_struct`: the user integer registers as signal frames, ptrace and core
/// dumps see them. Entry 0 is `pc`; entry `i` (1 to 31) is register `x<i>`.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct UserRegs {
    /// `pc, ra, sp, gp, tp, t0-t2, s0, s1, a0-a7, s2-s11, t3-t6`.
    pub regs: [u64; 32],
}

impl UserRegs {
    /// The program counter.
    pub const fn pc(&self) -> u64 {
        self.regs[REG_PC]
    }

    /// The stack pointer.
    pub const fn sp(&self) -> u64 {
        self.regs[REG_SP]
    }
}

/// Magic of the vector-state extension header in a signal frame.
pub const RISCV_V_MAGIC: u32 = 0x5346_5457;
/// Magic of the header that ends the extension list.
pub const END_MAGIC: u32 = 0;
/// `size` of the terminating header.
pub const END_HDR_SIZE: u32 = 0;

/// `struct __riscv_ctx_hdr`: header of one extension record after the FP state.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct CtxHeader {
    /// `RISCV_V_MAGIC`, or `END_MAGIC` for the last one.
    pub magic: u32,
    /// Size of the record including this header (0 for the end).
    pub size: u32,
}

/// The floating-point part of `struct sigcontext` (528 bytes, 16-byte aligned).
///
/// Linux declares it as a union of `__riscv_fp_state` (F, D and Q views) with
/// `__riscv_extra_ext_header`. For an RV64GC machine the D view is live: `f[32]` (64-bit
/// registers) and `fcsr` at offset 256. Since Linux 6.5 the last 12 bytes are also the
/// extension header area: `reserved` at 516 must be 0 (rt_sigreturn fails with SIGSEGV
/// otherwise) and `hdr` at 520 begins the extension list, which without the V extension is
/// just an END header (`{0, 0}`).
#[repr(C, align(16))]
#[derive(Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct FpState {
    /// `f0`-`f31` (D extension view).
    pub f: [u64; 32],
    /// `fcsr`.
    pub fcsr: u32,
    /// The rest of the Q-extension view (`f[64]`) that the D view does not use.
    pub _unused: [u32; 64],
    /// `__riscv_extra_ext_header.reserved` (= `q.reserved[0]`): must be zero.
    pub reserved: u32,
    /// First extension header (= `q.reserved[1..3]`).
    pub hdr: CtxHeader,
}

impl Default for FpState {
    fn default() -> Self {
        FpState {
            f: [0; 32],
            fcsr: 0,
            _unused: [0; 64],
            reserved: 0,
            hdr: CtxHeader::default(),
        }
    }
}

impl fmt::Debug for FpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FpState")
            .field("f", &self.f)
            .field("fcsr", &self.fcsr)
            .field("reserved", &self.reserved)
            .field("hdr", &self.hdr)
            .finish_non_exhaustive()
    }
}

/// `struct sigcontext` (= `mcontext_t`): registers saved when a handler is entered and
/// restored by rt_sigreturn. 784 bytes.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct SigContext {
    /// `sc_regs`: pc and x1-x31.
    pub sc_regs: UserRegs,
    /// `sc_fpregs` / `sc_extdesc`.
    pub sc_fpregs: FpState,
}

/// glibc's name for [`SigContext`].
pub type MContext = SigContext;

/// `struct ucontext` for riscv64 (960 bytes): the third argument of a `SA_SIGINFO` handler.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct UContext {
    /// `uc_flags`: Linux writes 0.
    pub uc_flags: u64,
    /// `uc_link`: Linux writes 0 (NULL).
    pub uc_link: u64,
    /// `uc_stack`: the alternate-stack settings at delivery (`__save_altstack`).
    pub uc_stack: StackT,
    /// `uc_sigmask`: the blocked set to restore on rt_sigreturn.
    pub uc_sigmask: SigSet,
    /// `__unused`: room for a larger sigset, `1024 / 8 - sizeof(sigset_t)` = 120 bytes.
    pub _unused: [u8; 120],
    /// Alignment padding: `uc_mcontext` is 16-byte aligned, at offset 176.
    pub _align: [u8; 8],
    /// `uc_mcontext`.
    pub uc_mcontext: SigContext,
}

impl Default for UContext {
    fn default() -> Self {
        UContext {
            uc_flags: 0,
            uc_link: 0,
            uc_stack: StackT::default(),
            uc_sigmask: SigSet::EMPTY,
            _unused: [0; 120],
            _align: [0; 8],
            uc_mcontext: SigContext::default(),
        }
    }
}

impl fmt::Debug for UContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UContext")
            .field("uc_flags", &self.uc_flags)
            .field("uc_link", &self.uc_link)
            .field("uc_stack", &self.uc_stack)
            .field("uc_sigmask", &self.uc_sigmask)
            .field("uc_mcontext", &self.uc_mcontext)
            .finish_non_exhaustive()
    }
}

/// `struct rt_sigframe` (arch/riscv/kernel/signal.c): what Linux pushes on the user stack to
/// run a handler (1088 bytes). The handler is entered with `a0` = signal number, `a1` =
/// `&info`, `a2` = `&uc`, `sp` = the frame, `ra` = the sigreturn trampoline; rt_sigreturn
/// finds the frame at `sp`.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct RtSigFrame {
    /// `info`.
    pub info: SigInfo,
    /// `uc`.
    pub uc: UContext,
}

impl RtSigFrame {
    /// The frame's size; also the `AT_MINSIGSTKSZ` Linux reports on a machine without the
    /// V extension (`get_rt_frame_size`, already a multiple of 16).
    pub const SIZE: usize = core::mem::size_of::<RtSigFrame>();

    /// Where Linux places the frame below stack pointer `sp` (`get_sigframe`): `sp - SIZE`
    /// rounded down to 16 bytes. `sp` is the thread's `sp`, or the top of the alternate
    /// stack when switching to it.
    pub const fn address_below(sp: u64) -> u64 {
        sp.wrapping_sub(Self::SIZE as u64) & !0xf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

    #[test]
    fn numbers_match_linux() {
        assert_eq!(Signal::SIGHUP.number(), 1);
        assert_eq!(Signal::SIGKILL.number(), 9);
        assert_eq!(Signal::SIGSEGV.number(), 11);
        assert_eq!(Signal::SIGCHLD.number(), 17);
        assert_eq!(Signal::SIGCONT.number(), 18);
        assert_eq!(Signal::SIGSTOP.number(), 19);
        assert_eq!(Signal::SIGWINCH.number(), 28);
        assert_eq!(Signal::SIGSYS.number(), 31);
        assert_eq!(Signal::new(0), None);
        assert_eq!(Signal::new(65), None);
        assert_eq!(Signal::new(64).map(Signal::is_realtime), Some(true));
        assert_eq!(Signal::realtime(0), Signal::new(32));
        assert_eq!(Signal::realtime(33), None);
        assert_eq!(Signal::SIGINT.name(), Some("SIGINT"));
        assert_eq!(format!("{:?}", Signal::new(34).unwrap()), "SIGRTMIN+2");
        assert_eq!(SA_RESTART, 0x1000_0000);
        assert_eq!(SA_SIGINFO, 4);
        assert_eq!(SA_ONSTACK, 0x0800_0000);
        assert_eq!(SI_TKILL, -6);
        assert_eq!(SI_KERNEL, 0x80);
        assert_eq!(CLD_CONTINUED, 6);
        assert_eq!(BUS_ADRERR, 2);
        assert_eq!(SS_AUTODISARM as u32, 0x8000_0000);
    }

    #[test]
    fn default_actions_follow_signal_7() {
        use DefaultAction::*;
        assert_eq!(Signal::SIGTERM.default_action(), Terminate);
        assert_eq!(Signal::SIGSEGV.default_action(), CoreDump);
        assert_eq!(Signal::SIGQUIT.default_action(), CoreDump);
        assert_eq!(Signal::SIGXFSZ.default_action(), CoreDump);
        assert_eq!(Signal::SIGCHLD.default_action(), Ignore);
        assert_eq!(Signal::SIGWINCH.default_action(), Ignore);
        assert_eq!(Signal::SIGURG.default_action(), Ignore);
        assert_eq!(Signal::SIGCONT.default_action(), Continue);
        assert_eq!(Signal::SIGTSTP.default_action(), Stop);
        assert_eq!(Signal::SIGTTOU.default_action(), Stop);
        assert_eq!(Signal::new(40).unwrap().default_action(), Terminate);
        for signal in SigSet::STOP.iter() {
            assert_eq!(signal.default_action(), Stop);
        }
    }

    #[test]
    fn sigset_operations() {
        let set = SigSet::EMPTY
            .with(Signal::SIGINT)
            .with(Signal::SIGSEGV)
            .with(Signal::SIGKILL);
        assert_eq!(set.0, (1 << 1) | (1 << 10) | (1 << 8));
        assert!(set.contains(Signal::SIGINT));
        assert!(!set.contains(Signal::SIGHUP));
        assert_eq!(set.lowest(), Some(Signal::SIGINT));
        assert_eq!(set.next_to_deliver(), Some(Signal::SIGSEGV));
        assert!(!set.blockable().contains(Signal::SIGKILL));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [Signal::SIGINT, Signal::SIGKILL, Signal::SIGSEGV]
        );
        assert_eq!(SigSet::of(Signal::new(64).unwrap()).0, 1 << 63);
        assert_eq!(SigSet::FULL.iter().count(), 64);
        assert_eq!((!SigSet::EMPTY), SigSet::FULL);
        assert_eq!(SigSet::SIZE, 8);
    }

    #[test]
    fn sigaction_is_the_riscv_kernel_layout() {
        assert_eq!(size_of::<SigAction>(), 24);
        assert_eq!(offset_of!(SigAction, sa_flags), 8);
        assert_eq!(offset_of!(SigAction, sa_mask), 16);
        let action = SigAction {
            sa_handler: SIG_IGN,
            ..Default::default()
        };
        assert_eq!(action.disposition(), Disposition::Ignore);
        assert!(SigAction::default().ignores(Signal::SIGCHLD));
        assert!(!SigAction::default().ignores(Signal::SIGTERM));
        assert_eq!(SA_UAPI_FLAGS & SA_UNSUPPORTED, 0);
    }

    #[test]
    fn stack_t_layout() {
        assert_eq!(size_of::<StackT>(), 24);
        assert_eq!(offset_of!(StackT, ss_flags), 8);
        assert_eq!(offset_of!(StackT, ss_size), 16);
    }

    #[test]
    fn siginfo_layout() {
        assert_eq!(size_of::<SigInfo>(), 128);
        assert_eq!(align_of::<SigInfo>(), 8);
        assert_eq!(offset_of!(SigInfo, si_errno), 4);
        assert_eq!(offset_of!(SigInfo, si_code), 8);
        assert_eq!(offset_of!(SigInfo, sifields), 16);

        let bytes_of = |info: &SigInfo| info.as_bytes().to_vec();
        let read_i32 =
            |bytes: &[u8], at: usize| i32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap());
        let read_u64 =
            |bytes: &[u8], at: usize| u64::from_ne_bytes(bytes[at..at + 8].try_into().unwrap());

        // si_pid at 16, si_uid at 20 (kill); si_status at 24, si_utime 32, si_stime 40.
        let child = SigInfo::child(CLD_EXITED, 42, 1000, 3, 7, 9);
        let bytes = bytes_of(&child);
        assert_eq!(read_i32(&bytes, 0), 17);
        assert_eq!(read_i32(&bytes, 8), CLD_EXITED);
        assert_eq!(read_i32(&bytes, 16), 42);
        assert_eq!(read_i32(&bytes, 20), 1000);
        assert_eq!(read_i32(&bytes, 24), 3);
        assert_eq!(read_u64(&bytes, 32), 7);
        assert_eq!(read_u64(&bytes, 40), 9);
        assert_eq!((child.pid(), child.uid(), child.status()), (42, 1000, 3));
        assert_eq!((child.utime(), child.stime()), (7, 9));

        // si_addr at 16.
        let fault = SigInfo::fault(Signal::SIGSEGV, SEGV_MAPERR, 0xdead_beef);
        assert_eq!(read_u64(&bytes_of(&fault), 16), 0xdead_beef);
        assert_eq!(fault.addr(), 0xdead_beef);

        // si_value at 24.
        let queued = SigInfo::queued(Signal::SIGUSR1, SI_QUEUE, 5, 0, 77);
        assert_eq!(read_u64(&bytes_of(&queued), 24), 77);
        let killed = SigInfo::kill(Signal::SIGTERM, SI_USER, 5, 0);
        assert_eq!(
            (killed.signal(), killed.pid(), killed.si_code),
            (Some(Signal::SIGTERM), 5, 0)
        );
        // si_fd at 24.
        assert_eq!(
            read_i32(&bytes_of(&SigInfo::poll(Signal::SIGIO, POLL_IN, 1, 6)), 24),
            6
        );
    }

    #[test]
    fn signal_frame_layout() {
        assert_eq!(size_of::<UserRegs>(), 256);
        assert_eq!(size_of::<CtxHeader>(), 8);
        assert_eq!(size_of::<FpState>(), 528);
        assert_eq!(align_of::<FpState>(), 16);
        assert_eq!(offset_of!(FpState, fcsr), 256);
        assert_eq!(offset_of!(FpState, reserved), 516);
        assert_eq!(offset_of!(FpState, hdr), 520);

        assert_eq!(size_of::<SigContext>(), 784);
        assert_eq!(offset_of!(SigContext, sc_fpregs), 256);

        assert_eq!(size_of::<UContext>(), 960);
        assert_eq!(align_of::<UContext>(), 16);
        assert_eq!(offset_of!(UContext, uc_link), 8);
        assert_eq!(offset_of!(UContext, uc_stack), 16);
        assert_eq!(offset_of!(UContext, uc_sigmask), 40);
        assert_eq!(offset_of!(UContext, _unused), 48);
        assert_eq!(offset_of!(UContext, uc_mcontext), 176);

        assert_eq!(size_of::<RtSigFrame>(), 1088);
        assert_eq!(offset_of!(RtSigFrame, uc), 128);
        assert_eq!(RtSigFrame::SIZE % 16, 0);
        assert_eq!(RtSigFrame::address_below(0x4000_0000), 0x4000_0000 - 1088);
        assert_eq!(RtSigFrame::address_below(0x4000_0008) % 16, 0);
    }
}
