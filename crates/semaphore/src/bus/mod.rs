//! The Kafka bus: connection settings ([`config`]), the embedded broker ([`embedded`]), the producer
//! ([`producer`]), topic administration ([`admin`]), read-back ([`readback`]), the process's one handle on
//! Kafka that the Kafka output and the sinks share ([`handle`]: producer, metadata, topic creation, probe,
//! flush), the consumer behind `semaphore consume` ([`consumer`], [`offset`], [`format`]) and the sinks'
//! reader ([`group_reader`]).
//!
//! **Architecture Invariant:** only this module knows librdkafka; the rest of semaphore sees records,
//! deliveries and typed errors.

pub mod admin;
pub mod config;
pub mod consumer;
pub mod embedded;
pub mod format;
pub mod group_reader;
pub mod handle;
pub mod offset;
pub mod producer;
pub mod readback;
