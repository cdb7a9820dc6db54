#![doc = include_str!("../README.md")]

mod error;
mod identity;
mod limits;
mod panic;
mod server;
mod tls;

pub use error::{Error, Pem, Result};
pub use identity::ClientIdentity;
pub use limits::{Limits, default_max_connections, open_files_soft_limit};
pub use panic::{CatchPanic, panic_message};
pub use server::{Refusal, serve, serve_tls};
pub use tls::{TlsConfig, TlsVersion};
