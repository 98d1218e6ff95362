fn main() {
    std::process::exit(lstmkit::cli::main());
}
