//! Compiles `tacefusion.proto` with protox (a pure-Rust protobuf compiler) and generates the tonic
//! client and server, so that no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=tacefusion.proto");
    let descriptors = protox::compile(["tacefusion.proto"], ["."])?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(descriptors)?;
    Ok(())
}
