//! `gatefold`: see [`gatefold::cli`].

fn main() -> std::process::ExitCode {
    gatefold::cli::main()
}
