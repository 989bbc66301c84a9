//! The library's integration tests as one test binary (issue 10: each file under `tests/` is its own
//! binary, linked separately): the Kafka bus against the embedded broker, the sink runner, the outputs, the
//! spool's read-back and the window writer's resume in process, and the house rules on the tree.

mod bus;
mod outputs;
mod sink_runner;
mod spool_readback;
mod tidy;
mod window_writer;
