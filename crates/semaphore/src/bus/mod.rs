//! The Kafka bus: connection settings ([`config`]), the first contact with a cluster and the refusals that
//! end it ([`contact`]), the embedded broker ([`embedded`]) with the security it can ask of its clients
//! ([`broker_security`]: TLS and SASL users; [`scram`]: their credentials; [`broker_credentials`]: written
//! into its storage), the producer ([`producer`]), topic administration ([`admin`]), read-back
//! ([`readback`]), the process's one handle on Kafka that the Kafka output and the sinks share ([`handle`]:
//! producer, metadata, topic creation, probe, flush; [`written_offsets`]: where its records sit), the consumer behind `semaphore consume` ([`consumer`],
//! [`offset`], [`format`]) and the sinks' reader ([`group_reader`]).
//!
//! **Architecture Invariant:** only this module knows librdkafka; the rest of semaphore sees records,
//! deliveries and typed errors.

pub mod admin;
pub mod broker_credentials;
pub mod broker_security;
pub mod config;
pub mod consumer;
pub mod contact;
pub mod embedded;
pub mod format;
pub mod group_reader;
pub mod handle;
pub mod offset;
pub mod producer;
pub mod readback;
pub mod scram;
pub mod written_offsets;
