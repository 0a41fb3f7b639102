//! The local backend: readers, column batches, aggregate kernels.

pub mod aggregate;
pub mod batch;
pub mod distinct;
pub mod progress;
pub mod readers;
pub mod source;
