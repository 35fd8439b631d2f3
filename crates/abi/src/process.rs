//! Process and thread ABI: clone flags and `clone_args`, wait options and wait-status
//! encoding, resource limits and usage, `utsname`, `sysinfo`, reboot magic, futex
//! operations and the robust-list head, prctl options, and the ELF auxiliary-vector keys
//! the loader puts on a new stack.
//!
//! Sources: include/uapi/linux/{sched,wait,resource,utsname,sysinfo,reboot,futex,prctl,
//! auxvec}.h, include/uapi/asm-generic/resource.h, arch/riscv/include/uapi/asm/{auxvec,
//! hwcap}.h, glibc's bits/waitstatus.h. One riscv64 surprise lives here: riscv selects
//! `CONFIG_CLONE_BACKWARDS`, so clone(2) takes `(flags, stack, parent_tid, tls, child_tid)`
//! — `tls` before `child_tid`, unlike x86_64 ([`CloneArgs::from_clone`]).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::time::Timeval;

// clone(2)/clone3(2) flags (include/uapi/linux/sched.h).
/// clone(2): the low byte of the flags is the signal sent to the parent on exit.
pub const CSIGNAL: u64 = 0x0000_00ff;
/// New time namespace (clone3/unshare only: it shares a bit with `CSIGNAL`).
pub const CLONE_NEWTIME: u64 = 0x0000_0080;
/// Share the address space (a thread, or vfork).
pub const CLONE_VM: u64 = 0x0000_0100;
/// Share root, cwd and umask.
pub const CLONE_FS: u64 = 0x0000_0200;
/// Share the descriptor table.
pub const CLONE_FILES: u64 = 0x0000_0400;
/// Share signal handlers (requires `CLONE_VM`).
pub const CLONE_SIGHAND: u64 = 0x0000_0800;
/// Return a pidfd for the child (in `parent_tid` for clone(2)).
pub const CLONE_PIDFD: u64 = 0x0000_1000;
/// Let a tracer trace the child too.
pub const CLONE_PTRACE: u64 = 0x0000_2000;
/// Suspend the parent until the child execs or exits.
pub const CLONE_VFORK: u64 = 0x0000_4000;
/// The child's parent is the caller's parent.
pub const CLONE_PARENT: u64 = 0x0000_8000;
/// Same thread group: a thread (requires `CLONE_SIGHAND`).
pub const CLONE_THREAD: u64 = 0x0001_0000;
/// New mount namespace.
pub const CLONE_NEWNS: u64 = 0x0002_0000;
/// Share System V semaphore undo lists.
pub const CLONE_SYSVSEM: u64 = 0x0004_0000;
/// Set the child's thread pointer (`tp`) to `tls`.
pub const CLONE_SETTLS: u64 = 0x0008_0000;
/// Store the child's tid at `parent_tid` in the parent.
pub const CLONE_PARENT_SETTID: u64 = 0x0010_0000;
/// On child exit, write 0 to `child_tid` and futex-wake it (set_tid_address).
pub const CLONE_CHILD_CLEARTID: u64 = 0x0020_0000;
/// Unused, ignored.
pub const CLONE_DETACHED: u64 = 0x0040_0000;
/// A tracer cannot force `CLONE_PTRACE`.
pub const CLONE_UNTRACED: u64 = 0x0080_0000;
/// Store the child's tid at `child_tid` in the child.
pub const CLONE_CHILD_SETTID: u64 = 0x0100_0000;
/// New cgroup namespace.
pub const CLONE_NEWCGROUP: u64 = 0x0200_0000;
/// New UTS namespace.
pub const CLONE_NEWUTS: u64 = 0x0400_0000;
/// New IPC namespace.
pub const CLONE_NEWIPC: u64 = 0x0800_0000;
/// New user namespace.
pub const CLONE_NEWUSER: u64 = 0x1000_0000;
/// New PID namespace.
pub const CLONE_NEWPID: u64 = 0x2000_0000;
/// New network namespace.
pub const CLONE_NEWNET: u64 = 0x4000_0000;
/// Share the I/O context.
pub const CLONE_IO: u64 = 0x8000_0000;
/// clone3: reset all signal handlers to `SIG_DFL` in the child.
pub const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
/// clone3: start the child in the cgroup `cgroup`.
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `sizeof` the first published `struct clone_args` (up to `tls`).
pub const CLONE_ARGS_SIZE_VER0: usize = 64;
/// `sizeof` with `set_tid`/`set_tid_size`.
pub const CLONE_ARGS_SIZE_VER1: usize = 80;
/// `sizeof` with `cgroup`.
pub const CLONE_ARGS_SIZE_VER2: usize = 88;

