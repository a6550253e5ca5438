//! One instance: its servers and the endpoint its clients connect to, its
//! directory and metadata, bringing it into being, talking to it, finding
//! it again, and stopping it.

pub mod arrivals;
pub mod capability;
pub mod catchup;
pub mod client;
pub mod control;
pub mod create;
pub mod endpoint;
pub mod handshake;
pub mod meta;
pub mod port;
pub mod registry;
pub mod replication;
pub mod select;
pub mod server;
pub mod shmem;
pub mod stop;
pub mod topology;

pub use meta::{Meta, Settings, State};
pub use server::{Role, Server};
