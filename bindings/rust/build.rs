//! Finds libhotcache.so: HOTCACHE_LIB_DIR (a build or install directory holding it)
//! first, then the `pkg-config` program, then the linker's default paths. An rpath to
//! the directory found goes into every binary cargo links (tests, examples, doc-tests),
//! so they run without LD_LIBRARY_PATH.
use std::env;
use std::process::Command;

fn link_dir(dir: &str) {
    println!("cargo:rustc-link-search=native={}", dir);
    // The loader searches the system's directories anyway; an rpath there is noise.
    let system = ["/usr/lib", "/lib", "/usr/lib64", "/lib64"]
        .iter()
        .any(|s| dir == *s || dir.starts_with(&format!("{}/", s)) && !dir[s.len() + 1..].contains('/'));
    if !system {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=HOTCACHE_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-changed=build.rs");
    if let Ok(dir) = env::var("HOTCACHE_LIB_DIR") {
        if !dir.is_empty() {
            link_dir(&dir);
            println!("cargo:rustc-link-lib=dylib=hotcache");
            return;
        }
    }
    let out = Command::new("pkg-config").args(["--libs", "hotcache"]).output();
    match out {
        Ok(o) if o.status.success() => {
            let flags = String::from_utf8_lossy(&o.stdout).into_owned();
            for f in flags.split_whitespace() {
                if let Some(d) = f.strip_prefix("-L") {
                    link_dir(d);
                } else if let Some(l) = f.strip_prefix("-l") {
                    println!("cargo:rustc-link-lib=dylib={}", l);
                }
            }
        }
        _ => {
            println!(
                "cargo:warning=hotcache: neither HOTCACHE_LIB_DIR nor `pkg-config hotcache` \
                 found the library; linking -lhotcache from the default paths"
            );
            println!("cargo:rustc-link-lib=dylib=hotcache");
        }
    }
}