/// `struct clone_args` (clone3(2), 88 bytes). clone3 accepts any size from
/// [`CLONE_ARGS_SIZE_VER0`] up, treating missing fields as zero and requiring bytes beyond
/// the known struct to be zero (`E2BIG` otherwise).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct CloneArgs {
    /// `CLONE_*` flags (no `CSIGNAL` bits: the exit signal has its own field).
    pub flags: u64,
    /// Where to store a pidfd (`CLONE_PIDFD`).
    pub pidfd: u64,
    /// Where to store the tid in the child (`CLONE_CHILD_SETTID`/`CLEARTID`).
    pub child_tid: u64,
    /// Where to store the tid in the parent (`CLONE_PARENT_SETTID`).
    pub parent_tid: u64,
    /// Signal sent to the parent when the child exits (`SIGCHLD` for fork).
    pub exit_signal: u64,
    /// Lowest address of the child's stack (clone3), or 0 to keep the parent's `sp`.
    pub stack: u64,
    /// Size of the stack; the child starts with `sp = stack + stack_size`.
    pub stack_size: u64,
    /// Thread pointer for `CLONE_SETTLS`.
    pub tls: u64,
    /// Array of tids to use in each PID namespace.
    pub set_tid: u64,
    /// Number of entries in `set_tid`.
    pub set_tid_size: u64,
    /// cgroup descriptor for `CLONE_INTO_CGROUP`.
    pub cgroup: u64,
}

impl CloneArgs {
    /// The arguments of a clone(2) call from its riscv64 registers `a0`-`a4`, as Linux's
    /// `sys_clone` builds them (`CONFIG_CLONE_BACKWARDS`: `tls` comes before `child_tid`).
    /// Only the low 32 bits of the flags count; the low byte is the exit signal; `stack` is
    /// the new stack pointer itself (`stack_size` stays 0); a `CLONE_PIDFD` pidfd goes to
    /// `parent_tid`.
    pub const fn from_clone(
        flags: u64,
        stack: u64,
        parent_tid: u64,
        tls: u64,
        child_tid: u64,
    ) -> CloneArgs {
        let flags = flags & 0xffff_ffff;
        CloneArgs {
            flags: flags & !CSIGNAL,
            pidfd: parent_tid,
            child_tid,
            parent_tid,
            exit_signal: flags & CSIGNAL,
            stack,
            stack_size: 0,
            tls,
            set_tid: 0,
            set_tid_size: 0,
            cgroup: 0,
        }
    }
}

// wait4/waitid options (include/uapi/linux/wait.h).
/// Return at once if no child has changed state.
pub const WNOHANG: u32 = 0x0000_0001;
/// Also report stopped children (wait4).
pub const WUNTRACED: u32 = 0x0000_0002;
/// Report stopped children (waitid).
pub const WSTOPPED: u32 = WUNTRACED;
/// Report exited children (waitid).
pub const WEXITED: u32 = 0x0000_0004;
/// Report continued children.
pub const WCONTINUED: u32 = 0x0000_0008;
/// Leave the child waitable (waitid).
pub const WNOWAIT: u32 = 0x0100_0000;
/// Do not wait for children of other threads in the group.
pub const __WNOTHREAD: u32 = 0x2000_0000;
/// Wait for all children, whatever their exit signal.
pub const __WALL: u32 = 0x4000_0000;
/// Wait only for "clone" children (exit signal other than SIGCHLD).
pub const __WCLONE: u32 = 0x8000_0000;

// waitid idtype.
/// Any child.
pub const P_ALL: u32 = 0;
/// The child with this pid.
pub const P_PID: u32 = 1;
/// Any child in this process group.
pub const P_PGID: u32 = 2;
/// The child behind this pidfd.
pub const P_PIDFD: u32 = 3;

/// A wait status: the `int` wait4(2) stores through `wstatus`, encoded as Linux does and
/// decoded as glibc's `W*` macros do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WaitStatus(pub i32);

impl WaitStatus {
    /// The child called exit(`code`): `(code & 0xff) << 8`.
    pub const fn exited(code: i32) -> WaitStatus {
        WaitStatus((code & 0xff) << 8)
    }

    /// The child was killed by `signal`, dumping core if `core_dumped`:
    /// `signal | 0x80 if core`.
    pub const fn signaled(signal: u32, core_dumped: bool) -> WaitStatus {
        WaitStatus((signal & 0x7f) as i32 | if core_dumped { 0x80 } else { 0 })
    }

    /// The child stopped on `signal`: `signal << 8 | 0x7f`.
    pub const fn stopped(signal: u32) -> WaitStatus {
        WaitStatus((((signal & 0xff) as i32) << 8) | 0x7f)
    }

    /// The child was continued by SIGCONT: `0xffff`.
    pub const fn continued() -> WaitStatus {
        WaitStatus(0xffff)
    }

    /// `WIFEXITED`.
    pub const fn is_exited(self) -> bool {
        self.0 & 0x7f == 0
    }

