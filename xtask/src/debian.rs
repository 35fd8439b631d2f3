//! Debian riscv64 packages by name: a private apt configuration under `target/debian/`,
//! `apt-get download`, then `dpkg -x` into `target/debian/root/<package>/`.
//!
//! Why a private apt: the user-level tests run Debian's own riscv64 binaries (busybox
//! first) and boot Debian's Linux kernel as the oracle, and neither may touch the host's
//! package state. The configuration (`target/debian/apt.conf`, passed with `APT_CONFIG`)
//! points every directory apt uses — lists, cache, archives, dpkg status, config parts,
//! preferences — into `target/debian/`, sets `APT::Architecture=riscv64` and reads only
//! its own one-line `sources.list` for Debian 13 (`trixie`, `main`). The archive URI is
//! never written into the repository: it is taken at run time from the host's own apt
//! sources (`/etc/apt/sources.list` and `/etc/apt/sources.list.d/*.list|*.sources`, the
//! one-line and the deb822 format), or from `$COROS_DEBIAN_MIRROR` when set. Release
//! files are checked against the host entry's `Signed-By` keyring (Debian's keyring
//! carries the trixie keys); only when that fails is the archive marked `trusted=yes`,
//! with a warning.
//!
//! Cache: a package that has been unpacked has a stamp file and costs nothing next time
//! (no apt call at all); a `.deb` already in the archive directory is not downloaded
//! again; `apt-get update` runs only when the lists are missing or the source changed.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::shell;

/// The Debian release the packages come from (Debian 13).
pub const SUITE: &str = "trixie";
/// The archive component.
pub const COMPONENT: &str = "main";
/// The package architecture.
pub const ARCHITECTURE: &str = "riscv64";
/// Overrides the archive URI read from the host's apt sources.
pub const MIRROR_VARIABLE: &str = "COROS_DEBIAN_MIRROR";
/// The keyring used when the host entry names none.
const DEFAULT_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
/// The stamp `fetch` leaves in an unpacked package: `package version`.
const STAMP: &str = ".coros-package";
/// Suites of the Debian archive itself (a host entry with one of these is Debian's).
const DEBIAN_SUITES: &[&str] = &[
    "buster",
    "bullseye",
    "bookworm",
    "trixie",
    "forky",
    "duke",
    "sid",
    "oldoldstable",
    "oldstable",
    "stable",
    "testing",
    "unstable",
];

// ---- the host's apt sources ----------------------------------------------------------

/// One `deb` source of the host (one line, or one deb822 paragraph).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    pub uris: Vec<String>,
    pub suites: Vec<String>,
    pub components: Vec<String>,
    /// The `signed-by` keyring file, when given as a path.
    pub signed_by: Option<String>,
}

/// Parses one-line `sources.list` text: `deb [options] URI SUITE [COMPONENT...]`.
/// `deb-src` lines, comments and malformed lines are skipped.
pub fn parse_one_line_sources(text: &str) -> Vec<SourceEntry> {
    let mut entries = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some(rest) = line
            .strip_prefix("deb ")
            .or_else(|| line.strip_prefix("deb\t"))
        else {
            continue;
        };
        let mut rest = rest.trim_start();
        let mut signed_by = None;
        if let Some(options) = rest.strip_prefix('[') {
            let Some((options, after)) = options.split_once(']') else {
                continue;
            };
            for option in options.split_whitespace() {
                if let Some(path) = option.strip_prefix("signed-by=") {
                    signed_by = path.split(',').next().map(str::to_string);
                }
            }
            rest = after.trim_start();
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        if words.len() < 2 {
            continue;
        }
        entries.push(SourceEntry {
            uris: vec![words[0].to_string()],
            suites: vec![words[1].to_string()],
            components: words[2..].iter().map(|word| word.to_string()).collect(),
            signed_by,
        });
    }
    entries
}

