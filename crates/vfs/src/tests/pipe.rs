//! Pipes driven by hand: reads park until data or end of file, writes park while full,
//! small writes are atomic and large ones partial, the last reader or writer going away
//! is seen by the other side, readiness for `poll`, and that every park is woken.

use std::future::poll_fn;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use abi::Errno;

use super::{counting_context, ready, Task};
use crate::consts::{PIPE_BUF, PIPE_CAPACITY};
use crate::{open_pipe, pipe, Events, FileType, Inode, OpenFlags};

#[test]
fn read_parks_until_a_write_wakes_it() {
    let (reader, writer) = open_pipe(OpenFlags::RDONLY);
    let mut buf = [0u8; 16];
    let mut read = Task::new(reader.read(&mut buf));
    assert!(read.poll().is_pending());
    assert_eq!(read.wakes(), 0);
    assert_eq!(ready(writer.write(b"ping")).unwrap(), 4);
    assert_eq!(read.wakes(), 1, "the write woke the reader");
    assert_eq!(read.poll(), Poll::Ready(Ok(4)));
    drop(read);
    assert_eq!(&buf[..4], b"ping");
}

#[test]
fn end_of_file_when_the_last_writer_closes() {
    let (reader, writer) = open_pipe(OpenFlags::RDONLY);
    let second_writer = writer.clone(); // a dup shares the end
    ready(writer.write(b"tail")).unwrap();
    drop(writer);
    let mut buf = [0u8; 16];
    assert_eq!(ready(reader.read(&mut buf)).unwrap(), 4, "buffered data is still read");
    let mut read = Task::new(reader.read(&mut buf));
    assert!(read.poll().is_pending(), "one writer is still open");
    drop(second_writer);
    assert_eq!(read.wakes(), 1, "closing the last writer wakes the reader");
    assert_eq!(read.poll(), Poll::Ready(Ok(0)));
    drop(read);
    assert_eq!(ready(reader.read(&mut buf)).unwrap(), 0);
}

#[test]
fn epipe_when_the_reader_is_gone() {
    let (reader, writer) = open_pipe(OpenFlags::RDONLY);
    drop(reader);
    assert_eq!(ready(writer.write(b"x")).unwrap_err(), Errno::EPIPE);
    assert_eq!(ready(writer.write(b"")).unwrap(), 0, "an empty write succeeds first");
}

#[test]
fn write_parks_while_full_and_the_reader_wakes_it() {
    let (reader, writer) = open_pipe(OpenFlags::RDONLY);
    let fill = vec![1u8; PIPE_CAPACITY];
    assert_eq!(ready(writer.write(&fill)).unwrap(), PIPE_CAPACITY);
    let mut write = Task::new(writer.write(b"more"));
    assert!(write.poll().is_pending());
    let mut buf = [0u8; 2];
    assert_eq!(ready(reader.read(&mut buf)).unwrap(), 2);
    assert_eq!(write.wakes(), 1);
    // Two free bytes: a 4-byte (atomic) write still does not fit.
    assert!(write.poll().is_pending());
    let mut big = vec![0u8; 100];
    assert_eq!(ready(reader.read(&mut big)).unwrap(), 100);
    assert!(write.wakes() >= 2);
    assert_eq!(write.poll(), Poll::Ready(Ok(4)));
    drop(write);
    // The reader sees everything in order.
    let mut rest = vec![0u8; PIPE_CAPACITY];
    let count = ready(reader.read(&mut rest)).unwrap();
    assert_eq!(count, PIPE_CAPACITY - 102 + 4);
    assert!(rest[..count - 4].iter().all(|&byte| byte == 1));
    assert_eq!(&rest[count - 4..count], b"more");
}

#[test]
fn a_waiting_writer_gets_epipe_when_the_reader_leaves() {
    let (reader, writer) = open_pipe(OpenFlags::RDONLY);
    ready(writer.write(&vec![0u8; PIPE_CAPACITY])).unwrap();
    let mut write = Task::new(writer.write(b"blocked"));
    assert!(write.poll().is_pending());
    drop(reader);
    assert_eq!(write.wakes(), 1);
    assert_eq!(write.poll(), Poll::Ready(Err(Errno::EPIPE)));
}

#[test]
fn small_writes_are_atomic_large_ones_partial() {
    let (read_end, write_end) = pipe();
    let (counter, waker) = counting_context();
    let mut cx = Context::from_waker(&waker);
    let almost_full = vec![0u8; PIPE_CAPACITY - 100];
    assert_eq!(write_end.poll_write_at(&mut cx, 0, &almost_full), Poll::Ready(Ok(PIPE_CAPACITY - 100)));
    // PIPE_BUF bytes with 100 free: waits rather than splitting.
    assert!(write_end.poll_write_at(&mut cx, 0, &[2u8; PIPE_BUF]).is_pending());
    // More than PIPE_BUF: takes what fits.
    assert_eq!(write_end.poll_write_at(&mut cx, 0, &[3u8; PIPE_BUF + 1]), Poll::Ready(Ok(100)));
    assert!(write_end.poll_write_at(&mut cx, 0, &[3u8; PIPE_BUF + 1]).is_pending());
    assert_eq!(write_end.pipe().buffered(), PIPE_CAPACITY);
    let mut out = vec![0u8; PIPE_CAPACITY];
    assert_eq!(read_end.poll_read_at(&mut cx, 0, &mut out), Poll::Ready(Ok(PIPE_CAPACITY)));
    assert!(counter.0.load(Ordering::SeqCst) >= 1);
    assert!(out[PIPE_CAPACITY - 100..].iter().all(|&byte| byte == 3));
    assert_eq!(read_end.kind(), FileType::Fifo);
    assert!(!read_end.is_seekable());
    assert_eq!(write_end.pipe().ends(), (1, 1));
}

