//! Making processes: the first one (init), clone/fork, and execve.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use abi::process::{self as p, CloneArgs, RLIM_INFINITY};
use abi::signal::{SigAction, SigSet, StackT, SIG_IGN, SS_DISABLE};
use abi::{Errno, Result};
use arch::user::{reg, UserContext};
use ksync::{SpinLock, WaitQueue};
use loader::LoadTarget;
use mm::user::{AreaKind, Prot};
use mm::VirtAddr;
use vfs::{FdTable, FileType, Inode, Location, OpenFile, OpenFlags};

use super::signal::{SIGRETURN_TRAMPOLINE, TRAMPOLINE_CODE};
use super::uaccess::UserMemory;
use super::{Process, ProcessInner, ProcessState, Thread, ThreadInner, UserSpace};
use crate::memory::KernelFrames;

/// Size of the main thread's stack area (grows lazily; Linux's default rlimit).
const STACK_SIZE: usize = 8 << 20;
/// Interpreters a script may chain through (`#!` of `#!`).
const MAX_INTERPRETER_DEPTH: usize = 4;

fn default_limits() -> [(u64, u64); 16] {
    let mut limits = [(RLIM_INFINITY, RLIM_INFINITY); 16];
    limits[p::RLIMIT_STACK as usize] = (STACK_SIZE as u64, RLIM_INFINITY);
    limits[p::RLIMIT_NOFILE as usize] = (1024, 4096);
    limits[p::RLIMIT_CORE as usize] = (0, RLIM_INFINITY);
    limits[p::RLIMIT_NPROC as usize] = (4096, 4096);
    limits[p::RLIMIT_SIGPENDING as usize] = (4096, 4096);
    limits[p::RLIMIT_MEMLOCK as usize] = (8 << 20, 8 << 20);
    limits[p::RLIMIT_MSGQUEUE as usize] = (819_200, 819_200);
    limits
}

fn new_space() -> Result<UserSpace> {
    let mut space = UserSpace::new(KernelFrames, crate::memory::kernel_page_table())?;
    space.set_file_pages(super::file_pages::file_pages);
    Ok(space)
}

/// Bytes of an executable read to parse it: its headers (and `#!` line) are there;
/// the segments are mapped from the file, not read.
const HEAD_BYTES: usize = 4096;

fn new_thread(tid: u32, process: &Arc<Process>, mask: SigSet) -> Arc<Thread> {
    Arc::new(Thread {
        tid,
        process: process.clone(),
        inner: SpinLock::new(ThreadInner {
            mask,
            pending: SigSet::EMPTY,
            pending_info: Default::default(),
            clear_child_tid: 0,
            robust_list: 0,
            alt_stack: StackT { ss_sp: 0, ss_flags: SS_DISABLE, _pad: 0, ss_size: 0 },
            saved_mask: None,
            waker: None,
        }),
        exiting: AtomicBool::new(false),
        exit_code: AtomicI32::new(0),
        signal_hint: AtomicBool::new(true),
        name: SpinLock::new(None),
        user_nanos: core::sync::atomic::AtomicU64::new(0),
        system_nanos: core::sync::atomic::AtomicU64::new(0),
        shootdown_epoch: core::sync::atomic::AtomicU64::new(0),
        in_user_on: core::sync::atomic::AtomicUsize::new(0),
        kicks: core::sync::atomic::AtomicU64::new(0),
    })
}

/// Reads a whole regular file from a file system that never blocks (tmpfs).
pub fn read_whole_file(inode: &Arc<dyn Inode>) -> Result<Vec<u8>> {
    read_file_head(inode, usize::MAX)
}

/// Reads the first `limit` bytes of a regular file (fewer if it is shorter).
fn read_file_head(inode: &Arc<dyn Inode>, limit: usize) -> Result<Vec<u8>> {
    let size = (inode.metadata().size as usize).min(limit);
    let mut data = vec![0u8; size];
    let mut done = 0;
    let mut context = core::task::Context::from_waker(core::task::Waker::noop());
    while done < size {
        match inode.poll_read_at(&mut context, done as u64, &mut data[done..]) {
            core::task::Poll::Ready(Ok(0)) => break,
            core::task::Poll::Ready(Ok(count)) => done += count,
            core::task::Poll::Ready(Err(error)) => return Err(error),
            core::task::Poll::Pending => return Err(Errno::EIO),
        }
    }
    data.truncate(done);
    Ok(data)
}

