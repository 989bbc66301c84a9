//! Where a listener listens: `udp://ADDRESS:PORT`, `tcp://ADDRESS:PORT`, `tls://ADDRESS:PORT` or
//! `relp://ADDRESS:PORT`.
//!
//! The address is an IP address, never a host name: resolving a name would make validation touch the network,
//! and a name can resolve to an address this machine does not have. IPv6 addresses go in brackets, as in
//! URLs.
//! Port 0 asks the kernel for any free port; the listener then reports the port it got.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// How frames arrive: one datagram each, cut from a byte stream (plain or inside TLS), or as RELP
/// transactions over TCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
    /// rsyslog's Reliable Event Logging Protocol: each message is acknowledged, and the sender keeps and
    /// sends again what was not.
    Relp,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Relp => "relp",
        }
    }

    /// Whether frames are cut from a byte stream (TCP, TLS and RELP) rather than one per datagram.
    pub fn is_stream(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// Whether the sender waits for each message's acknowledgement and sends again what was not acknowledged
    /// (RELP). Its messages are then acknowledged only once every output took them ([`Handled`]), so they
    /// wait for Kafka rather than go to the spool: the sender holds them meanwhile, and resends them after a
    /// crash.
    ///
    /// [`Handled`]: crate::sources::listener::frame::Handled
    pub fn acknowledges(self) -> bool {
        matches!(self, Transport::Relp)
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A parsed `listen` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListenAddress {
    pub transport: Transport,
    pub address: SocketAddr,
}

/// Why a `listen` setting is not an address to listen on. Each variant carries the text as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("{text:?}: expected udp://ADDRESS:PORT (or tcp://, tls://, relp://)")]
    MissingScheme { text: String },
    #[error("{text:?}: unknown transport {scheme:?}; use udp, tcp, tls or relp")]
    UnknownTransport { text: String, scheme: String },
    #[error(
        "{text:?}: missing :PORT (for syslog: 514 udp, 601 tcp, 6514 tls, 2514 relp; 0 for any free port)"
    )]
    MissingPort { text: String },
    #[error("{text:?}: {port:?} is not a port number (0 to 65535)")]
    BadPort { text: String, port: String },
    #[error("{text:?}: missing address; use 0.0.0.0 for every IPv4 interface or [::] for every interface")]
    MissingAddress { text: String },
    #[error("{text:?}: an IPv6 address goes in brackets, as in {scheme}://[{host}]:{port}")]
    UnbracketedIpv6 {
        text: String,
        scheme: String,
        host: String,
        port: String,
    },
    #[error(
        "{text:?}: {host:?} is not an IP address; listen on 0.0.0.0, [::] or one of this machine's addresses"
    )]
    NotAnIpAddress { text: String, host: String },
}

impl FromStr for ListenAddress {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, AddressError> {
        let owned = || text.to_owned();
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| AddressError::MissingScheme { text: owned() })?;
        let transport = match scheme {
            "udp" => Transport::Udp,
            "tcp" => Transport::Tcp,
            "tls" => Transport::Tls,
            "relp" => Transport::Relp,
            other => {
                return Err(AddressError::UnknownTransport {
                    text: owned(),
                    scheme: other.to_owned(),
                });
            }
        };
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| AddressError::MissingPort { text: owned() })?;
        let port_number = port.parse::<u16>().map_err(|_| AddressError::BadPort {
            text: owned(),
            port: port.to_owned(),
        })?;
        let ip = parse_host(text, scheme, host, port)?;
        Ok(Self {
            transport,
            address: SocketAddr::new(ip, port_number),
        })
    }
}

impl fmt::Display for ListenAddress {
    /// The form it was written in; `SocketAddr` puts IPv6 addresses in brackets.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}://{}", self.transport, self.address)
    }
}

/// The address part: an IPv4 address, or an IPv6 address in brackets.
fn parse_host(text: &str, scheme: &str, host: &str, port: &str) -> Result<IpAddr, AddressError> {
    if host.is_empty() {
        return Err(AddressError::MissingAddress {
            text: text.to_owned(),
        });
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|host| host.strip_suffix(']')) {
        return inner
            .parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| AddressError::NotAnIpAddress {
                text: text.to_owned(),
                host: host.to_owned(),
            });
    }
    if host.parse::<Ipv6Addr>().is_ok() {
        // `rsplit_once(':')` split an unbracketed IPv6 address at its last group, which may have looked like
        // a port: say what was probably meant rather than guess.
        return Err(AddressError::UnbracketedIpv6 {
            text: text.to_owned(),
            scheme: scheme.to_owned(),
            host: host.to_owned(),
            port: port.to_owned(),
        });
    }
    host.parse::<Ipv4Addr>()
        .map(IpAddr::V4)
        .map_err(|_| AddressError::NotAnIpAddress {
            text: text.to_owned(),
            host: host.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_transport() {
        let udp: ListenAddress = "udp://0.0.0.0:514".parse().unwrap();
        assert_eq!(udp.transport, Transport::Udp);
        assert_eq!(
            udp.address,
            "0.0.0.0:514".parse::<std::net::SocketAddr>().unwrap()
        );
        let tcp: ListenAddress = "tcp://127.0.0.1:0".parse().unwrap();
        assert_eq!(tcp.transport, Transport::Tcp);
        assert_eq!(tcp.address.port(), 0);
        let tls: ListenAddress = "tls://[::]:6514".parse().unwrap();
        assert_eq!(tls.transport, Transport::Tls);
        assert_eq!(tls.address, "[::]:6514".parse::<std::net::SocketAddr>().unwrap());
        let relp: ListenAddress = "relp://127.0.0.1:2514".parse().unwrap();
        assert_eq!(relp.transport, Transport::Relp);
        assert!(relp.transport.is_stream() && relp.transport.acknowledges());
        assert!(!tls.transport.acknowledges() && !udp.transport.acknowledges());
    }

    #[test]
    fn displays_as_written() {
        for text in [
            "udp://0.0.0.0:514",
            "tcp://127.0.0.1:601",
            "tls://[::1]:6514",
            "relp://[::]:2514",
        ] {
            assert_eq!(text.parse::<ListenAddress>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let cases: &[(&str, &str)] = &[
            ("0.0.0.0:514", "expected udp://"),
            ("http://0.0.0.0:80", "unknown transport \"http\""),
            ("udp://0.0.0.0", "missing :PORT"),
            ("relp://0.0.0.0", "2514 relp"),
            ("https://0.0.0.0:443", "use udp, tcp, tls or relp"),
            ("tcp://0.0.0.0:syslog", "\"syslog\" is not a port number"),
            ("tcp://0.0.0.0:65536", "\"65536\" is not a port number"),
            ("tcp://0.0.0.0:", "\"\" is not a port number"),
            ("udp://:514", "missing address"),
            ("udp://::1:514", "in brackets, as in udp://[::1]:514"),
            ("tcp://localhost:601", "\"localhost\" is not an IP address"),
            ("tcp://[nonsense]:601", "\"[nonsense]\" is not an IP address"),
            ("tcp://10.0.0.1:601/", "\"601/\" is not a port number"),
            ("", "expected udp://"),
        ];
        for (text, expected) in cases {
            let error = text.parse::<ListenAddress>().unwrap_err().to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
            assert!(error.contains(&format!("{text:?}")), "{text:?}: {error}");
        }
    }
}
