fn main() {
    // Static assets under /static/: always embedded (brotli-compressed at build time in release), so
    // debug builds and tests serve exactly what production serves. STATIC_DIR overrides at run time.
    memory_serve::load_directory_with_embed("./assets", true);
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=templates");
}