    /// `WEXITSTATUS`.
    pub const fn exit_status(self) -> i32 {
        (self.0 & 0xff00) >> 8
    }

    /// `WIFSIGNALED`.
    pub const fn is_signaled(self) -> bool {
        (((self.0 & 0x7f) + 1) as i8 >> 1) > 0
    }

    /// `WTERMSIG`.
    pub const fn term_signal(self) -> i32 {
        self.0 & 0x7f
    }

    /// `WCOREDUMP`.
    pub const fn core_dumped(self) -> bool {
        self.0 & 0x80 != 0
    }

    /// `WIFSTOPPED`.
    pub const fn is_stopped(self) -> bool {
        self.0 & 0xff == 0x7f
    }

    /// `WSTOPSIG`.
    pub const fn stop_signal(self) -> i32 {
        self.exit_status()
    }

    /// `WIFCONTINUED`.
    pub const fn is_continued(self) -> bool {
        self.0 == 0xffff
    }
}

/// `struct rusage` (144 bytes): getrusage(2), wait4(2).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Rusage {
    /// User CPU time.
    pub ru_utime: Timeval,
    /// System CPU time.
    pub ru_stime: Timeval,
    /// Maximum resident set size, KiB.
    pub ru_maxrss: i64,
    /// Unused.
    pub ru_ixrss: i64,
    /// Unused.
    pub ru_idrss: i64,
    /// Unused.
    pub ru_isrss: i64,
    /// Minor page faults.
    pub ru_minflt: i64,
    /// Major page faults.
    pub ru_majflt: i64,
    /// Unused.
    pub ru_nswap: i64,
    /// Block input operations.
    pub ru_inblock: i64,
    /// Block output operations.
    pub ru_oublock: i64,
    /// Unused.
    pub ru_msgsnd: i64,
    /// Unused.
    pub ru_msgrcv: i64,
    /// Unused.
    pub ru_nsignals: i64,
    /// Voluntary context switches.
    pub ru_nvcsw: i64,
    /// Involuntary context switches.
    pub ru_nivcsw: i64,
}

// getrusage `who`.
/// The calling process.
pub const RUSAGE_SELF: i32 = 0;
/// Its waited-for children.
pub const RUSAGE_CHILDREN: i32 = -1;
/// The calling thread.
pub const RUSAGE_THREAD: i32 = 1;

// Resources (asm-generic/resource.h).
/// CPU time, seconds.
pub const RLIMIT_CPU: u32 = 0;
/// File size, bytes.
pub const RLIMIT_FSIZE: u32 = 1;
/// Data segment size.
pub const RLIMIT_DATA: u32 = 2;
/// Stack size (8 MiB by default).
pub const RLIMIT_STACK: u32 = 3;
/// Core file size.
pub const RLIMIT_CORE: u32 = 4;
/// Resident set size.
pub const RLIMIT_RSS: u32 = 5;
/// Number of processes.
pub const RLIMIT_NPROC: u32 = 6;
/// Number of open files (1024 soft / 4096 hard by default).
pub const RLIMIT_NOFILE: u32 = 7;
/// Locked memory.
pub const RLIMIT_MEMLOCK: u32 = 8;
/// Address-space size.
pub const RLIMIT_AS: u32 = 9;
/// File locks.
pub const RLIMIT_LOCKS: u32 = 10;
/// Pending signals.
pub const RLIMIT_SIGPENDING: u32 = 11;
/// POSIX message-queue bytes.
pub const RLIMIT_MSGQUEUE: u32 = 12;
/// Nice ceiling.
pub const RLIMIT_NICE: u32 = 13;
/// Real-time priority ceiling.
pub const RLIMIT_RTPRIO: u32 = 14;
/// Real-time CPU time, microseconds.
pub const RLIMIT_RTTIME: u32 = 15;
/// Number of resources.
pub const RLIM_NLIMITS: u32 = 16;
/// No limit.
pub const RLIM_INFINITY: u64 = u64::MAX;

/// `struct rlimit` / `struct rlimit64` (16 bytes; the same on 64-bit).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Rlimit {
    /// Soft limit.
    pub rlim_cur: u64,
    /// Hard limit (ceiling for the soft limit).
    pub rlim_max: u64,
}

impl Rlimit {
    /// No limit at all.
    pub const INFINITY: Rlimit = Rlimit {
        rlim_cur: RLIM_INFINITY,
        rlim_max: RLIM_INFINITY,
    };
}

// getpriority/setpriority.
/// A process.
pub const PRIO_PROCESS: u32 = 0;
/// A process group.
pub const PRIO_PGRP: u32 = 1;
/// A user.
pub const PRIO_USER: u32 = 2;

