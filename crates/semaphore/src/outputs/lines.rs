//! JSON lines on standard output or appended to a file: one record per line, exactly the Kafka payload. The
//! two kinds' tables (`stdout`, `file`) and their validation are in `lines/config.rs`.

mod config;

pub use config::{FileOutputConfig, FileOutputFile, StdoutOutputConfig, StdoutOutputFile};

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::io::AsyncWriteExt;

use crate::outputs::component::Output;
use crate::outputs::{OutputFailure, WriteError};
use crate::record::EncodedRecord;

#[derive(Debug)]
pub enum LinesTarget {
    Stdout,
    File(PathBuf),
}

#[derive(Debug)]
pub struct LinesOutput {
    target: LinesTarget,
    /// A Tokio mutex: batches from concurrent sources must not interleave their lines. A std file written
    /// from a blocking task: Tokio's own file type would copy every batch into a buffer of its own first.
    file: tokio::sync::Mutex<Option<Arc<std::fs::File>>>,
}

impl Output for LinesOutput {
    fn name(&self) -> String {
        LinesOutput::name(self)
    }

    /// One label for standard output and files alike.
    fn label(&self) -> &'static str {
        "lines"
    }

    /// Lines carry no topic: each is the record's own JSON.
    fn write<'a>(
        &'a self,
        _topic: &'a str,
        records: &'a [EncodedRecord],
    ) -> BoxFuture<'a, Result<(), OutputFailure>> {
        Box::pin(LinesOutput::write(self, records))
    }
}

/// Opens `path` for appending, creating it and its directory when absent.
async fn open_for_append(path: PathBuf) -> std::io::Result<std::fs::File> {
    tokio::task::spawn_blocking(move || {
        if let Some(directory) = path
            .parent()
            .filter(|directory| !directory.as_os_str().is_empty())
        {
            std::fs::create_dir_all(directory)?;
        }
        std::fs::OpenOptions::new().create(true).append(true).open(path)
    })
    .await
    .unwrap_or_else(|panicked| Err(std::io::Error::other(panicked)))
}

impl LinesOutput {
    pub fn new(target: LinesTarget) -> Self {
        Self {
            target,
            file: tokio::sync::Mutex::new(None),
        }
    }

    pub fn name(&self) -> String {
        match &self.target {
            LinesTarget::Stdout => "stdout".into(),
            LinesTarget::File(path) => format!("file {}", path.display()),
        }
    }

    pub async fn write(&self, records: &[EncodedRecord]) -> Result<(), OutputFailure> {
        let mut text = Vec::with_capacity(records.iter().map(|record| record.payload.len() + 1).sum());
        for record in records {
            text.extend_from_slice(&record.payload);
            text.push(b'\n');
        }
        let failed = |error: std::io::Error| WriteError {
            remaining: (0..records.len()).collect(),
            reason: format!("cannot write to {}: {error}", self.name()),
        };
        let mut file = self.file.lock().await;
        match &self.target {
            LinesTarget::Stdout => {
                let mut stdout = tokio::io::stdout();
                let result = async {
                    stdout.write_all(&text).await?;
                    stdout.flush().await
                }
                .await;
                result.map_err(|error| match error.kind() {
                    // `| head` exited: its pipe never opens again.
                    std::io::ErrorKind::BrokenPipe => OutputFailure::StdoutClosed,
                    _ => failed(error).into(),
                })
            }
            LinesTarget::File(path) => {
                if file.is_none() {
                    *file = Some(Arc::new(open_for_append(path.clone()).await.map_err(failed)?));
                }
                let handle = file.clone().expect("opened above");
                let result = tokio::task::spawn_blocking(move || (&*handle).write_all(&text))
                    .await
                    .unwrap_or_else(|panicked| Err(std::io::Error::other(panicked)));
                if let Err(error) = result {
                    *file = None;
                    return Err(failed(error).into());
                }
                Ok(())
            }
        }
    }
}
