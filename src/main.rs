fn main() -> std::process::ExitCode {
    mlslo::cli::run()
}