// Scheduling policies.
/// The default time-sharing policy.
pub const SCHED_NORMAL: u32 = 0;
/// First-in first-out real time.
pub const SCHED_FIFO: u32 = 1;
/// Round-robin real time.
pub const SCHED_RR: u32 = 2;
/// Batch.
pub const SCHED_BATCH: u32 = 3;
/// Very low priority.
pub const SCHED_IDLE: u32 = 5;
/// Deadline.
pub const SCHED_DEADLINE: u32 = 6;

/// Length of each `utsname` field including the NUL (`__NEW_UTS_LEN + 1`).
pub const UTSNAME_FIELD_LEN: usize = 65;

/// `struct new_utsname` (6 x 65 = 390 bytes): uname(2).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Utsname {
    /// "Linux".
    pub sysname: [u8; UTSNAME_FIELD_LEN],
    /// Host name.
    pub nodename: [u8; UTSNAME_FIELD_LEN],
    /// Kernel release ("6.12.0").
    pub release: [u8; UTSNAME_FIELD_LEN],
    /// Kernel version ("#1 SMP ...").
    pub version: [u8; UTSNAME_FIELD_LEN],
    /// "riscv64".
    pub machine: [u8; UTSNAME_FIELD_LEN],
    /// NIS domain name ("(none)" on Linux by default).
    pub domainname: [u8; UTSNAME_FIELD_LEN],
}

impl Utsname {
    /// A utsname from six strings, each truncated to 64 bytes and NUL-padded.
    pub fn new(
        sysname: &str,
        nodename: &str,
        release: &str,
        version: &str,
        machine: &str,
        domainname: &str,
    ) -> Utsname {
        fn field(text: &str) -> [u8; UTSNAME_FIELD_LEN] {
            let mut bytes = [0; UTSNAME_FIELD_LEN];
            let length = text.len().min(UTSNAME_FIELD_LEN - 1);
            bytes[..length].copy_from_slice(&text.as_bytes()[..length]);
            bytes
        }
        Utsname {
            sysname: field(sysname),
            nodename: field(nodename),
            release: field(release),
            version: field(version),
            machine: field(machine),
            domainname: field(domainname),
        }
    }
}

/// Fixed-point shift of `Sysinfo::loads` (load 1.0 = `1 << 16`).
pub const SI_LOAD_SHIFT: u32 = 16;

/// `struct sysinfo` on 64-bit (112 bytes): sysinfo(2).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Sysinfo {
    /// Seconds since boot.
    pub uptime: i64,
    /// 1, 5 and 15-minute load averages, fixed point ([`SI_LOAD_SHIFT`]).
    pub loads: [u64; 3],
    /// Total usable RAM, in `mem_unit`s.
    pub totalram: u64,
    /// Free RAM.
    pub freeram: u64,
    /// Shared RAM.
    pub sharedram: u64,
    /// RAM used by buffers.
    pub bufferram: u64,
    /// Total swap.
    pub totalswap: u64,
    /// Free swap.
    pub freeswap: u64,
    /// Number of processes (threads, in fact).
    pub procs: u16,
    /// Explicit padding in the header.
    pub pad: u16,
    /// Implicit alignment padding before `totalhigh`.
    pub _pad1: u32,
    /// Total high memory (0 on 64-bit).
    pub totalhigh: u64,
    /// Free high memory.
    pub freehigh: u64,
    /// Unit of the memory sizes, bytes.
    pub mem_unit: u32,
    /// `_f`: zero bytes on 64-bit, then the struct's tail padding.
    pub _f: [u8; 4],
}

// reboot(2) (include/uapi/linux/reboot.h).
/// First magic argument.
pub const LINUX_REBOOT_MAGIC1: u32 = 0xfee1_dead;
/// Second magic argument (Linus' birthday).
pub const LINUX_REBOOT_MAGIC2: u32 = 672_274_793;
/// Alternative second magic.
pub const LINUX_REBOOT_MAGIC2A: u32 = 85_072_278;
/// Alternative second magic.
pub const LINUX_REBOOT_MAGIC2B: u32 = 369_367_448;
/// Alternative second magic.
pub const LINUX_REBOOT_MAGIC2C: u32 = 537_993_216;
/// Restart.
pub const LINUX_REBOOT_CMD_RESTART: u32 = 0x0123_4567;
/// Halt.
pub const LINUX_REBOOT_CMD_HALT: u32 = 0xCDEF_0123;
/// Ctrl-Alt-Del reboots.
pub const LINUX_REBOOT_CMD_CAD_ON: u32 = 0x89AB_CDEF;
/// Ctrl-Alt-Del sends SIGINT to init.
pub const LINUX_REBOOT_CMD_CAD_OFF: u32 = 0x0000_0000;
/// Power off (ends QEMU).
pub const LINUX_REBOOT_CMD_POWER_OFF: u32 = 0x4321_FEDC;
/// Restart with a command string.
pub const LINUX_REBOOT_CMD_RESTART2: u32 = 0xA1B2_C3D4;
/// Hibernate.
pub const LINUX_REBOOT_CMD_SW_SUSPEND: u32 = 0xD000_FCE2;
/// Boot a kexec-loaded kernel.
pub const LINUX_REBOOT_CMD_KEXEC: u32 = 0x4558_4543;

