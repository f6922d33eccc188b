//! The tacefusion cluster protocol: messages and the `Coordinator` service (client and server),
//! generated from `tacefusion.proto`, the protocol version both sides check at registration, the
//! object-store addresses both sides read the same way, and trace context carried over gRPC.

/// Version of the protocol; a worker of another version is refused at registration.
pub const PROTOCOL_VERSION: u32 = 2;

/// The largest message either side sends or accepts (gRPC's default is 4 MiB): a fan-in task's
/// lease lists the manifests of all its inputs (~100 bytes each, 9.5 MB for 100,000 patients), and
/// a completion lists every output file. Bounded (a message is decoded whole, into several times
/// its size): 256 MiB is a cohort of 2.5 million patients.
pub const MAX_MESSAGE_BYTES: usize = 256 << 20;

pub mod store;
pub mod trace;

/// Generated code of package `tacefusion.v1`.
#[allow(missing_docs, clippy::doc_lazy_continuation, clippy::large_enum_variant)]
pub mod v1 {
    tonic::include_proto!("tacefusion.v1");
}