/// Creates PID 1 running `path` with `argv`, its standard streams on the console.
pub fn spawn_init(path: &[u8], argv: &[&[u8]], envp: &[&[u8]]) -> Result<()> {
    let pid = super::allocate_pid();
    let root = crate::fs::root();
    let mut files = FdTable::new(vfs::DEFAULT_MAX_FDS);
    let console: Arc<dyn Inode> = crate::fs::console::console().clone();
    let console_file = OpenFile::new(console.clone(), console, None, OpenFlags::RDWR);
    for _ in 0..3 {
        files.insert(console_file.clone(), false)?;
    }
    let process = Arc::new(Process {
        pid,
        inner: SpinLock::new(ProcessInner {
            parent: alloc::sync::Weak::new(),
            children: Vec::new(),
            // Like Linux's init: in session 0 and process group 0 until it calls setsid.
            pgid: 0,
            sid: 0,
            state: ProcessState::Running,
            continued: false,
            threads: Vec::new(),
            cwd: root.clone(),
            root: root.clone(),
            umask: 0o022,
            exe: Vec::new(),
            cmdline: Vec::new(),
            environ: Vec::new(),
            comm: Vec::new(),
            nice: 0,
            exec_count: 0,
            actions: [SigAction::default(); 64],
            pending: SigSet::EMPTY,
            pending_info: Default::default(),
            exit_status: None,
            children_time: (0, 0),
            exited_threads_time: (0, 0),
            limits: default_limits(),
            did_exec: false,
            vfork_parent_waiting: false,
            real_timer: None,
            posix_timers: Default::default(),
        }),
        space: SpinLock::new(Arc::new(SpinLock::new(new_space()?))),
        satp: core::sync::atomic::AtomicUsize::new(0),
        files: SpinLock::new(Arc::new(SpinLock::new(files))),
        child_events: WaitQueue::new(),
        vfork_done: WaitQueue::new(),
        exited: AtomicBool::new(false),
        parent_pid: core::sync::atomic::AtomicU32::new(0),
    });
    super::register_process(&process);
    let thread = new_thread(pid, &process, SigSet::EMPTY);
    process.inner.lock().threads.push(Arc::downgrade(&thread));
    let argv: Vec<Vec<u8>> = argv.iter().map(|arg| arg.to_vec()).collect();
    let envp: Vec<Vec<u8>> = envp.iter().map(|env| env.to_vec()).collect();
    let context = execve(&thread, path, argv, envp)?;
    super::run::spawn_thread(thread, context);
    Ok(())
}

/// An anonymous private image area at a fixed address (bss, or a segment the loader
/// then fills), lazily zero.
fn map_image_area(space: &mut UserSpace, start: u64, len: u64, prot: loader::Prot) -> Result<()> {
    let len = usize::try_from(len).map_err(|_| Errno::ENOMEM)?;
    space.map_area(
        VirtAddr(start as usize),
        len,
        Prot::from_bits_truncate(prot.bits()),
        mm::user::MapFlags::PRIVATE | mm::user::MapFlags::FIXED,
        AreaKind::Image,
    )?;
    Ok(())
}

/// Maps ELF segments from the file into a new address space (private file mappings
/// sharing the page cache, anonymous bss), as Linux does.
struct MapSpace<'a> {
    space: &'a mut UserSpace,
    inode: &'a Arc<dyn Inode>,
    path: &'a [u8],
}

impl loader::MapTarget for MapSpace<'_> {
    fn map_file(&mut self, start: u64, len: u64, prot: loader::Prot, offset: u64) -> Result<()> {
        let len = usize::try_from(len).map_err(|_| Errno::ENOMEM)?;
        let backing = super::file_pages::backing(self.inode.clone(), self.path.to_vec(), offset, false);
        self.space.map_file(
            VirtAddr(start as usize),
            len,
            Prot::from_bits_truncate(prot.bits()),
            mm::user::MapFlags::PRIVATE | mm::user::MapFlags::FIXED,
            AreaKind::Image,
            backing,
        )?;
        Ok(())
    }

    fn map_zero(&mut self, start: u64, len: u64, prot: loader::Prot) -> Result<()> {
        map_image_area(self.space, start, len, prot)
    }

    fn zero(&mut self, va: u64, len: u64) -> Result<()> {
        self.space.zero(VirtAddr(va as usize), len as usize)
    }
}

/// An image whose file offsets are not congruent to its addresses (linked for tiny
/// pages) cannot be mapped: its segments are copied instead. Each region is mapped
/// lazily, then the file bytes are copied once, into the frames (`fill` ignores the
/// region's protection, as the kernel must for read-only text); bss stays lazy zeros.
struct SpaceTarget<'a> {
    space: &'a mut UserSpace,
}

