#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    zhijian::cli::run().await
}
