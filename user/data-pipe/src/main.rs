//! data-pipe: reads ten bytes from a non-blocking pipe into the middle of a 256 KiB
//! initialised static array, so into a page of `.data` nothing has touched yet. Run
//! from an ext4 disk, that page is a private file page the kernel must first read from
//! the disk. A regression test: the kernel used to take the bytes from the pipe, stop
//! at the file page, and run the whole `read` again, which found the pipe empty
//! (EAGAIN): the data was lost. Likewise `wait4` with its status word in such a page
//! must not reap the child and then fail (ECHILD on the rerun).

/// Initialised (not zero), so it lives in `.data`, backed by the program file.
static mut BUFFER: [u8; 256 * 1024] = [0x55; 256 * 1024];

/// Another 64 KiB of `.data`, for `wait4`'s status word.
static mut STATUS: [i32; 16 * 1024] = [-1; 16 * 1024];

fn main() {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` is a live array of two ints.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK) }, 0, "pipe2");
    let message = b"0123456789";
    // SAFETY: writes from a live buffer.
    let written = unsafe { libc::write(fds[1], message.as_ptr().cast(), message.len()) };
    assert_eq!(written, message.len() as isize, "write");
    let offset = 128 * 1024;
    // SAFETY: reads into the middle of the static buffer, which nothing else uses; the
    // raw pointer avoids a reference to a `static mut`.
    let (read, errno, got) = unsafe {
        let at = (&raw mut BUFFER).cast::<u8>().add(offset);
        let read = libc::read(fds[0], at.cast(), 64);
        let errno = *libc::__errno_location();
        let got = core::slice::from_raw_parts(at, 10).to_vec();
        (read, errno, got)
    };
    if read < 0 {
        println!("pipe into an untouched .data page: error {errno}");
    } else {
        println!("pipe into an untouched .data page: {read} bytes {}", String::from_utf8_lossy(&got[..read.min(10) as usize]));
    }
    // SAFETY: fork; the child only exits.
    let child = unsafe { libc::fork() };
    if child == 0 {
        // SAFETY: ends the child.
        unsafe { libc::_exit(3) };
    }
    // SAFETY: the status word is in the middle of the static array, used by nobody else.
    let (reaped, status) = unsafe {
        let at = (&raw mut STATUS).cast::<i32>().add(8 * 1024);
        let reaped = libc::wait4(child, at, 0, std::ptr::null_mut());
        (reaped == child, *at)
    };
    println!("wait4 into an untouched .data page: reaped {reaped}, exit status {}", libc::WEXITSTATUS(status));
}