impl LoadTarget for SpaceTarget<'_> {
    fn map_segment(&mut self, start: u64, len: u64, prot: loader::Prot) -> Result<()> {
        map_image_area(self.space, start, len, prot)
    }

    fn write(&mut self, va: u64, bytes: &[u8]) -> Result<()> {
        self.space.fill(VirtAddr(va as usize), bytes)
    }

    fn zero(&mut self, _va: u64, _len: u64) -> Result<()> {
        Ok(()) // fresh pages are zero; only file bytes are ever written
    }
}

/// Resolves and checks an executable: a regular file with an execute bit. Returns it
/// with the head of its contents (see [`HEAD_BYTES`]).
fn open_executable(thread: &Thread, path: &[u8]) -> Result<(Location, Vec<u8>)> {
    let (root, cwd) = {
        let inner = thread.process.inner.lock();
        (inner.root.clone(), inner.cwd.clone())
    };
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let location = crate::fs::file_systems().vfs.resolve(&root, &cwd, path, true)?;
    let metadata = location.inode().metadata();
    match metadata.kind {
        FileType::Regular => {}
        FileType::Directory => return Err(Errno::EACCES),
        _ => return Err(Errno::EACCES),
    }
    if metadata.perm & 0o111 == 0 {
        return Err(Errno::EACCES);
    }
    let data = read_file_head(location.inode(), HEAD_BYTES)?;
    Ok((location, data))
}

/// Loads the ELF file at `location` (whose head is `data`) at `base`
/// (`loader::DEFAULT_DYN_BIAS` for a main program, a free range for an interpreter):
/// mapped from the file, or copied if it cannot be mapped.
fn load_image(space: &mut UserSpace, location: &Location, mut data: Vec<u8>, base: Option<u64>) -> Result<(loader::Loaded, Option<Vec<u8>>)> {
    let inode = location.inode();
    let size = inode.metadata().size;
    if loader::parse_head(&data, size).is_err() && (data.len() as u64) < size {
        data = read_whole_file(inode)?; // headers beyond the first page: read it all
    }
    let program = loader::parse_head(&data, size).map_err(|error| {
        log::debug!("execve: {}", error.reason());
        Errno::from(error)
    })?;
    let interpreter = program.interpreter().map(|path| path.as_bytes().to_vec());
    let bias = match base {
        Some(base) => program.load_bias(base),
        None => {
            // The interpreter goes where mmap would put it (below the mmap base).
            let (low, high) = program.extent();
            let len = usize::try_from(high - low).map_err(|_| Errno::ENOMEM)?;
            let align = usize::try_from(program.max_align()).map_err(|_| Errno::ENOMEM)?;
            let start = space.unmapped_area(len, align).ok_or(Errno::ENOMEM)?;
            program.load_bias(start.0 as u64)
        }
    };
    let path = location.path().unwrap_or_default();
    let mapped = loader::load_mapped(&program, bias, &mut MapSpace { space, inode, path: &path });
    let loaded = match mapped {
        Ok(loaded) => loaded,
        Err(error) if error.errno() == Errno::EINVAL => {
            let (low, high) = program.extent();
            space.unmap(VirtAddr(low.wrapping_add(bias) as usize), (high - low) as usize)?;
            let whole = if (data.len() as u64) < size { read_whole_file(inode)? } else { data.clone() };
            let program = loader::parse(&whole).map_err(Errno::from)?;
            loader::load(&program, &whole, bias, &mut SpaceTarget { space })?
        }
        Err(error) => return Err(error.into()),
    };
    Ok((loaded, interpreter))
}

