//! Syslog (issue 13). For now only its pure half: [`parse`] turns one received line, whatever its bytes,
//! into a [`parse::ParsedMessage`], the future `syslog.message/1` record. The listener that feeds it and the
//! record kind that carries it are not wired yet.

pub mod parse;
