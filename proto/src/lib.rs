//! The tacefusion cluster protocol: messages and the `Coordinator` service (client and server),
//! generated from `tacefusion.proto`, and the protocol version both sides check at registration.

#![allow(missing_docs, clippy::doc_lazy_continuation, clippy::large_enum_variant)]

/// Version of the protocol; a worker of another version is refused at registration.
pub const PROTOCOL_VERSION: u32 = 1;

/// Generated code of package `tacefusion.v1`.
pub mod v1 {
    tonic::include_proto!("tacefusion.v1");
}