#[test]
fn blocking_large_write_completes_across_reads() {
    let (reader, writer) = open_pipe(OpenFlags::RDONLY);
    let data: Vec<u8> = (0..PIPE_CAPACITY * 2 + 123).map(|index| index as u8).collect();
    let mut write = Task::new(writer.write(&data));
    let mut received = Vec::new();
    let mut buf = vec![0u8; 10_000];
    loop {
        match write.poll() {
            Poll::Ready(result) => {
                assert_eq!(result.unwrap(), data.len());
                break;
            }
            Poll::Pending => {
                let before = write.wakes();
                let count = ready(reader.read(&mut buf)).unwrap();
                received.extend_from_slice(&buf[..count]);
                assert!(write.wakes() > before, "reading woke the writer");
            }
        }
    }
    drop(write);
    while received.len() < data.len() {
        let count = ready(reader.read(&mut buf)).unwrap();
        received.extend_from_slice(&buf[..count]);
    }
    assert_eq!(received, data);
}

#[test]
fn nonblocking_ends_return_eagain_and_partial_counts() {
    let (reader, writer) = open_pipe(OpenFlags::NONBLOCK);
    assert!(reader.flags().contains(OpenFlags::NONBLOCK) && writer.flags().contains(OpenFlags::NONBLOCK));
    assert_eq!(ready(reader.read(&mut [0; 8])).unwrap_err(), Errno::EAGAIN);
    let big = vec![5u8; PIPE_CAPACITY + 10];
    assert_eq!(ready(writer.write(&big)).unwrap(), PIPE_CAPACITY);
    assert_eq!(ready(writer.write(b"x")).unwrap_err(), Errno::EAGAIN);
    // fcntl can turn blocking back on.
    reader.set_status_flags(OpenFlags::RDONLY);
    let mut buf = vec![0u8; PIPE_CAPACITY];
    assert_eq!(ready(reader.read(&mut buf)).unwrap(), PIPE_CAPACITY);
    let mut read = Task::new(reader.read(&mut buf));
    assert!(read.poll().is_pending());
}

#[test]
fn readiness_for_poll() {
    let (reader, writer) = open_pipe(OpenFlags::RDONLY);
    let both = Events::IN | Events::OUT;
    let mut reader_ready = Task::new(poll_fn(|cx| reader.poll_ready(cx, both)));
    assert!(reader_ready.poll().is_pending());
    let mut writer_ready = Task::new(poll_fn(|cx| writer.poll_ready(cx, both)));
    assert_eq!(writer_ready.poll(), Poll::Ready(Events::OUT));
    drop(writer_ready);
    ready(writer.write(b"data")).unwrap();
    assert_eq!(reader_ready.wakes(), 1);
    assert_eq!(reader_ready.poll(), Poll::Ready(Events::IN));
    // Only the requested events (plus ERR/HUP) are reported, as Linux filters them.
    let mut normal = Task::new(poll_fn(|cx| reader.poll_ready(cx, Events::RDNORM)));
    assert_eq!(normal.poll(), Poll::Ready(Events::RDNORM));
    drop(normal);
    // Full: the writer is not writable until a read.
    ready(writer.write(&vec![0u8; PIPE_CAPACITY - 4])).unwrap();
    let mut full = Task::new(poll_fn(|cx| writer.poll_ready(cx, Events::OUT)));
    assert!(full.poll().is_pending());
    ready(reader.read(&mut vec![0u8; PIPE_BUF])).unwrap();
    assert_eq!(full.wakes(), 1);
    assert_eq!(full.poll(), Poll::Ready(Events::OUT));
    drop(full);
    // Hang-up and error are reported even when not asked for.
    ready(reader.read(&mut vec![0u8; PIPE_CAPACITY])).unwrap();
    let mut hangup = Task::new(poll_fn(|cx| reader.poll_ready(cx, Events::IN)));
    assert!(hangup.poll().is_pending());
    drop(writer);
    assert_eq!(hangup.wakes(), 1);
    assert_eq!(hangup.poll(), Poll::Ready(Events::HUP));
    let (reader, writer) = open_pipe(OpenFlags::RDONLY);
    drop(reader);
    let mut error = Task::new(poll_fn(|cx| writer.poll_ready(cx, Events::EMPTY)));
    assert_eq!(error.poll(), Poll::Ready(Events::ERR));
}
