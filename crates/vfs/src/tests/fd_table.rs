//! Descriptor-table semantics: lowest free number, limits, `dup`/`dup2`/`dup3`/`F_DUPFD`
//! rules, close-on-exec, and fork sharing open files.

use std::sync::Arc;

use abi::Errno;

use super::ready;
use crate::consts::SEEK_SET;
use crate::{open_pipe, FdTable, OpenFile, OpenFlags, DEFAULT_MAX_FDS};

fn file() -> Arc<OpenFile> {
    open_pipe(OpenFlags::RDONLY).0
}

#[test]
fn lowest_free_descriptor_and_limit() {
    let mut table = FdTable::new(4);
    assert_eq!(FdTable::default().max(), DEFAULT_MAX_FDS);
    assert_eq!(table.insert(file(), false).unwrap(), 0);
    assert_eq!(table.insert(file(), false).unwrap(), 1);
    assert_eq!(table.insert(file(), false).unwrap(), 2);
    table.remove(1).unwrap();
    assert_eq!(table.insert(file(), false).unwrap(), 1);
    assert_eq!(table.insert(file(), false).unwrap(), 3);
    assert_eq!(table.insert(file(), false).unwrap_err(), Errno::EMFILE);
    assert_eq!(table.len(), 4);
    // Raising the limit makes room; lowering it keeps what is open.
    table.set_max(5);
    assert_eq!(table.insert(file(), false).unwrap(), 4);
    table.set_max(2);
    assert!(table.get(4).is_ok());
    table.remove(0).unwrap();
    assert_eq!(table.insert(file(), false).unwrap(), 0);
    assert_eq!(table.insert(file(), false).unwrap_err(), Errno::EMFILE);
}

#[test]
fn bad_descriptors() {
    let mut table = FdTable::new(16);
    assert_eq!(table.get(0).unwrap_err(), Errno::EBADF);
    assert_eq!(table.get(-1).unwrap_err(), Errno::EBADF);
    assert_eq!(table.get(1000).unwrap_err(), Errno::EBADF);
    assert_eq!(table.remove(3).unwrap_err(), Errno::EBADF);
    let fd = table.insert(file(), false).unwrap();
    table.remove(fd).unwrap();
    assert_eq!(table.remove(fd).unwrap_err(), Errno::EBADF);
    assert_eq!(table.set_close_on_exec(fd, true).unwrap_err(), Errno::EBADF);
    assert_eq!(table.close_on_exec_flag(fd).unwrap_err(), Errno::EBADF);
    assert!(table.is_empty());
}

#[test]
fn dup_family() {
    let mut table = FdTable::new(16);
    let original = file();
    assert_eq!(table.insert(original.clone(), true).unwrap(), 0);
    // dup: lowest free, shares the open file, no close-on-exec.
    assert_eq!(table.dup(0).unwrap(), 1);
    assert!(Arc::ptr_eq(&table.get(1).unwrap(), &original));
    assert!(!table.close_on_exec_flag(1).unwrap());
    assert_eq!(table.dup(7).unwrap_err(), Errno::EBADF);
    // dup2 onto itself: returns it if open, EBADF if not.
    assert_eq!(table.dup2(0, 0).unwrap().0, 0);
    assert!(table.close_on_exec_flag(0).unwrap(), "dup2 onto itself changes nothing");
    assert_eq!(table.dup2(5, 5).unwrap_err(), Errno::EBADF);
    // dup2 onto another: replaces (returning the old file), clears close-on-exec.
    let other = file();
    table.insert_at(9, other.clone(), true).unwrap();
    let (fd, replaced) = table.dup2(0, 9).unwrap();
    assert_eq!(fd, 9);
    assert!(Arc::ptr_eq(&replaced.unwrap(), &other));
    assert!(Arc::ptr_eq(&table.get(9).unwrap(), &original));
    assert!(!table.close_on_exec_flag(9).unwrap());
    assert_eq!(table.dup2(0, 16).unwrap_err(), Errno::EBADF);
    assert_eq!(table.dup2(0, -1).unwrap_err(), Errno::EBADF);
    // dup3: same descriptor is EINVAL; the flag is applied.
    assert_eq!(table.dup3(0, 0, false).unwrap_err(), Errno::EINVAL);
    let (fd, replaced) = table.dup3(0, 4, true).unwrap();
    assert_eq!(fd, 4);
    assert!(replaced.is_none());
    assert!(table.close_on_exec_flag(4).unwrap());
    // F_DUPFD: lowest free at or above the minimum.
    assert_eq!(table.insert_from(3, original.clone(), false).unwrap(), 3);
    assert_eq!(table.insert_from(3, original.clone(), false).unwrap(), 5);
    assert_eq!(table.insert_from(16, original.clone(), false).unwrap_err(), Errno::EINVAL);
    assert_eq!(table.insert_from(-1, original.clone(), false).unwrap_err(), Errno::EINVAL);
    let fds: Vec<i32> = table.iter().map(|(fd, _)| fd).collect();
    assert_eq!(fds, [0, 1, 3, 4, 5, 9]);
}

#[test]
fn fork_shares_files_and_exec_closes_cloexec() {
    let mut table = FdTable::new(16);
    let (reader, writer) = open_pipe(OpenFlags::RDONLY);
    table.insert(reader, false).unwrap();
    table.insert(writer.clone(), true).unwrap();
    let mut child = table.clone_for_fork();
    assert!(Arc::ptr_eq(&child.get(1).unwrap(), &writer));
    assert!(child.close_on_exec_flag(1).unwrap());
    // Closing in the child does not close in the parent.
    child.remove(0).unwrap();
    assert!(table.get(0).is_ok());
    let closed = table.close_on_exec();
    assert_eq!(closed.len(), 1);
    assert!(table.get(1).is_err() && table.get(0).is_ok());
    assert!(child.get(1).is_ok());
}

#[test]
fn forked_descriptors_share_the_offset() {
    let f = super::fixture();
    f.write_file("/f", b"0123456789");
    let mut table = FdTable::new(16);
    table.insert(f.open("/f", OpenFlags::RDONLY).unwrap(), false).unwrap();
    let child = table.clone_for_fork();
    let mut buf = [0u8; 4];
    ready(table.get(0).unwrap().read(&mut buf)).unwrap();
    ready(child.get(0).unwrap().read(&mut buf)).unwrap();
    assert_eq!(&buf, b"4567");
    child.get(0).unwrap().seek(0, SEEK_SET).unwrap();
    assert_eq!(table.get(0).unwrap().offset(), 0);
}
