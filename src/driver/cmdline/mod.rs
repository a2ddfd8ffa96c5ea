//! Reading a command line: the flag tables of the two drivers (`args`, `clang_cl`, `gnu`)
//! and `@response` files (`rsp`). No process is started here.

pub mod args;
pub mod clang_cl;
pub mod gnu;
pub mod rsp;
