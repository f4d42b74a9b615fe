fn main() {
    println!("stmlab");
}
