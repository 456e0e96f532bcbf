//! The `aisha` binary: parses the command line and hands over to the library.

use clap::Parser;

// glibc's allocator spent a quarter of a gallery request's CPU; mimalloc is far cheaper for a
// server that allocates many small, short-lived objects.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Worker threads' stacks: nested GraphQL resolvers polling a connection's TLS handshake need
/// more than tokio's 2 MiB in debug builds; 8 MiB leaves room in any build.
const WORKER_STACK_BYTES: usize = 8 * 1024 * 1024;

fn main() -> anyhow::Result<()> {
    let cli = aisha::cli::Cli::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK_BYTES)
        .build()?
        .block_on(aisha::cli::run(cli))
}
