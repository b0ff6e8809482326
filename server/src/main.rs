//! `sse-server`: the scripted Server-Sent Events server binary.

use std::process::ExitCode;

use sse_server::config::{parse_args, Command, USAGE};

#[tokio::main]
async fn main() -> ExitCode {
    let port_env = std::env::var("PORT").ok();
    let config = match parse_args(std::env::args().skip(1), port_env.as_deref()) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("sse-server: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match sse_server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sse-server: {e}");
            ExitCode::FAILURE
        }
    }
}
