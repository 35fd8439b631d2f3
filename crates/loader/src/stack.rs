//! The initial user stack of a new program, byte for byte as Linux builds it (fs/exec.c
//! `copy_strings` + fs/binfmt_elf.c `create_elf_tables`). From the top down:
//!
//! ```text
//! stack_top -> 8 zero bytes (end marker)
//!              execfn string            (AT_EXECFN points here)
//!              envp strings             (envp[0] lowest)
//!              argv strings             (argv[0] lowest)
//!              padding to 16 bytes
//!              platform string          (AT_PLATFORM; omitted when empty)
//!              16 random bytes          (AT_RANDOM)
//!              padding so that sp is 16-byte aligned
//! sp        -> argc, argv[0..argc], NULL, envp[0..envc], NULL, auxv pairs, AT_NULL pair
//! ```
//!
//! Linux riscv64 has no `ELF_PLATFORM`, so pass an empty platform to match it. Address
//! randomisation of the stack top is the caller's choice of `stack_top`.

use crate::auxv::{AT_EXECFN, AT_NULL, AT_PLATFORM, AT_RANDOM};
use abi::Errno;
use alloc::vec::Vec;
use core::mem::size_of;

/// Longest single argument or environment string, NUL included (`MAX_ARG_STRLEN`:
/// 32 pages). Longer ones fail with `E2BIG`.
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
/// The argument space never shrinks below this (`ARG_MAX`: 32 pages).
const ARG_MAX: usize = 32 * 4096;
/// Linux's default stack rlimit (`_STK_LIM`, 8 MiB).
const DEFAULT_STACK_LIMIT: usize = 8 << 20;
/// Bytes of one pointer-sized stack word.
const WORD: u64 = size_of::<u64>() as u64;

/// What goes on the stack. `auxv` is the list [`crate::auxv_for`] makes (plus any
/// extra entries); AT_RANDOM, AT_EXECFN, AT_PLATFORM and AT_NULL are added here and
/// dropped from `auxv` if present.
#[derive(Clone, Copy, Debug)]
pub struct StackSpec<'a> {
    /// Argument strings, without NULs. An empty argv becomes `[""]`, as on Linux ≥ 5.18.
    pub argv: &'a [&'a [u8]],
    /// Environment strings (`NAME=value`), without NULs.
    pub envp: &'a [&'a [u8]],
    /// Auxiliary vector entries (key, value).
    pub auxv: &'a [(u64, u64)],
    /// The 16 bytes AT_RANDOM points to (glibc seeds the stack protector with them).
    pub random: [u8; 16],
    /// The path the program was executed by (AT_EXECFN).
    pub execfn: &'a [u8],
    /// The platform string (AT_PLATFORM), or empty for none (what Linux riscv64 does).
    pub platform: &'a [u8],
    /// Bytes allowed for the strings (execfn included) plus the argv and envp
    /// pointers; see [`arg_limit_for_stack_rlimit`].
    pub arg_limit: usize,
}

/// A built stack: `bytes` go to user memory at `sp`, ending exactly at `stack_top`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackImage {
    /// The contents of `[sp, stack_top)`.
    pub bytes: Vec<u8>,
    /// The initial stack pointer (16-byte aligned; `argc` is stored there).
    pub sp: u64,
    /// Where the argv pointer array starts (`sp + 8`).
    pub argv: u64,
    /// Where the envp pointer array starts.
    pub envp: u64,
    /// Where the 16 random bytes are (AT_RANDOM).
    pub random: u64,
    /// Where the execfn string is (AT_EXECFN).
    pub execfn: u64,
}

/// Linux's limit on the argument space for a stack rlimit (`bprm_stack_limits`): a
/// quarter of the rlimit, at most three quarters of 8 MiB, at least 128 KiB. For the
/// default 8 MiB rlimit that is 2 MiB.
pub fn arg_limit_for_stack_rlimit(stack_rlimit: u64) -> usize {
    let quarter = usize::try_from(stack_rlimit / 4).unwrap_or(usize::MAX);
    (DEFAULT_STACK_LIMIT / 4 * 3).min(quarter).max(ARG_MAX)
}

