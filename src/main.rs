/// `flightdeck` serves the dashboard; `flightdeck <command>` drives one
/// (see `flightdeck --help`).
#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if flightdeck::cli::wants_server(&args) {
        flightdeck::server::startup::run().await;
        return std::process::ExitCode::SUCCESS;
    }
    flightdeck::cli::run(args).await
}
