fn main() {
    // Static assets under /static/: embedded (brotli-compressed, hashed) in release builds.
    memory_serve::load_directory("./assets");
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=templates");
}
