//! Links the kernel with its linker script (only for the bare-metal target).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rerun-if-changed=linker.ld");
    if std::env::var("TARGET").unwrap_or_default().ends_with("-none-elf") {
        println!("cargo:rustc-link-arg-bins=-T{dir}/linker.ld");
    }
}
