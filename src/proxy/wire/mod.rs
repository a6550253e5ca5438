//! The PostgreSQL wire protocol (version 3) as the proxy needs it: framing,
//! the client's messages read and checked, and the server's messages the
//! proxy writes itself. Messages the proxy only relays stay bytes.

pub mod backend;
pub mod frame;
pub mod frontend;
pub mod startup;
