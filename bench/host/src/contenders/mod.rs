//! The executors under test, one file each: coros, tokio (current_thread) and
//! async-executor (`LocalExecutor`).

mod async_executor;
mod coros;
mod tokio;

pub use self::async_executor::AsyncExecutor;
pub use self::coros::Coros;
pub use self::tokio::Tokio;
