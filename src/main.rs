use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = stmlab::cli::Cli::parse();
    match stmlab::cli::run(cli) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::from(2)
        }
    }
}
