//! An org-wide loss/latency answer read as it arrives, a chunk of uplink series at a time.
//!
//! For a large organization that answer is big (about 17 MB for 50,000 appliances and one minute). Read whole,
//! then parsed, then turned into records, it costs several times that at once; read as the outputs take its
//! records, it costs one chunk. The body is asked for at the outputs' pace, so a slow output holds Meraki's
//! answer back in the network buffers rather than in memory.

use std::collections::VecDeque;

use reqwest::Response;
use url::Url;

use crate::client::Client;
use crate::error::{MerakiError, one_line};
use crate::json_array::ArraySplitter;
use crate::model::UplinkLossAndLatency;

/// The elements of a `getOrganizationDevicesUplinksLossAndLatency` answer, read as they arrive.
#[derive(Debug)]
pub struct SeriesStream {
    client: Client,
    url: Url,
    response: Response,
    splitter: ArraySplitter,
    /// Series read past the last chunk handed out (a piece of the body ends wherever it ends).
    ready: VecDeque<UplinkLossAndLatency>,
    /// Elements read so far, for errors.
    read: usize,
    /// Read to the end, or failed: nothing more comes.
    done: bool,
}

impl SeriesStream {
    pub(crate) fn new(client: Client, url: Url, response: Response) -> Self {
        Self {
            client,
            url,
            response,
            splitter: ArraySplitter::default(),
            ready: VecDeque::new(),
            read: 0,
            done: false,
        }
    }

    /// The next `size` series (fewer at the end of the answer), `None` once the answer is read. An error
    /// (the body cut short, or not uplink series) ends the stream.
    pub async fn next_chunk(
        &mut self,
        size: usize,
    ) -> Result<Option<Vec<UplinkLossAndLatency>>, MerakiError> {
        let size = size.max(1);
        while !self.done && self.ready.len() < size {
            if let Err(error) = self.read_piece().await {
                self.done = true;
                self.ready.clear();
                return Err(error);
            }
        }
        let chunk: Vec<_> = self.ready.drain(..size.min(self.ready.len())).collect();
        Ok((!chunk.is_empty()).then_some(chunk))
    }

    /// Reads one piece of the body and keeps the series it completes.
    async fn read_piece(&mut self) -> Result<(), MerakiError> {
        let piece = tokio::time::timeout(self.client.timeout(), self.response.chunk()).await;
        let piece = match piece {
            Err(_elapsed) => {
                return Err(MerakiError::Timeout {
                    url: self.url.to_string(),
                    timeout: self.client.timeout(),
                    attempts: 1,
                });
            }
            Ok(Err(error)) => {
                return Err(self.invalid(format!("the body was cut short: {}", one_line(&error))));
            }
            Ok(Ok(piece)) => piece,
        };
        let Some(piece) = piece else {
            self.done = true;
            return self
                .splitter
                .finish()
                .map_err(|error| self.invalid(error.to_string()));
        };
        let mut failed = None;
        let (read, ready) = (&mut self.read, &mut self.ready);
        self.splitter
            .feed(&piece, |element| {
                if failed.is_some() {
                    return;
                }
                *read += 1;
                // Serials are not remembered for the rate budget here (the devices listing does that): a large
                // organization's would be a second copy of its inventory.
                match serde_json::from_slice::<UplinkLossAndLatency>(element) {
                    Ok(series) => ready.push_back(series),
                    Err(error) => {
                        failed = Some(format!("element {} is not an uplink series: {error}", *read))
                    }
                }
            })
            .map_err(|error| self.invalid(error.to_string()))?;
        match failed {
            Some(reason) => Err(self.invalid(reason)),
            None => Ok(()),
        }
    }

    /// An answer that is not what the operation returns: counted as a bad response by the client's metrics.
    fn invalid(&self, reason: String) -> MerakiError {
        self.client.refused(MerakiError::InvalidResponse {
            url: self.url.to_string(),
            attempts: 1,
            reason: format!("not the expected uplink series: {reason}"),
        })
    }
}
