//! The Linux kernel modules the oracle needs to see a disk: Debian's riscv64 kernel has
//! virtio-mmio, virtio-blk, ext4 and its helpers (jbd2, mbcache, crc16, crc32c) as
//! modules (`.ko.xz` under `/usr/lib/modules/<version>/kernel/` of the linux-image
//! package), so a Linux booted from our initramfs cannot mount `/dev/vda` without them.
//!
//! Why computed, not a hard-coded list: the package ships no `modules.dep` (Debian runs
//! `depmod` at install time), so the load order is worked out here from each module's
//! own `.modinfo` section: `depends=` (symbols it needs from other modules) and
//! `softdep=pre: ...` (modules it asks for by name or alias at run time, e.g. ext4's
//! `crypto-crc32c`, which no `modprobe` would resolve inside our initramfs). A name is
//! first a module file name (`-` and `_` are the same, as in kmod); otherwise it is an
//! alias, looked up among the modules whose file name contains the alias without its
//! `crypto-` prefix (`crypto-crc32c` → `crc32c_generic.ko`, `libcrc32c.ko`), checking
//! their `alias=` entries. Modules are decompressed with the host's `xz -d` into
//! `target/debian/modules/<version>/` once. The guest loads them with busybox `insmod`
//! in the order of the `order` file (dependencies first).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::debian::{self, LinuxKernel};

/// The modules asked for: the virtio-mmio transport, the disk driver, the file system.
pub const DISK_MODULES: &[&str] = &["virtio_mmio", "virtio_blk", "ext4"];

/// Where the guest finds the modules and their load order (`/lib` is a symlink to
/// `usr/lib` in the archive, so the real path: an entry under the symlink would come
/// before its target directory in the sorted archive).
pub const GUEST_DIR: &str = "usr/lib/modules/coros-disk";

/// What a module's `.modinfo` says about the modules it needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModInfo {
    pub name: String,
    /// `depends=`: modules whose symbols it uses.
    pub depends: Vec<String>,
    /// `softdep=pre:` names (module names or aliases) to load before it.
    pub soft_pre: Vec<String>,
    pub aliases: Vec<String>,
}