/// Parses deb822 `.sources` text: paragraphs of `Field: value` separated by blank lines.
/// Paragraphs without `deb` in `Types`, or with `Enabled: no`, are skipped. A `Signed-By`
/// holding an inline key (not a path) is ignored.
pub fn parse_deb822_sources(text: &str) -> Vec<SourceEntry> {
    let mut entries = Vec::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut flush = |fields: &mut Vec<(String, String)>| {
        let get = |name: &str| {
            fields
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        };
        let words = |name: &str| -> Vec<String> {
            get(name)
                .map(|value| value.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default()
        };
        let is_deb = words("Types").iter().any(|kind| kind == "deb");
        let enabled = get("Enabled").is_none_or(|value| !value.trim().eq_ignore_ascii_case("no"));
        if is_deb && enabled && !words("URIs").is_empty() && !words("Suites").is_empty() {
            let signed_by = get("Signed-By")
                .map(str::trim)
                .filter(|value| value.starts_with('/') && !value.contains('\n'))
                .map(|value| value.split_whitespace().next().unwrap_or(value).to_string());
            entries.push(SourceEntry {
                uris: words("URIs"),
                suites: words("Suites"),
                components: words("Components"),
                signed_by,
            });
        }
        fields.clear();
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut fields);
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            // A continuation line of the previous field.
            if let Some((_, value)) = fields.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            fields.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    flush(&mut fields);
    entries
}

/// The Debian archive among the host's sources: the first URI of an entry with a plain
/// Debian suite (`bookworm`, `stable`, ...; not `-security`, `-updates`, third-party
/// suites), preferring a URI whose path ends in `/debian`.
pub fn pick_debian_archive(entries: &[SourceEntry]) -> Option<(String, Option<String>)> {
    let debian: Vec<&SourceEntry> = entries
        .iter()
        .filter(|entry| {
            entry
                .suites
                .iter()
                .any(|suite| DEBIAN_SUITES.contains(&suite.as_str()))
        })
        .collect();
    let ends_in_debian = |uri: &str| uri.trim_end_matches('/').ends_with("/debian");
    let preferred = debian
        .iter()
        .find_map(|entry| {
            entry
                .uris
                .iter()
                .find(|uri| ends_in_debian(uri))
                .map(|uri| (entry, uri))
        })
        .or_else(|| {
            debian
                .first()
                .and_then(|entry| entry.uris.first().map(|uri| (entry, uri)))
        });
    preferred.map(|(entry, uri)| {
        (
            uri.trim_end_matches('/').to_string(),
            entry.signed_by.clone(),
        )
    })
}

/// Reads the host's apt sources (both formats) in apt's order.
pub fn host_sources() -> Vec<SourceEntry> {
    let mut entries = Vec::new();
    if let Ok(text) = std::fs::read_to_string("/etc/apt/sources.list") {
        entries.extend(parse_one_line_sources(&text));
    }
    let mut parts: Vec<PathBuf> = std::fs::read_dir("/etc/apt/sources.list.d")
        .map(|dir| {
            dir.filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .collect()
        })
        .unwrap_or_default();
    parts.sort();
    for path in parts {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        match path.extension().and_then(|extension| extension.to_str()) {
            Some("list") => entries.extend(parse_one_line_sources(&text)),
            Some("sources") => entries.extend(parse_deb822_sources(&text)),
            _ => {}
        }
    }
    entries
}

/// The archive URI and keyring to use: `$COROS_DEBIAN_MIRROR`, else the host's sources.
fn archive() -> Result<(String, Option<String>)> {
    if let Some(uri) = std::env::var_os(MIRROR_VARIABLE) {
        let uri = uri.to_string_lossy().trim_end_matches('/').to_string();
        return Ok((uri, None));
    }
    pick_debian_archive(&host_sources()).with_context(|| {
        format!(
            "no Debian archive found in the host's apt sources (/etc/apt/sources.list, \
             /etc/apt/sources.list.d/); set {MIRROR_VARIABLE}=URI to name one"
        )
    })
}

// ---- the private apt -----------------------------------------------------------------

/// Where everything Debian-related is kept.
pub fn debian_dir() -> PathBuf {
    shell::target_dir().join("debian")
}

/// Where `fetch` unpacks a package.
pub fn package_root(package: &str) -> PathBuf {
    debian_dir().join("root").join(package)
}

/// How the archive is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trust {
    /// Release files are checked against this keyring.
    Keyring,
    /// `[trusted=yes]`: no signature check (the fallback).
    Unchecked,
}