/// Whether `magic2` is one of the second magic numbers reboot(2) accepts.
pub const fn is_reboot_magic2(magic2: u32) -> bool {
    matches!(
        magic2,
        LINUX_REBOOT_MAGIC2 | LINUX_REBOOT_MAGIC2A | LINUX_REBOOT_MAGIC2B | LINUX_REBOOT_MAGIC2C
    )
}

// futex(2) operations (include/uapi/linux/futex.h).
/// Wait if `*uaddr == val`.
pub const FUTEX_WAIT: u32 = 0;
/// Wake up to `val` waiters.
pub const FUTEX_WAKE: u32 = 1;
/// Obsolete.
pub const FUTEX_FD: u32 = 2;
/// Wake `val`, requeue the rest to `uaddr2`.
pub const FUTEX_REQUEUE: u32 = 3;
/// `FUTEX_REQUEUE` if `*uaddr == val3`.
pub const FUTEX_CMP_REQUEUE: u32 = 4;
/// Modify `*uaddr2` and wake on both.
pub const FUTEX_WAKE_OP: u32 = 5;
/// Priority-inheritance lock.
pub const FUTEX_LOCK_PI: u32 = 6;
/// Priority-inheritance unlock.
pub const FUTEX_UNLOCK_PI: u32 = 7;
/// Priority-inheritance try-lock.
pub const FUTEX_TRYLOCK_PI: u32 = 8;
/// `FUTEX_WAIT` with a bitset and an absolute timeout.
pub const FUTEX_WAIT_BITSET: u32 = 9;
/// `FUTEX_WAKE` with a bitset.
pub const FUTEX_WAKE_BITSET: u32 = 10;
/// Wait, to be requeued to a PI futex.
pub const FUTEX_WAIT_REQUEUE_PI: u32 = 11;
/// Requeue to a PI futex.
pub const FUTEX_CMP_REQUEUE_PI: u32 = 12;
/// PI lock with clock selection.
pub const FUTEX_LOCK_PI2: u32 = 13;
/// The futex is private to the process (no shared-memory lookup).
pub const FUTEX_PRIVATE_FLAG: u32 = 128;
/// Timeouts are `CLOCK_REALTIME` rather than `CLOCK_MONOTONIC`.
pub const FUTEX_CLOCK_REALTIME: u32 = 256;
/// Mask that extracts the command from the operation.
pub const FUTEX_CMD_MASK: u32 = !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
/// `FUTEX_WAIT | FUTEX_PRIVATE_FLAG`.
pub const FUTEX_WAIT_PRIVATE: u32 = FUTEX_WAIT | FUTEX_PRIVATE_FLAG;
/// `FUTEX_WAKE | FUTEX_PRIVATE_FLAG`.
pub const FUTEX_WAKE_PRIVATE: u32 = FUTEX_WAKE | FUTEX_PRIVATE_FLAG;
/// The bitset that matches every waiter.
pub const FUTEX_BITSET_MATCH_ANY: u32 = 0xffff_ffff;
/// Robust futex: there are waiters.
pub const FUTEX_WAITERS: u32 = 0x8000_0000;
/// Robust futex: the owner died.
pub const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
/// Robust futex: the owner's tid.
pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
/// At most this many robust-list entries are walked at exit.
pub const ROBUST_LIST_LIMIT: usize = 2048;

// FUTEX_WAKE_OP encoding: op << 28 | cmp << 24 | oparg << 12 | cmparg.
/// `*uaddr2 = oparg`.
pub const FUTEX_OP_SET: u32 = 0;
/// `*uaddr2 += oparg`.
pub const FUTEX_OP_ADD: u32 = 1;
/// `*uaddr2 |= oparg`.
pub const FUTEX_OP_OR: u32 = 2;
/// `*uaddr2 &= !oparg`.
pub const FUTEX_OP_ANDN: u32 = 3;
/// `*uaddr2 ^= oparg`.
pub const FUTEX_OP_XOR: u32 = 4;
/// Use `1 << oparg` as the operand.
pub const FUTEX_OP_OPARG_SHIFT: u32 = 8;
/// Wake if `oldval == cmparg`.
pub const FUTEX_OP_CMP_EQ: u32 = 0;
/// Wake if `oldval != cmparg`.
pub const FUTEX_OP_CMP_NE: u32 = 1;
/// Wake if `oldval < cmparg`.
pub const FUTEX_OP_CMP_LT: u32 = 2;
/// Wake if `oldval <= cmparg`.
pub const FUTEX_OP_CMP_LE: u32 = 3;
/// Wake if `oldval > cmparg`.
pub const FUTEX_OP_CMP_GT: u32 = 4;
/// Wake if `oldval >= cmparg`.
pub const FUTEX_OP_CMP_GE: u32 = 5;

