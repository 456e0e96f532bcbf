//! The `aisha` binary: parses the command line and hands over to the library.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    aisha::cli::run(aisha::cli::Cli::parse()).await
}