/// The private apt: its directories and configuration file.
struct Apt {
    dir: PathBuf,
}

impl Apt {
    fn new() -> Result<Apt> {
        let dir = debian_dir();
        for sub in [
            "state/lists/partial",
            "cache",
            "archives/partial",
            "empty",
            "log",
            "root",
        ] {
            std::fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("could not create {}", dir.join(sub).display()))?;
        }
        let status = dir.join("state/status");
        if !status.exists() {
            std::fs::write(&status, "")?;
        }
        let apt = Apt { dir };
        std::fs::write(apt.config_path(), apt.config_text())?;
        Ok(apt)
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join("apt.conf")
    }

    fn sources_path(&self) -> PathBuf {
        self.dir.join("sources.list")
    }

    fn lists_dir(&self) -> PathBuf {
        self.dir.join("state/lists")
    }

    fn archives_dir(&self) -> PathBuf {
        self.dir.join("archives")
    }

    /// The whole configuration; nothing of the host's apt configuration is read (the
    /// parts directories are empty), so host settings such as appstream downloads do
    /// not apply. Proxies still work through `http_proxy`.
    fn config_text(&self) -> String {
        let d = self.dir.display();
        format!(
            "// Written by `cargo xtask`: a private apt for Debian {SUITE} {ARCHITECTURE} packages.\n\
             Dir::Etc::Main \"/dev/null\";\n\
             Dir::Etc::Parts \"{d}/empty\";\n\
             Dir::Etc::SourceList \"{d}/sources.list\";\n\
             Dir::Etc::SourceParts \"{d}/empty\";\n\
             Dir::Etc::Preferences \"/dev/null\";\n\
             Dir::Etc::PreferencesParts \"{d}/empty\";\n\
             Dir::Etc::TrustedParts \"{d}/empty\";\n\
             Dir::State \"{d}/state\";\n\
             Dir::State::Lists \"{d}/state/lists\";\n\
             Dir::State::status \"{d}/state/status\";\n\
             Dir::Cache \"{d}/cache\";\n\
             Dir::Cache::archives \"{d}/archives\";\n\
             Dir::Log \"{d}/log\";\n\
             APT::Architecture \"{ARCHITECTURE}\";\n\
             APT::Architectures {{ \"{ARCHITECTURE}\"; }};\n\
             APT::Sandbox::User \"root\";\n\
             Acquire::Languages \"none\";\n\
             Acquire::Retries \"2\";\n\
             Acquire::http::Timeout \"30\";\n\
             Acquire::https::Timeout \"30\";\n"
        )
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("APT_CONFIG", self.config_path())
            .env("LC_ALL", "C");
        command
    }

    /// The `sources.list` line for `uri` trusted as `trust`.
    fn sources_line(uri: &str, keyring: Option<&str>, trust: Trust) -> String {
        let option = match (trust, keyring) {
            (Trust::Keyring, Some(keyring)) => format!("signed-by={keyring}"),
            _ => "trusted=yes".to_string(),
        };
        format!("deb [arch={ARCHITECTURE} {option}] {uri} {SUITE} {COMPONENT}\n")
    }

    /// Makes sure the package lists are there for the current source; `force` runs
    /// `apt-get update` even when they are.
    fn update(&self, force: bool) -> Result<()> {
        let (uri, host_keyring) = archive()?;
        let keyring = host_keyring
            .filter(|path| Path::new(path).is_file())
            .or_else(|| {
                Path::new(DEFAULT_KEYRING)
                    .is_file()
                    .then(|| DEFAULT_KEYRING.to_string())
            });
        let current = std::fs::read_to_string(self.sources_path()).unwrap_or_default();
        let have_lists = std::fs::read_dir(self.lists_dir())
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .any(|entry| entry.file_name().to_string_lossy().ends_with("_Packages"))
            })
            .unwrap_or(false);
        let same_source = current.contains(&format!("] {uri} {SUITE} "));
        if have_lists && same_source && !force {
            return Ok(());
        }
        // First with the signature check; a snapshot mirror's expired Release file is
        // retried without the Valid-Until check, a failed signature check with
        // [trusted=yes]. Every fallback is announced.
        let mut trust = if keyring.is_some() {
            Trust::Keyring
        } else {
            Trust::Unchecked
        };
        let mut check_valid_until = true;
        let mut last_error = String::new();
        for _attempt in 0..3 {
            std::fs::write(
                self.sources_path(),
                Self::sources_line(&uri, keyring.as_deref(), trust),
            )?;
            let mut command = self.command("apt-get");
            if !check_valid_until {
                command.args(["-o", "Acquire::Check-Valid-Until=false"]);
            }
            command.args(["-q", "update"]);
            shell::echo(&command);
            let output = command.output().context("could not run apt-get")?;
            let stderr = String::from_utf8_lossy(&output.stderr);
            // apt-get update exits 0 even when a source failed; its `W:`/`E:` lines say so.
            let failed = !output.status.success()
                || stderr
                    .lines()
                    .any(|line| line.starts_with("E:") || line.starts_with("W: Failed"));
            if !failed {
                return Ok(());
            }
            last_error = format!(
                "`APT_CONFIG={} apt-get update` failed for {uri} {SUITE}:\n{}",
                self.config_path().display(),
                stderr.trim()
            );
            let expired = stderr.contains("is expired");
            let signature_problem = ["NO_PUBKEY", "not signed", "signature", "EXPKEYSIG"]
                .iter()
                .any(|word| stderr.contains(word));
            if expired && check_valid_until {
                println!("debian: the Release file is expired (a snapshot?); retrying without the Valid-Until check");
                check_valid_until = false;
            } else if signature_problem && trust == Trust::Keyring {
                println!("debian: signature check failed; retrying with [trusted=yes] (no signature check)");
                trust = Trust::Unchecked;
            } else {
                break;
            }
        }
        // Leave no half-valid source behind: the next run updates again.
        let _ = std::fs::remove_file(self.sources_path());
        bail!("{last_error}")
    }

    /// `apt-cache show` of the candidate version of `package`.
    fn show(&self, package: &str) -> Result<Control> {
        let mut command = self.command("apt-cache");
        command.args(["show", "--no-all-versions", package]);
        let output = command.output().context("could not run apt-cache")?;
        anyhow::ensure!(
            output.status.success(),
            "no Debian {SUITE} {ARCHITECTURE} package `{package}`: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
        Control::parse(&String::from_utf8_lossy(&output.stdout))
            .with_context(|| format!("could not read `apt-cache show {package}`"))
    }

    /// Downloads `package` (candidate version) into the archive directory unless it is
    /// there; returns the `.deb` and its version.
    fn download(&self, package: &str) -> Result<(PathBuf, String)> {
        let control = self.show(package)?;
        let file = self.archives_dir().join(control.deb_file_name(package));
        if file.is_file() {
            return Ok((file, control.version));
        }
        let mut command = self.command("apt-get");
        command
            .current_dir(self.archives_dir())
            .args(["-q", "download", package]);
        shell::run_checked(&mut command)?;
        anyhow::ensure!(
            file.is_file(),
            "apt-get download {package} did not leave {}",
            file.display()
        );
        Ok((file, control.version))
    }
}