/// The `key=value` strings of a `.modinfo` section (NUL-separated).
pub fn parse_modinfo(section: &[u8]) -> ModInfo {
    let mut info = ModInfo::default();
    for entry in section.split(|&byte| byte == 0).filter(|entry| !entry.is_empty()) {
        let text = String::from_utf8_lossy(entry);
        let Some((key, value)) = text.split_once('=') else { continue };
        match key {
            "name" => info.name = value.to_string(),
            "depends" => info.depends.extend(value.split(',').filter(|name| !name.is_empty()).map(str::to_string)),
            "alias" => info.aliases.push(value.to_string()),
            "softdep" => {
                // "pre: a b post: c": the words after `pre:` up to the next `post:`.
                let mut in_pre = false;
                for word in value.split_whitespace() {
                    match word {
                        "pre:" => in_pre = true,
                        "post:" => in_pre = false,
                        name if in_pre => info.soft_pre.push(name.to_string()),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    info
}

/// The `.modinfo` section of a module (an ELF relocatable file).
pub fn modinfo_of_elf(bytes: &[u8]) -> Result<ModInfo> {
    let elf = goblin::elf::Elf::parse(bytes).context("not an ELF file")?;
    for header in &elf.section_headers {
        if elf.shdr_strtab.get_at(header.sh_name) == Some(".modinfo") {
            let range = header.file_range().context(".modinfo has no file data")?;
            let section = bytes.get(range).context(".modinfo lies outside the file")?;
            return Ok(parse_modinfo(section));
        }
    }
    bail!("no .modinfo section")
}

/// kmod's name rule: `-` and `_` are the same.
pub fn normalise(name: &str) -> String {
    name.replace('-', "_")
}

/// The load order of `roots` and everything they need: each module after the modules
/// it depends on. `info` gives a module's `ModInfo` by module name; `resolve` turns a
/// soft-dependency name (a module name or an alias) into a module name, `None` when
/// nothing provides it (a built-in, or a module we do not ship: skipped).
pub fn load_order(
    roots: &[&str],
    info: &mut dyn FnMut(&str) -> Result<ModInfo>,
    resolve: &mut dyn FnMut(&str) -> Result<Option<String>>,
) -> Result<Vec<String>> {
    fn visit(
        name: &str,
        info: &mut dyn FnMut(&str) -> Result<ModInfo>,
        resolve: &mut dyn FnMut(&str) -> Result<Option<String>>,
        visiting: &mut Vec<String>,
        order: &mut Vec<String>,
    ) -> Result<()> {
        let name = normalise(name);
        if order.contains(&name) {
            return Ok(());
        }
        if visiting.contains(&name) {
            bail!("modules depend on each other in a cycle: {} -> {name}", visiting.join(" -> "));
        }
        visiting.push(name.clone());
        let module = info(&name)?;
        for dependency in &module.depends {
            visit(dependency, info, resolve, visiting, order)?;
        }
        for soft in &module.soft_pre {
            if let Some(provider) = resolve(soft)? {
                visit(&provider, info, resolve, visiting, order)?;
            }
        }
        visiting.pop();
        order.push(name);
        Ok(())
    }
    let mut order = Vec::new();
    for root in roots {
        visit(root, info, resolve, &mut Vec::new(), &mut order)?;
    }
    Ok(order)
}

/// Decompressed modules of one kernel package, loaded on demand.
struct Tree {
    /// Module name → path of its `.ko.xz` (from `modules.order`'s listing of the tree).
    files: BTreeMap<String, PathBuf>,
    cache_dir: PathBuf,
    infos: BTreeMap<String, ModInfo>,
}

impl Tree {
    fn open(modules_dir: &Path, cache_dir: PathBuf) -> Result<Tree> {
        let mut files = BTreeMap::new();
        let mut pending = vec![modules_dir.join("kernel")];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
                let path = entry?.path();
                if path.is_dir() {
                    pending.push(path);
                } else if let Some(stem) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".ko.xz").or(n.strip_suffix(".ko"))) {
                    files.insert(normalise(stem), path.clone());
                }
            }
        }
        std::fs::create_dir_all(&cache_dir)?;
        Ok(Tree { files, cache_dir, infos: BTreeMap::new() })
    }

    /// The decompressed `.ko` of `name` (made once).
    fn decompressed(&self, name: &str) -> Result<PathBuf> {
        let source = self.files.get(name).with_context(|| format!("the kernel package has no module `{name}`"))?;
        let out = self.cache_dir.join(format!("{name}.ko"));
        if out.is_file() {
            return Ok(out);
        }
        if source.extension().is_some_and(|extension| extension == "ko") {
            std::fs::copy(source, &out)?;
            return Ok(out);
        }
        let output = Command::new("xz")
            .args(["-d", "-c"])
            .arg(source)
            .output()
            .context("could not run `xz` (package xz-utils) to decompress kernel modules")?;
        if !output.status.success() {
            bail!("`xz -d -c {}` failed: {}", source.display(), String::from_utf8_lossy(&output.stderr));
        }
        let partial = out.with_extension("ko.partial");
        std::fs::write(&partial, &output.stdout)?;
        std::fs::rename(&partial, &out)?;
        Ok(out)
    }

    fn info(&mut self, name: &str) -> Result<ModInfo> {
        if let Some(info) = self.infos.get(name) {
            return Ok(info.clone());
        }
        let path = self.decompressed(name)?;
        let info = modinfo_of_elf(&std::fs::read(&path)?).with_context(|| format!("module {}", path.display()))?;
        self.infos.insert(name.to_string(), info.clone());
        Ok(info)
    }

    /// A soft dependency's module: by file name, else by alias among likely modules.
    fn resolve(&mut self, wanted: &str) -> Result<Option<String>> {
        let name = normalise(wanted);
        if self.files.contains_key(&name) {
            return Ok(Some(name));
        }
        let core = normalise(wanted.strip_prefix("crypto-").unwrap_or(wanted));
        let candidates: Vec<String> = self.files.keys().filter(|file| file.contains(&core)).cloned().collect();
        for candidate in candidates {
            if self.info(&candidate)?.aliases.iter().any(|alias| alias == wanted) {
                return Ok(Some(candidate));
            }
        }
        Ok(None)
    }
}

/// The decompressed disk modules of `linux`, in load order: (module name, `.ko` path).
pub fn disk_modules(linux: &LinuxKernel) -> Result<Vec<(String, PathBuf)>> {
    let base = linux.package.root.join("usr/lib/modules");
    let version = std::fs::read_dir(&base)
        .with_context(|| format!("{} has no /usr/lib/modules", linux.package.package))?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .next()
        .context("no module directory in the kernel package")?;
    let cache = debian::debian_dir().join("modules").join(&version);
    let tree = std::cell::RefCell::new(Tree::open(&base.join(&version), cache)?);
    let order = load_order(
        DISK_MODULES,
        &mut |name| tree.borrow_mut().info(name),
        &mut |name| tree.borrow_mut().resolve(name),
    )?;
    let tree = tree.into_inner();
    order.into_iter().map(|name| Ok((name.clone(), tree.decompressed(&name)?))).collect()
}

/// Adds the modules, their `order` file (one name per line) and the `load` script
/// ([`LOAD_SCRIPT`]) under [`GUEST_DIR`].
pub fn add_to_archive(archive: &mut crate::initramfs::Archive, modules: &[(String, PathBuf)]) -> Result<()> {
    let mut order = String::new();
    for (name, path) in modules {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        archive.file(&format!("{GUEST_DIR}/{name}.ko"), bytes, 0o644);
        order += name;
        order.push('\n');
    }
    archive.file(&format!("{GUEST_DIR}/order"), order, 0o644);
    archive.file(&format!("{GUEST_DIR}/load"), LOAD_SCRIPT, 0o644);
    Ok(())
}

/// The line guest scripts start with: loads the modules where the disk initramfs has
/// them (and the kernel needs them); does nothing in the plain test initramfs.
pub const LOAD_LINE: &str = "[ -f /usr/lib/modules/coros-disk/load ] && . /usr/lib/modules/coros-disk/load\n";

/// Shell lines that load the modules when the kernel has no ext4 yet (Linux); coros
/// lists ext4 in /proc/filesystems and skips them.
pub const LOAD_SCRIPT: &str = r#"if ! grep -qw ext4 /proc/filesystems && [ -f /usr/lib/modules/coros-disk/order ]; then
    for module in $(cat /usr/lib/modules/coros-disk/order); do
        insmod /usr/lib/modules/coros-disk/$module.ko || echo "insmod $module failed"
    done
fi
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modinfo_strings() {
        let section = b"softdep=pre: crypto-crc32c post: foo\0alias=fs-ext4\0alias=ext3\0depends=jbd2,mbcache,crc16\0\0name=ext4\0vermagic=6.12\0";
        let info = parse_modinfo(section);
        assert_eq!(info.name, "ext4");
        assert_eq!(info.depends, ["jbd2", "mbcache", "crc16"]);
        assert_eq!(info.soft_pre, ["crypto-crc32c"]);
        assert_eq!(info.aliases, ["fs-ext4", "ext3"]);
        assert_eq!(parse_modinfo(b"depends=\0name=mbcache\0").depends, Vec::<String>::new());
    }

    fn fake(name: &str, depends: &[&str], soft: &[&str], aliases: &[&str]) -> ModInfo {
        let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        ModInfo { name: name.into(), depends: strings(depends), soft_pre: strings(soft), aliases: strings(aliases) }
    }

    #[test]
    fn dependencies_come_first_and_once() {
        let modules = [
            fake("ext4", &["jbd2", "mbcache", "crc16"], &["crypto-crc32c"], &["fs-ext4"]),
            fake("jbd2", &[], &["crypto-crc32c"], &[]),
            fake("mbcache", &[], &[], &[]),
            fake("crc16", &[], &[], &[]),
            fake("crc32c_generic", &[], &[], &["crypto-crc32c", "crc32c"]),
            fake("virtio_blk", &[], &["not-shipped"], &[]),
            fake("virtio_mmio", &[], &[], &[]),
        ];
        let mut info = |name: &str| modules.iter().find(|m| m.name == name).cloned().with_context(|| format!("no {name}"));
        let mut resolve = |wanted: &str| {
            Ok(modules.iter().find(|m| m.name == normalise(wanted) || m.aliases.iter().any(|a| a == wanted)).map(|m| m.name.clone()))
        };
        let order = load_order(&["virtio-mmio", "virtio_blk", "ext4"], &mut info, &mut resolve).unwrap();
        assert_eq!(order, ["virtio_mmio", "virtio_blk", "crc32c_generic", "jbd2", "mbcache", "crc16", "ext4"]);
        // A cycle is an error, not a hang.
        let cyclic = [fake("a", &["b"], &[], &[]), fake("b", &["a"], &[], &[])];
        let mut info = |name: &str| cyclic.iter().find(|m| m.name == name).cloned().context("missing");
        assert!(load_order(&["a"], &mut info, &mut |_| Ok(None)).is_err());
    }

    #[test]
    fn load_script_loads_only_without_ext4() {
        assert!(LOAD_SCRIPT.contains("grep -qw ext4 /proc/filesystems"));
        assert!(LOAD_SCRIPT.contains(&format!("/{GUEST_DIR}/order")));
        assert!(LOAD_LINE.contains(&format!("/{GUEST_DIR}/load")));
        for (name, script) in crate::disk_tests::INITRAMFS_SCRIPTS.iter().filter(|(name, _)| *name == "disk-ext4-programs") {
            assert!(script.contains(LOAD_LINE), "{name} does not load the modules");
        }
    }
}
