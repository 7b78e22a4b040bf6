#[tokio::main]
async fn main() {
    flightdeck::server::run().await;
}
