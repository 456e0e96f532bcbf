//! The `aisha` binary: parses the command line and hands over to the library.

use clap::Parser;

// glibc's allocator spent a quarter of a gallery request's CPU; mimalloc is far cheaper for a
// server that allocates many small, short-lived objects.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    aisha::cli::run(aisha::cli::Cli::parse()).await
}
