#![doc = include_str!("../README.md")]

mod error;
mod limits;
mod panic;
mod server;

pub use error::{Error, Result};
pub use limits::{Limits, default_max_connections, open_files_soft_limit};
pub use panic::{CatchPanic, panic_message};
pub use server::{Refusal, serve};
