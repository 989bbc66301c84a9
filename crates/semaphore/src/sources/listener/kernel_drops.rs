//! Datagrams the kernel dropped for a UDP listener: what no application counter can see, because they never
//! reached the socket (its receive buffer was full). Linux counts them per socket in `/proc/net/udp` and
//! `/proc/net/udp6`, in the last column, `drops`; the socket is found by its local address and port.

use std::net::{IpAddr, SocketAddr};

/// The drops the kernel counted for the UDP socket bound to `local`; `None` where the tables are unreadable
/// (not Linux) or hold no such socket.
pub fn udp_drops(local: SocketAddr) -> Option<u64> {
    let table = if local.is_ipv4() {
        "/proc/net/udp"
    } else {
        "/proc/net/udp6"
    };
    let text = std::fs::read_to_string(table).ok()?;
    drops_in(&text, local)
}

/// The `drops` of the row whose `local_address` is `local`, in the text of a `/proc/net/udp*` table.
fn drops_in(text: &str, local: SocketAddr) -> Option<u64> {
    let wanted = hex_address(local);
    text.lines().skip(1).find_map(|row| {
        let columns: Vec<&str> = row.split_whitespace().collect();
        let address = columns.get(1)?;
        if !address.eq_ignore_ascii_case(&wanted) {
            return None;
        }
        columns.last()?.parse().ok()
    })
}

/// An address as the kernel prints it: the IP's 32-bit words in host (little-endian) order as hex, a colon,
/// the port as hex: `0100007F:15BA` is 127.0.0.1:5562.
fn hex_address(address: SocketAddr) -> String {
    let ip = match address.ip() {
        IpAddr::V4(ip) => format!("{:08X}", u32::from_le_bytes(ip.octets())),
        IpAddr::V6(ip) => ip
            .octets()
            .chunks(4)
            .map(|word| format!("{:08X}", u32::from_le_bytes([word[0], word[1], word[2], word[3]])))
            .collect(),
    };
    format!("{ip}:{:04X}", address.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two rows of a real `/proc/net/udp` (header shortened), the second with 7 drops.
    const TABLE: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
        \x20 0: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1234 2 0000000000000000 0\n\
        \x20 1: 0100007F:15BA 00000000:0000 07 00000000:00034000 00:00000000 00000000     0        0 5678 2 0000000000000000 7\n";

    #[test]
    fn the_row_of_the_socket_gives_its_drops() {
        assert_eq!(drops_in(TABLE, "127.0.0.1:5562".parse().unwrap()), Some(7));
        assert_eq!(drops_in(TABLE, "0.0.0.0:68".parse().unwrap()), Some(0));
        assert_eq!(drops_in(TABLE, "127.0.0.1:5563".parse().unwrap()), None);
    }

    #[test]
    fn addresses_are_written_as_the_kernel_writes_them() {
        assert_eq!(hex_address("127.0.0.1:5562".parse().unwrap()), "0100007F:15BA");
        assert_eq!(
            hex_address("[::1]:514".parse().unwrap()),
            "00000000000000000000000001000000:0202"
        );
    }

    /// On this machine: a socket just bound has a row, with no drops.
    #[test]
    fn a_bound_socket_is_found_in_the_kernel_table() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let local = socket.local_addr().unwrap();
        if std::path::Path::new("/proc/net/udp").exists() {
            assert_eq!(udp_drops(local), Some(0));
        }
    }
}