/// execve: replaces the process image of `thread`'s process. Returns the registers the
/// thread starts the new program with.
pub fn execve(thread: &Arc<Thread>, path: &[u8], mut argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>) -> Result<UserContext> {
    let comm: Vec<u8> = path.rsplit(|&byte| byte == b'/').next().unwrap_or(path).iter().copied().take(15).collect();
    let mut path = path.to_vec();
    let (mut location, mut data) = open_executable(thread, &path)?;
    let mut depth = 0;
    while let Some(shebang) = loader::shebang(&data) {
        depth += 1;
        if depth > MAX_INTERPRETER_DEPTH {
            return Err(Errno::ELOOP);
        }
        let interpreter = shebang.interpreter.to_vec();
        let original: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let new_argv: Vec<Vec<u8>> =
            loader::script_argv(&shebang, &path, &original).into_iter().map(<[u8]>::to_vec).collect();
        argv = new_argv;
        path = interpreter;
        (location, data) = open_executable(thread, &path)?;
    }
    // Build the new address space completely before touching the old one: a failure
    // up to here leaves the caller intact (execve returns an error).
    let mut space = new_space()?;
    let (loaded, interpreter) = load_image(&mut space, &location, data, Some(loader::DEFAULT_DYN_BIAS))?;
    let mut entry = loaded.entry;
    let mut interp_base = 0;
    if let Some(interpreter) = interpreter {
        let (interp_location, interp_data) = open_executable(thread, &interpreter).inspect_err(|error| {
            log::debug!("execve {:?}: interpreter {:?}: {error:?}", core::str::from_utf8(&path), core::str::from_utf8(&interpreter));
        })?;
        let (interp_loaded, _) = load_image(&mut space, &interp_location, interp_data, None)?;
        entry = interp_loaded.entry;
        interp_base = interp_loaded.bias;
    }
    let mut trampoline = Vec::with_capacity(8);
    TRAMPOLINE_CODE.iter().for_each(|word| trampoline.extend_from_slice(&word.to_le_bytes()));
    space.map_bytes(VirtAddr(SIGRETURN_TRAMPOLINE), &trampoline, mm::PAGE_SIZE, Prot::READ | Prot::EXEC, AreaKind::Image)?;
    space.set_brk_start(VirtAddr(loaded.brk_start as usize));

    let stack_top = mm::sv39::USER_HALF_END.0 as u64;
    let auxv = loader::auxv_for(
        &loaded,
        interp_base,
        0,
        0,
        abi::process::hwcap_isa(b'I')
            | abi::process::hwcap_isa(b'M')
            | abi::process::hwcap_isa(b'A')
            | abi::process::hwcap_isa(b'F')
            | abi::process::hwcap_isa(b'D')
            | abi::process::hwcap_isa(b'C'),
        100,
    );
    let mut random = [0u8; 16];
    crate::random::fill(&mut random);
    let argv_refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    let envp_refs: Vec<&[u8]> = envp.iter().map(Vec::as_slice).collect();
    let stack = loader::build_stack(
        stack_top,
        &loader::StackSpec {
            argv: &argv_refs,
            envp: &envp_refs,
            auxv: &auxv,
            random,
            execfn: &path,
            platform: b"",
            arg_limit: loader::arg_limit_for_stack_rlimit(STACK_SIZE as u64),
        },
    )?;
    let stack_bottom = stack_top as usize - STACK_SIZE;
    let image_start = stack.sp as usize & !(mm::PAGE_SIZE - 1);
    let stack_area_len = stack_top as usize - stack_bottom;
    // The whole stack area, lazily; then the pages holding argv/envp/auxv filled now.
    space.map_area(
        VirtAddr(stack_bottom),
        stack_area_len,
        Prot::READ | Prot::WRITE,
        mm::user::MapFlags::PRIVATE | mm::user::MapFlags::FIXED,
        AreaKind::Stack,
    )?;
    let mut filled = vec![0u8; stack.sp as usize - image_start];
    filled.extend_from_slice(&stack.bytes);
    space.write(VirtAddr(image_start), &filled)?;

    // Point of no return: install the new image.
    let process = &thread.process;
    for other in process.threads() {
        if other.tid != thread.tid {
            other.exiting.store(true, Ordering::Release);
            other.kick();
        }
    }
    process.satp.store(space.satp(), Ordering::Release);
    *process.space.lock() = Arc::new(SpinLock::new(space));
    {
        let files = process.files();
        let closed = files.lock().close_on_exec();
        drop(closed);
    }
    let vfork_parent = {
        let mut inner = process.inner.lock();
        for action in inner.actions.iter_mut() {
            if action.sa_handler != SIG_IGN {
                *action = SigAction::default();
            }
        }
        inner.exe = location.path().unwrap_or_else(|_| path.clone());
        inner.cmdline = argv.iter().flat_map(|arg| arg.iter().copied().chain([0])).collect();
        inner.environ = envp.iter().flat_map(|env| env.iter().copied().chain([0])).collect();
        inner.comm = comm;
        inner.exec_count += 1;
        inner.did_exec = true;
        core::mem::take(&mut inner.vfork_parent_waiting)
    };
    if vfork_parent {
        process.vfork_done.wake_all();
    }
    {
        let mut inner = thread.inner.lock();
        inner.alt_stack = StackT { ss_sp: 0, ss_flags: SS_DISABLE, _pad: 0, ss_size: 0 };
    }
    Ok(UserContext::new(entry as usize, stack.sp as usize))
}

