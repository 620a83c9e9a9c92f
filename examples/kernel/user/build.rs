//! Links the user program with its architecture's script (static, at a fixed address).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").expect("CARGO_CFG_TARGET_ARCH");
    println!("cargo:rerun-if-changed=user-{arch}.ld");
    println!("cargo:rustc-link-arg-bins=-T{dir}/user-{arch}.ld");
    println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
}
