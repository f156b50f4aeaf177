//! Start-up: parse the command line, then open the window or run a headless command.

fn main() {
    println!("OneMap");
}
