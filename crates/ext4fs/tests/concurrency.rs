//! Several threads at once: each writes its own files while all read one shared file;
//! afterwards every file has exactly its contents and e2fsck finds nothing wrong.

mod common;

use std::sync::Arc;
use std::thread;

use common::*;
use vfs::FileType;

#[test]
fn threads_write_different_files_and_read_the_same_one() {
    let Some(tools) = Tools::find() else { return };
    let temp = TempDir::new("threads");
    let image = temp.join("image");
    tools.mkfs(&image, "64M", &[], None);
    let fs = mount(&image, false);
    let root = fs.root().unwrap();
    let shared = pattern(100, 1 << 20);
    create_file(&root, "shared", &shared);
    let shared = Arc::new(shared);
    const THREADS: u64 = 4;
    const FILES: u64 = 25;
    let workers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let root = root.clone();
            let shared = shared.clone();
            thread::spawn(move || {
                let dir = root.create(format!("t{thread}").as_bytes(), FileType::Directory, 0o755, 0).unwrap();
                for index in 0..FILES {
                    let data = pattern(thread * 1000 + index, 10_000 + (index as usize * 3_001));
                    let file = dir.create(format!("f{index}").as_bytes(), FileType::Regular, 0o644, 0).unwrap();
                    for (chunk, piece) in data.chunks(4_097).enumerate() {
                        write_all(&*file, (chunk * 4_097) as u64, piece);
                    }
                    // Read the shared file between writes.
                    let reader = root.lookup(b"shared").unwrap();
                    let offset = (index * 37_000) % (1 << 20);
                    let mut buf = vec![0u8; 50_000];
                    let count = read_at(&*reader, offset, &mut buf).unwrap();
                    assert_eq!(&buf[..count], &shared[offset as usize..offset as usize + count]);
                    if index % 5 == 4 {
                        dir.unlink(format!("f{}", index - 1).as_bytes()).unwrap();
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    assert!(read_all(&*root.lookup(b"shared").unwrap()) == *shared);
    fs.unmount().unwrap();
    tools.fsck_clean(&image);
    for thread in 0..THREADS {
        let listing = tools.debugfs_text(&image, &format!("ls /t{thread}"));
        for index in 0..FILES {
            let deleted = index % 5 == 3;
            let present = listing.split_whitespace().any(|word| word == format!("f{index}"));
            assert_eq!(present, !deleted, "t{thread}/f{index} in {listing}");
            if !deleted && index % 6 == 0 {
                let data = pattern(thread * 1000 + index, 10_000 + (index as usize * 3_001));
                assert!(tools.debugfs(&image, &format!("cat /t{thread}/f{index}")) == data, "t{thread}/f{index}");
            }
        }
    }
}