/// `struct robust_list_head` (24 bytes): what set_robust_list(2) registers (its `len`
/// argument must equal this size).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct RobustListHead {
    /// `list.next`: first entry; points back at the head when empty.
    pub list_next: u64,
    /// Offset from an entry to its futex word.
    pub futex_offset: i64,
    /// An entry being acquired or released (handled at exit too).
    pub list_op_pending: u64,
}

// prctl(2) options commonly used by libc and shells.
/// Signal to receive when the parent dies.
pub const PR_SET_PDEATHSIG: u32 = 1;
/// Read it back.
pub const PR_GET_PDEATHSIG: u32 = 2;
/// Whether the process may dump core.
pub const PR_GET_DUMPABLE: u32 = 3;
/// Set it.
pub const PR_SET_DUMPABLE: u32 = 4;
/// Set the thread name (`comm`, 16 bytes with NUL).
pub const PR_SET_NAME: u32 = 15;
/// Get the thread name.
pub const PR_GET_NAME: u32 = 16;
/// Become a subreaper for orphaned descendants.
pub const PR_SET_CHILD_SUBREAPER: u32 = 36;
/// Read it back.
pub const PR_GET_CHILD_SUBREAPER: u32 = 37;
/// Set no_new_privs.
pub const PR_SET_NO_NEW_PRIVS: u32 = 38;
/// Read it back.
pub const PR_GET_NO_NEW_PRIVS: u32 = 39;

// Auxiliary vector keys (include/uapi/linux/auxvec.h, arch/riscv/include/uapi/asm/auxvec.h).
/// End of the vector.
pub const AT_NULL: u64 = 0;
/// Entry to ignore.
pub const AT_IGNORE: u64 = 1;
/// Descriptor of the program (binfmt_misc).
pub const AT_EXECFD: u64 = 2;
/// Address of the program headers.
pub const AT_PHDR: u64 = 3;
/// Size of one program header.
pub const AT_PHENT: u64 = 4;
/// Number of program headers.
pub const AT_PHNUM: u64 = 5;
/// Page size.
pub const AT_PAGESZ: u64 = 6;
/// Load address of the interpreter (ld.so).
pub const AT_BASE: u64 = 7;
/// Flags (0).
pub const AT_FLAGS: u64 = 8;
/// Entry point of the program.
pub const AT_ENTRY: u64 = 9;
/// The program is not ELF.
pub const AT_NOTELF: u64 = 10;
/// Real uid.
pub const AT_UID: u64 = 11;
/// Effective uid.
pub const AT_EUID: u64 = 12;
/// Real gid.
pub const AT_GID: u64 = 13;
/// Effective gid.
pub const AT_EGID: u64 = 14;
/// Address of the platform string (riscv64 Linux does not provide it).
pub const AT_PLATFORM: u64 = 15;
/// Hardware capabilities: one bit per single-letter ISA extension ([`hwcap_isa`]).
pub const AT_HWCAP: u64 = 16;
/// `times()` frequency (100).
pub const AT_CLKTCK: u64 = 17;
/// Secure mode (set-id program).
pub const AT_SECURE: u64 = 23;
/// Address of the real platform string.
pub const AT_BASE_PLATFORM: u64 = 24;
/// Address of 16 random bytes (stack protector, pointer guard).
pub const AT_RANDOM: u64 = 25;
/// More hardware capabilities.
pub const AT_HWCAP2: u64 = 26;
/// rseq area size the kernel supports (Linux 6.3).
pub const AT_RSEQ_FEATURE_SIZE: u64 = 27;
/// rseq area alignment (Linux 6.3).
pub const AT_RSEQ_ALIGN: u64 = 28;
/// Address of the file name of the program.
pub const AT_EXECFN: u64 = 31;
/// Address of the vDSO's ELF header.
pub const AT_SYSINFO_EHDR: u64 = 33;
/// L1 instruction cache size (riscv).
pub const AT_L1I_CACHESIZE: u64 = 40;
/// L1 instruction cache geometry (riscv).
pub const AT_L1I_CACHEGEOMETRY: u64 = 41;
/// L1 data cache size (riscv).
pub const AT_L1D_CACHESIZE: u64 = 42;
/// L1 data cache geometry (riscv).
pub const AT_L1D_CACHEGEOMETRY: u64 = 43;
/// L2 cache size (riscv).
pub const AT_L2_CACHESIZE: u64 = 44;
/// L2 cache geometry (riscv).
pub const AT_L2_CACHEGEOMETRY: u64 = 45;
/// L3 cache size (riscv).
pub const AT_L3_CACHESIZE: u64 = 46;
/// L3 cache geometry (riscv).
pub const AT_L3_CACHEGEOMETRY: u64 = 47;
/// Minimal signal stack size: the signal frame size (1088 without the V extension).
pub const AT_MINSIGSTKSZ: u64 = 51;

