#[tokio::main]
async fn main() {
    flightdeck::server::startup::run().await;
}