/// The fields of a package's control paragraph that xtask uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    pub version: String,
    pub architecture: String,
    pub depends: Vec<String>,
}

impl Control {
    /// Reads the first paragraph of `apt-cache show` output.
    pub fn parse(text: &str) -> Option<Control> {
        let field = |name: &str| {
            text.lines()
                .take_while(|line| !line.trim().is_empty())
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .map(|value| value.trim().to_string())
        };
        let depends = field("Depends")
            .map(|value| {
                value
                    .split(',')
                    .filter_map(|alternatives| {
                        // `a (>= 1) | b`: the first alternative's name.
                        let first = alternatives.split('|').next()?.trim();
                        let name = first.split([' ', '(', ':']).next()?.trim();
                        (!name.is_empty()).then(|| name.to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Control {
            version: field("Version")?,
            architecture: field("Architecture")?,
            depends,
        })
    }

    /// The file name `apt-get download` gives the package (`:` of an epoch is `%3a`).
    pub fn deb_file_name(&self, package: &str) -> String {
        format!(
            "{package}_{}_{}.deb",
            self.version.replace(':', "%3a"),
            self.architecture
        )
    }
}

/// A package fetched and unpacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpacked {
    pub package: String,
    pub version: String,
    /// The `dpkg -x` tree.
    pub root: PathBuf,
}

/// Reads the stamp of an unpacked package.
fn read_stamp(package: &str) -> Option<Unpacked> {
    let root = package_root(package);
    let text = std::fs::read_to_string(root.join(STAMP)).ok()?;
    let (name, version) = text.trim().split_once(' ')?;
    (name == package).then(|| Unpacked {
        package: package.to_string(),
        version: version.to_string(),
        root,
    })
}

/// Fetches and unpacks the given Debian packages (nothing is done for one already
/// unpacked). Packages are fetched by exact name: their dependencies are not.
pub fn fetch(packages: &[&str]) -> Result<Vec<Unpacked>> {
    let mut unpacked = Vec::new();
    let mut apt: Option<Apt> = None;
    for package in packages {
        if let Some(done) = read_stamp(package) {
            unpacked.push(done);
            continue;
        }
        let apt = match &mut apt {
            Some(apt) => apt,
            None => {
                let fresh = Apt::new()?;
                fresh.update(false)?;
                apt.insert(fresh)
            }
        };
        let (deb, version) = match apt.download(package) {
            Ok(found) => found,
            Err(first) => {
                // The lists may be stale (the mirror moved on): update once and retry.
                println!("debian: {first:#}; refreshing the package lists");
                apt.update(true)?;
                apt.download(package)?
            }
        };
        unpacked.push(unpack(package, &deb, &version)?);
    }
    Ok(unpacked)
}

/// `dpkg -x` into a fresh directory, then the stamp.
fn unpack(package: &str, deb: &Path, version: &str) -> Result<Unpacked> {
    let root = package_root(package);
    // Not `with_extension`: versioned names such as `linux-image-6.12.107+deb13` have dots.
    let scratch = root.with_file_name(format!("{package}.partial"));
    for dir in [&root, &scratch] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("could not remove {}", dir.display()))?;
        }
    }
    shell::run_checked(Command::new("dpkg").arg("-x").arg(deb).arg(&scratch))?;
    std::fs::write(scratch.join(STAMP), format!("{package} {version}\n"))?;
    std::fs::rename(&scratch, &root)?;
    Ok(Unpacked {
        package: package.to_string(),
        version: version.to_string(),
        root,
    })
}