/// The `AT_HWCAP` bit of single-letter ISA extension `letter` (`'I'`, `'M'`, `'A'`, `'F'`,
/// `'D'`, `'C'`, `'V'`): `1 << (letter - 'A')`. Linux reports IMAFDC on RV64GC.
pub const fn hwcap_isa(letter: u8) -> u64 {
    1 << (letter.to_ascii_uppercase() - b'A')
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn clone_flags_and_args() {
        assert_eq!(CLONE_VM, 0x100);
        assert_eq!(CLONE_VFORK, 0x4000);
        assert_eq!(CLONE_THREAD, 0x10000);
        assert_eq!(CLONE_SETTLS, 0x80000);
        assert_eq!(CLONE_PARENT_SETTID, 0x100000);
        assert_eq!(CLONE_CHILD_CLEARTID, 0x200000);
        assert_eq!(CLONE_CHILD_SETTID, 0x1000000);
        assert_eq!(size_of::<CloneArgs>(), CLONE_ARGS_SIZE_VER2);
        assert_eq!(offset_of!(CloneArgs, set_tid), CLONE_ARGS_SIZE_VER0);
        assert_eq!(offset_of!(CloneArgs, cgroup), CLONE_ARGS_SIZE_VER1);
        assert_eq!(offset_of!(CloneArgs, exit_signal), 32);
        assert_eq!(offset_of!(CloneArgs, tls), 56);

        // glibc's pthread_create on riscv64: clone(flags, stack, &ptid, tls, &ctid).
        let flags = CLONE_VM
            | CLONE_FS
            | CLONE_FILES
            | CLONE_SIGHAND
            | CLONE_THREAD
            | CLONE_SYSVSEM
            | CLONE_SETTLS
            | CLONE_PARENT_SETTID
            | CLONE_CHILD_CLEARTID;
        let args = CloneArgs::from_clone(flags | (1 << 40), 0x7000, 0x100, 0x200, 0x300);
        assert_eq!(args.flags, flags);
        assert_eq!(
            (args.stack, args.parent_tid, args.tls, args.child_tid),
            (0x7000, 0x100, 0x200, 0x300)
        );
        assert_eq!(args.exit_signal, 0);
        // fork(): clone(SIGCHLD, 0, 0, 0, 0).
        assert_eq!(CloneArgs::from_clone(17, 0, 0, 0, 0).exit_signal, 17);
    }

    #[test]
    fn wait_status_matches_the_glibc_macros() {
        // Independent transcription of glibc's bits/waitstatus.h.
        let wexitstatus = |status: i32| (status & 0xff00) >> 8;
        let wtermsig = |status: i32| status & 0x7f;
        let wstopsig = wexitstatus;
        let wifexited = |status: i32| wtermsig(status) == 0;
        let wifsignaled = |status: i32| ((((status & 0x7f) + 1) as i8) >> 1) > 0;
        let wifstopped = |status: i32| (status & 0xff) == 0x7f;
        let wifcontinued = |status: i32| status == 0xffff;
        let wcoredump = |status: i32| status & 0x80 != 0;

        for code in [0, 1, 42, 255, 256 + 3] {
            let status = WaitStatus::exited(code).0;
            assert!(wifexited(status) && !wifsignaled(status) && !wifstopped(status));
            assert!(!wifcontinued(status));
            assert_eq!(wexitstatus(status), code & 0xff);
        }
        for signal in 1..=64 {
            let status = WaitStatus::signaled(signal, false).0;
            assert!(wifsignaled(status) && !wifexited(status) && !wifstopped(status));
            assert_eq!(wtermsig(status), signal as i32);
            assert!(!wcoredump(status));
            let dumped = WaitStatus::signaled(signal, true).0;
            assert!(wifsignaled(dumped) && wcoredump(dumped));
            assert_eq!(wtermsig(dumped), signal as i32);

            let stopped = WaitStatus::stopped(signal).0;
            assert!(wifstopped(stopped) && !wifexited(stopped) && !wifsignaled(stopped));
            assert_eq!(wstopsig(stopped), signal as i32);
        }
        let continued = WaitStatus::continued().0;
        assert!(wifcontinued(continued) && !wifexited(continued) && !wifsignaled(continued));
        assert_eq!(WaitStatus::exited(3).0, 0x300);
        assert_eq!(WaitStatus::signaled(9, false).0, 9);
        assert_eq!(WaitStatus::signaled(11, true).0, 0x8b);
        assert_eq!(WaitStatus::stopped(19).0, 0x137f);

        // The decoders agree with the macros.
        for status in [0x300, 9, 0x8b, 0x137f, 0xffff, 0] {
            let decoded = WaitStatus(status);
            assert_eq!(decoded.is_exited(), wifexited(status));
            assert_eq!(decoded.is_signaled(), wifsignaled(status));
            assert_eq!(decoded.is_stopped(), wifstopped(status));
            assert_eq!(decoded.is_continued(), wifcontinued(status));
            assert_eq!(decoded.exit_status(), wexitstatus(status));
            assert_eq!(decoded.term_signal(), wtermsig(status));
            assert_eq!(decoded.stop_signal(), wstopsig(status));
            assert_eq!(decoded.core_dumped(), wcoredump(status));
        }
    }

    #[test]
    fn wait_options() {
        assert_eq!((WNOHANG, WUNTRACED, WEXITED, WCONTINUED), (1, 2, 4, 8));
        assert_eq!(WNOWAIT, 0x0100_0000);
        assert_eq!(__WALL, 0x4000_0000);
        assert_eq!(__WCLONE, 0x8000_0000);
        assert_eq!((P_ALL, P_PID, P_PGID, P_PIDFD), (0, 1, 2, 3));
    }

    #[test]
    fn resource_layouts() {
        assert_eq!(size_of::<Rusage>(), 144);
        assert_eq!(offset_of!(Rusage, ru_stime), 16);
        assert_eq!(offset_of!(Rusage, ru_maxrss), 32);
        assert_eq!(offset_of!(Rusage, ru_minflt), 64);
        assert_eq!(offset_of!(Rusage, ru_nivcsw), 136);
        assert_eq!(size_of::<Rlimit>(), 16);
        assert_eq!(RLIMIT_STACK, 3);
        assert_eq!(RLIMIT_NOFILE, 7);
        assert_eq!(RLIMIT_AS, 9);
        assert_eq!(RLIM_INFINITY, !0);
    }

    #[test]
    fn utsname_and_sysinfo_layouts() {
        assert_eq!(size_of::<Utsname>(), 390);
        assert_eq!(offset_of!(Utsname, nodename), 65);
        assert_eq!(offset_of!(Utsname, machine), 260);
        assert_eq!(offset_of!(Utsname, domainname), 325);
        let uts = Utsname::new("Linux", "coros", "6.12.0", "#1", "riscv64", "(none)");
        assert_eq!(&uts.machine[..8], b"riscv64\0");
        let long = "x".repeat(100);
        assert_eq!(Utsname::new(&long, "", "", "", "", "").sysname[64], 0);

        assert_eq!(size_of::<Sysinfo>(), 112);
        assert_eq!(offset_of!(Sysinfo, loads), 8);
        assert_eq!(offset_of!(Sysinfo, totalram), 32);
        assert_eq!(offset_of!(Sysinfo, freeswap), 72);
        assert_eq!(offset_of!(Sysinfo, procs), 80);
        assert_eq!(offset_of!(Sysinfo, totalhigh), 88);
        assert_eq!(offset_of!(Sysinfo, freehigh), 96);
        assert_eq!(offset_of!(Sysinfo, mem_unit), 104);
    }

    #[test]
    fn reboot_futex_auxv() {
        assert_eq!(LINUX_REBOOT_MAGIC1, 0xfee1dead);
        assert_eq!(LINUX_REBOOT_MAGIC2, 0x2812_1969);
        assert_eq!(LINUX_REBOOT_CMD_POWER_OFF, 0x4321fedc);
        assert!(is_reboot_magic2(LINUX_REBOOT_MAGIC2C) && !is_reboot_magic2(0));
        assert_eq!(
            (FUTEX_WAIT, FUTEX_WAKE, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE),
            (0, 1, 3, 4)
        );
        assert_eq!(
            (FUTEX_WAKE_OP, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET),
            (5, 9, 10)
        );
        assert_eq!(FUTEX_WAIT_PRIVATE & FUTEX_CMD_MASK, FUTEX_WAIT);
        assert_eq!(
            (FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME) & FUTEX_CMD_MASK,
            FUTEX_WAKE_BITSET
        );
        assert_eq!(size_of::<RobustListHead>(), 24);
        assert_eq!(offset_of!(RobustListHead, list_op_pending), 16);
        assert_eq!(
            (AT_PHDR, AT_PAGESZ, AT_ENTRY, AT_RANDOM, AT_EXECFN),
            (3, 6, 9, 25, 31)
        );
        assert_eq!((AT_SYSINFO_EHDR, AT_MINSIGSTKSZ), (33, 51));
        let rv64gc = [b'I', b'M', b'A', b'F', b'D', b'C']
            .iter()
            .fold(0, |bits, &l| bits | hwcap_isa(l));
        assert_eq!(rv64gc, 0x112d);
    }
}