/// Builds the stack image ending at `stack_top`. `E2BIG` if a string is longer than
/// [`MAX_ARG_STRLEN`], if the strings and pointers exceed `spec.arg_limit`, or if the
/// image would not fit below `stack_top`. The caller must still check that
/// `bytes.len()` fits in the stack mapping.
pub fn build_stack(stack_top: u64, spec: &StackSpec<'_>) -> Result<StackImage, Errno> {
    let argv: &[&[u8]] = if spec.argv.is_empty() {
        &[b""]
    } else {
        spec.argv
    };
    check_limits(argv, spec)?;
    let too_big = || Errno::E2BIG;

    // Strings, from the top down.
    let mut p = stack_top.checked_sub(WORD).ok_or_else(too_big)?;
    let execfn = p.checked_sub(c_len(spec.execfn)).ok_or_else(too_big)?;
    p = execfn;
    let envp_strings = p
        .checked_sub(spec.envp.iter().map(|s| c_len(s)).sum())
        .ok_or_else(too_big)?;
    p = envp_strings;
    let argv_strings = p
        .checked_sub(argv.iter().map(|s| c_len(s)).sum())
        .ok_or_else(too_big)?;
    p = argv_strings & !15;
    let platform = if spec.platform.is_empty() {
        None
    } else {
        p = p.checked_sub(c_len(spec.platform)).ok_or_else(too_big)?;
        Some(p)
    };
    let random = p
        .checked_sub(spec.random.len() as u64)
        .ok_or_else(too_big)?;
    p = random;

    // The auxiliary vector as it will be written.
    let mut auxv: Vec<(u64, u64)> = spec
        .auxv
        .iter()
        .copied()
        .filter(|(key, _)| ![AT_NULL, AT_RANDOM, AT_EXECFN, AT_PLATFORM].contains(key))
        .collect();
    auxv.push((AT_RANDOM, random));
    auxv.push((AT_EXECFN, execfn));
    if let Some(platform) = platform {
        auxv.push((AT_PLATFORM, platform));
    }
    auxv.push((AT_NULL, 0));

    // The table: argc, argv, NULL, envp, NULL, auxv.
    let words = 1 + (argv.len() + 1) + (spec.envp.len() + 1) + 2 * auxv.len();
    let sp = p.checked_sub(words as u64 * WORD).ok_or_else(too_big)? & !15;
    let mut image = Image {
        sp,
        bytes: alloc::vec![0; usize::try_from(stack_top - sp).map_err(|_| too_big())?],
    };

    let mut word = sp;
    let mut push = |image: &mut Image, value: u64| {
        image.put(word, &value.to_le_bytes());
        word += WORD;
    };
    push(&mut image, argv.len() as u64);
    let argv_array = sp + WORD;
    let mut string = argv_strings;
    for arg in argv {
        push(&mut image, string);
        string = image.put_c_string(string, arg);
    }
    push(&mut image, 0);
    let envp_array = argv_array + (argv.len() as u64 + 1) * WORD;
    let mut string = envp_strings;
    for variable in spec.envp {
        push(&mut image, string);
        string = image.put_c_string(string, variable);
    }
    push(&mut image, 0);
    for (key, value) in auxv {
        push(&mut image, key);
        push(&mut image, value);
    }
    image.put_c_string(execfn, spec.execfn);
    if let Some(platform) = platform {
        image.put_c_string(platform, spec.platform);
    }
    image.put(random, &spec.random);

    Ok(StackImage {
        bytes: image.bytes,
        sp,
        argv: argv_array,
        envp: envp_array,
        random,
        execfn,
    })
}

/// Bytes a string takes on the stack, NUL included.
fn c_len(string: &[u8]) -> u64 {
    string.len() as u64 + 1
}

/// Linux's E2BIG rules (`bprm_stack_limits`, `copy_strings`).
fn check_limits(argv: &[&[u8]], spec: &StackSpec<'_>) -> Result<(), Errno> {
    let pointers = (argv.len() + spec.envp.len()).saturating_mul(size_of::<u64>());
    if pointers >= spec.arg_limit {
        return Err(Errno::E2BIG);
    }
    let mut strings: usize = 0;
    for string in argv.iter().chain(spec.envp).chain([&spec.execfn]) {
        let len = string.len().saturating_add(1);
        if len > MAX_ARG_STRLEN {
            return Err(Errno::E2BIG);
        }
        strings = strings.saturating_add(len);
    }
    if strings > spec.arg_limit - pointers {
        return Err(Errno::E2BIG);
    }
    Ok(())
}

/// The image under construction; addresses are translated to indices from `sp`.
struct Image {
    sp: u64,
    bytes: Vec<u8>,
}

impl Image {
    fn put(&mut self, address: u64, data: &[u8]) {
        // Every address put is in [sp, stack_top) by construction of the layout.
        let start = (address - self.sp) as usize;
        self.bytes[start..start + data.len()].copy_from_slice(data);
    }

    /// Writes `string` and a NUL at `address`; returns the address after the NUL.
    fn put_c_string(&mut self, address: u64, string: &[u8]) -> u64 {
        self.put(address, string);
        self.put(address + string.len() as u64, &[0]);
        address + c_len(string)
    }
}
