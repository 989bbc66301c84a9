//! Boxing a future as `Send`, for collections of futures that borrow.
//!
//! Unboxed futures that borrow (a batch, a client, the stop handle), gathered into `join_all` or
//! `buffer_unordered` inside a spawned task, fail to compile with "implementation of `Send` is not general
//! enough" (rust-lang/rust#102211): the compiler cannot prove `Send` for every lifetime of the borrow. A boxed
//! `dyn Future + Send` erases the type that trips it.

use std::future::Future;
use std::pin::Pin;

pub type SendFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub fn boxed<'a, T>(future: impl Future<Output = T> + Send + 'a) -> SendFuture<'a, T> {
    Box::pin(future)
}