/// Resolves a metapackage to the dependency whose name starts with `prefix` (e.g.
/// `linux-image-riscv64` → `linux-image-6.12.…-riscv64`), caching the answer in
/// `target/debian/resolved/<metapackage>` so later runs need no apt.
pub fn resolve(metapackage: &str, prefix: &str) -> Result<String> {
    let cache = debian_dir().join("resolved").join(metapackage);
    if let Ok(name) = std::fs::read_to_string(&cache) {
        let name = name.trim();
        if !name.is_empty() && read_stamp(name).is_some() {
            return Ok(name.to_string());
        }
    }
    let apt = Apt::new()?;
    apt.update(false)?;
    let control = apt.show(metapackage)?;
    let Some(name) = control.depends.iter().find(|name| name.starts_with(prefix)) else {
        bail!(
            "`{metapackage}` has no dependency named {prefix}*: {:?}",
            control.depends
        );
    };
    std::fs::create_dir_all(cache.parent().expect("has a parent"))?;
    std::fs::write(&cache, format!("{name}\n"))?;
    Ok(name.clone())
}

// ---- Debian's Linux kernel -------------------------------------------------------------

/// The metapackage of Debian's riscv64 kernel.
pub const LINUX_METAPACKAGE: &str = "linux-image-riscv64";

