//! One running PostgreSQL: its directory and metadata, starting it, talking
//! to it, finding it again, and stopping it.

pub mod arrivals;
pub mod client;
pub mod clients;
pub mod create;
pub mod launch;
pub mod meta;
pub mod registry;
pub mod shmem;
pub mod stop;

pub use meta::{Meta, State};
