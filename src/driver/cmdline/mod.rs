//! Reading a command line: the flag tables of the two drivers (`args`, `clang_cl`, `gnu`),
//! `@response` files (`rsp`), and the classification of a whole command line (`classify`)
//! into the [`job::Job`] and [`job::Plan`] that the rest of the driver works on. Nothing
//! here starts a process.

pub mod args;
pub mod clang_cl;
pub mod classify;
pub mod gnu;
pub mod job;
pub mod rsp;