/// Debian's Linux kernel, ready for QEMU `-kernel`.
#[derive(Debug, Clone)]
pub struct LinuxKernel {
    /// The versioned package (`linux-image-6.12.…-riscv64`) and its version.
    pub package: Unpacked,
    /// An uncompressed RISC-V `Image` (or ELF) QEMU can boot.
    pub image: PathBuf,
}

/// What a kernel file in `/boot` is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// A RISC-V `Image` (magic `RISCV` at 0x30; Debian's has a PE header for EFI too).
    RiscvImage,
    Elf,
    Gzip,
    Zstd,
    Unknown,
}

/// Classifies a kernel image by its magic numbers.
pub fn image_format(bytes: &[u8]) -> ImageFormat {
    if bytes.len() >= 0x38 && &bytes[0x30..0x35] == b"RISCV" {
        ImageFormat::RiscvImage
    } else if bytes.starts_with(b"\x7fELF") {
        ImageFormat::Elf
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        ImageFormat::Gzip
    } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        ImageFormat::Zstd
    } else {
        ImageFormat::Unknown
    }
}

/// Fetches Debian's kernel and leaves a bootable image at `target/debian/linux-Image`
/// (decompressed with the host's `gzip`/`zstd` if Debian ships it compressed).
pub fn linux_kernel() -> Result<LinuxKernel> {
    let real = resolve(LINUX_METAPACKAGE, "linux-image-")?;
    let package = fetch(&[real.as_str()])?.remove(0);
    let boot = package.root.join("boot");
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(&boot)
        .with_context(|| format!("{} has no /boot", package.package))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("vmlinux-")
                || name.starts_with("vmlinuz-")
                || name.starts_with("Image")
        })
        .collect();
    candidates.sort();
    let Some(source) = candidates.first() else {
        bail!("no vmlinux/vmlinuz in {}", boot.display());
    };
    let image = debian_dir().join("linux-Image");
    let stamp = debian_dir().join("linux-Image.source");
    let source_text = format!("{} {}\n", source.display(), package.version);
    if image.is_file() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&source_text) {
        return Ok(LinuxKernel { package, image });
    }
    let bytes = std::fs::read(source)?;
    let decompressor = match image_format(&bytes) {
        ImageFormat::RiscvImage | ImageFormat::Elf => None,
        ImageFormat::Gzip => Some("gzip"),
        ImageFormat::Zstd => Some("zstd"),
        ImageFormat::Unknown => bail!(
            "{}: not a RISC-V Image, ELF, gzip or zstd file",
            source.display()
        ),
    };
    match decompressor {
        None => {
            std::fs::copy(source, &image)?;
        }
        Some(tool) => {
            let output = Command::new(tool)
                .args(["-d", "-c"])
                .arg(source)
                .output()
                .with_context(|| {
                    format!(
                        "could not run `{tool}` (install it) to decompress {}",
                        source.display()
                    )
                })?;
            anyhow::ensure!(
                output.status.success(),
                "`{tool} -d -c {}` failed",
                source.display()
            );
            anyhow::ensure!(
                matches!(
                    image_format(&output.stdout),
                    ImageFormat::RiscvImage | ImageFormat::Elf
                ),
                "{} decompressed to something that is not a RISC-V Image",
                source.display()
            );
            std::fs::write(&image, output.stdout)?;
        }
    }
    std::fs::write(&stamp, source_text)?;
    Ok(LinuxKernel { package, image })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_sources() {
        let text = "\
# a comment
deb http://mirror.example/debian bookworm main contrib
deb-src http://mirror.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://other.example/apt cloud-sdk main # trailing
deb\thttp://tab.example/debian sid main
deb broken
";
        let entries = parse_one_line_sources(text);
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].uris, ["http://mirror.example/debian"]);
        assert_eq!(entries[0].suites, ["bookworm"]);
        assert_eq!(entries[0].components, ["main", "contrib"]);
        assert_eq!(entries[0].signed_by, None);
        assert_eq!(
            entries[1].signed_by.as_deref(),
            Some("/usr/share/keyrings/x.gpg")
        );
        assert_eq!(entries[1].suites, ["cloud-sdk"]);
        assert_eq!(entries[2].uris, ["http://tab.example/debian"]);
    }

    #[test]
    fn deb822_sources() {
        let text = "\
Types: deb deb-src
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm

Types: deb
URIs: https://third.example/node
Suites: nodistro
Enabled: no
Components: main

types: deb
uris: http://inline.example/debian/
suites: trixie
components: main
signed-by:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 -----END PGP PUBLIC KEY BLOCK-----
";
        let entries = parse_deb822_sources(text);
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_eq!(entries[0].uris, ["http://mirror.example/debian"]);
        assert_eq!(entries[0].suites, ["bookworm", "bookworm-updates"]);
        assert_eq!(
            entries[0].signed_by.as_deref(),
            Some("/usr/share/keyrings/debian-archive-keyring.gpg")
        );
        assert_eq!(entries[1].uris, ["http://inline.example/debian/"]);
        assert_eq!(entries[1].signed_by, None, "an inline key is not a path");
    }

    #[test]
    fn debian_archive_is_picked_over_security_and_third_parties() {
        let mut entries = parse_one_line_sources(
            "deb https://packages.example/apt cloud-sdk-bookworm main\n\
             deb http://security.example/debian-security bookworm-security main\n",
        );
        assert_eq!(pick_debian_archive(&entries), None);
        entries.extend(parse_deb822_sources(
            "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\n\
             Signed-By: /k.gpg\n",
        ));
        assert_eq!(
            pick_debian_archive(&entries),
            Some((
                "http://mirror.example/debian".to_string(),
                Some("/k.gpg".to_string())
            ))
        );
    }

    #[test]
    fn control_fields_and_file_name() {
        let text = "\
Package: linux-image-riscv64
Version: 6.12.107-1
Architecture: riscv64
Depends: linux-image-6.12.107+deb13-riscv64 (= 6.12.107-1), foo:any | bar
Description: Linux for 64-bit RISC-V (meta-package)

Package: other
Version: 9
";
        let control = Control::parse(text).unwrap();
        assert_eq!(control.version, "6.12.107-1");
        assert_eq!(
            control.depends,
            ["linux-image-6.12.107+deb13-riscv64", "foo"]
        );
        let busybox = Control {
            version: "1:1.37.0-6+b9".into(),
            architecture: "riscv64".into(),
            depends: vec![],
        };
        assert_eq!(
            busybox.deb_file_name("busybox-static"),
            "busybox-static_1%3a1.37.0-6+b9_riscv64.deb"
        );
    }

    #[test]
    fn image_formats_by_magic() {
        let mut image = vec![0u8; 0x40];
        image[0x30..0x35].copy_from_slice(b"RISCV");
        assert_eq!(image_format(&image), ImageFormat::RiscvImage);
        assert_eq!(image_format(b"\x7fELF\x02\x01"), ImageFormat::Elf);
        assert_eq!(image_format(&[0x1f, 0x8b, 8, 0]), ImageFormat::Gzip);
        assert_eq!(image_format(&[0x28, 0xb5, 0x2f, 0xfd]), ImageFormat::Zstd);
        assert_eq!(image_format(b"hello"), ImageFormat::Unknown);
    }

    #[test]
    fn private_sources_line() {
        assert_eq!(
            Apt::sources_line("http://m.example/debian", Some("/k.gpg"), Trust::Keyring),
            "deb [arch=riscv64 signed-by=/k.gpg] http://m.example/debian trixie main\n"
        );
        assert_eq!(
            Apt::sources_line("http://m.example/debian", Some("/k.gpg"), Trust::Unchecked),
            "deb [arch=riscv64 trusted=yes] http://m.example/debian trixie main\n"
        );
    }
}
