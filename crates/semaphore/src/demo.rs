//! `semaphore demo`: placeholder.