/// clone(2) / fork / vfork / clone3: a new thread or process. Returns the child's id.
pub async fn clone(thread: &Arc<Thread>, context: &UserContext, args: CloneArgs) -> Result<usize> {
    let flags = args.flags;
    let has = |flag: u64| flags & flag != 0;
    if has(p::CLONE_THREAD) && !has(p::CLONE_SIGHAND) || has(p::CLONE_SIGHAND) && !has(p::CLONE_VM) {
        return Err(Errno::EINVAL);
    }
    let parent_process = &thread.process;
    let tid = super::allocate_pid();
    let memory = UserMemory(parent_process.space());

    let process = if has(p::CLONE_THREAD) {
        parent_process.clone()
    } else {
        let space = if has(p::CLONE_VM) {
            parent_process.space()
        } else {
            let parent_space = parent_process.space();
            let mut parent_space = parent_space.lock();
            let child_space = parent_space.fork()?;
            // Copy-on-write made the parent's writable pages read-only.
            super::run::flush_tlb_if_needed(&mut parent_space);
            Arc::new(SpinLock::new(child_space))
        };
        let satp = space.lock().satp();
        let files = if has(p::CLONE_FILES) {
            parent_process.files()
        } else {
            Arc::new(SpinLock::new(parent_process.files().lock().clone_for_fork()))
        };
        let inner = parent_process.inner.lock();
        let parent = if has(p::CLONE_PARENT) { inner.parent.clone() } else { Arc::downgrade(parent_process) };
        let child = Arc::new(Process {
            pid: tid,
            inner: SpinLock::new(ProcessInner {
                parent,
                children: Vec::new(),
                pgid: inner.pgid,
                sid: inner.sid,
                state: ProcessState::Running,
                continued: false,
                threads: Vec::new(),
                cwd: inner.cwd.clone(),
                root: inner.root.clone(),
                umask: inner.umask,
                exe: inner.exe.clone(),
                cmdline: inner.cmdline.clone(),
                environ: inner.environ.clone(),
                comm: inner.comm.clone(),
                nice: inner.nice,
                exec_count: 0,
                actions: inner.actions,
                pending: SigSet::EMPTY,
                pending_info: Default::default(),
                exit_status: None,
                children_time: (0, 0),
                exited_threads_time: (0, 0),
                limits: inner.limits,
                did_exec: false,
                vfork_parent_waiting: has(p::CLONE_VFORK),
                real_timer: None,
                posix_timers: Default::default(),
            }),
            satp: core::sync::atomic::AtomicUsize::new(satp),
            space: SpinLock::new(space),
            files: SpinLock::new(files),
            child_events: WaitQueue::new(),
            vfork_done: WaitQueue::new(),
            exited: AtomicBool::new(false),
            parent_pid: core::sync::atomic::AtomicU32::new(0),
        });
        drop(inner);
        let parent = child.inner.lock().parent.upgrade().unwrap_or_else(|| parent_process.clone());
        child.parent_pid.store(parent.pid, Ordering::Relaxed);
        parent.inner.lock().children.push(child.clone());
        super::register_process(&child);
        child
    };

    let mask = thread.inner.lock().mask;
    let child = new_thread(tid, &process, mask);
    process.inner.lock().threads.push(Arc::downgrade(&child));
    let mut child_context = context.clone();
    child_context.set_return_value(0);
    if args.stack != 0 {
        child_context.registers[reg::SP] = (args.stack + args.stack_size) as usize;
    }
    if has(p::CLONE_SETTLS) {
        child_context.registers[reg::TP] = args.tls as usize;
    }
    if has(p::CLONE_PARENT_SETTID) {
        memory.write(args.parent_tid as usize, &tid)?;
    }
    if has(p::CLONE_CHILD_SETTID) {
        UserMemory(process.space()).write(args.child_tid as usize, &tid)?;
    }
    if has(p::CLONE_CHILD_CLEARTID) {
        child.inner.lock().clear_child_tid = args.child_tid as usize;
    }
    super::run::spawn_thread(child, child_context);

    if has(p::CLONE_VFORK) {
        // The parent sleeps until the child execs or exits (it shares our memory).
        core::future::poll_fn(|cx| {
            process.vfork_done.register(cx.waker());
            if process.inner.lock().vfork_parent_waiting && !process.exited.load(Ordering::Acquire) {
                core::task::Poll::Pending
            } else {
                core::task::Poll::Ready(())
            }
        })
        .await;
    }
    Ok(tid as usize)
}
