//! The client's integration tests as one test binary (issue 10: each file under `tests/` is its own
//! binary, linked separately): the client against the simulator, and Meraki's own spec examples.

mod against_simulator;
mod spec_examples;
