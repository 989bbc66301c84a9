//! `[inventory] file`: the operator's devices, one CSV row per address, under a header naming the columns:
//! `ip,hostname,serial,site,role,tags` (any order, any case; only `ip` is required), as a NetBox export
//! template or a spreadsheet writes them. `ip` is an IPv4 or IPv6 address, with or without the prefix length
//! NetBox writes (`10.0.0.1/24`); `tags` holds tags separated by `;` or `,` (quoted, since a bare comma ends
//! the field).
//!
//! Read at start (and by `check -c`); a file semaphore cannot use is a configuration error naming its line,
//! its column and the fix, since a device silently left out would send its lines unnamed.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::device_identity::csv_rows::{self, Row, SyntaxError};
use crate::device_identity::identity::DeviceIdentity;

/// The columns, as errors list them.
const COLUMN_LIST: &str = "ip (required), hostname, serial, site, role, tags";

/// The devices of the file, by address.
#[derive(Clone, Default)]
pub struct StaticDevices {
    by_address: HashMap<IpAddr, Arc<DeviceIdentity>>,
}

/// Why the device file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DeviceFileError {
    #[error("cannot read the device file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the device file {path}, {problem}")]
    Invalid { path: PathBuf, problem: FileProblem },
}

/// Where the file is wrong, and what to do about it.
#[derive(Debug, PartialEq)]
pub struct FileProblem {
    pub line: usize,
    /// The column at fault, from 1, with its name when the header gives it one.
    pub column: Option<(usize, Option<String>)>,
    pub reason: String,
}

impl StaticDevices {
    /// Reads and checks the file.
    pub fn read(path: &Path) -> Result<Self, DeviceFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| DeviceFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|problem| DeviceFileError::Invalid {
            path: path.to_owned(),
            problem,
        })
    }

    /// The devices `text` lists: the header first, then one row per address.
    pub fn parse(text: &str) -> Result<Self, FileProblem> {
        let split_text = csv_rows::split(text);
        let Some((header_row, rows)) = split_text.rows.split_first() else {
            return Err(match split_text.error {
                Some(error) => unnamed(error),
                None => FileProblem {
                    line: 1,
                    column: None,
                    reason: format!("the file is empty; its first line names the columns: {COLUMN_LIST}"),
                },
            });
        };
        let header = Header::parse(header_row)?;
        if let Some(error) = split_text.error {
            return Err(header.problem(error.line, error.field, error.reason.to_owned()));
        }
        let mut by_address = HashMap::new();
        let mut lines = HashMap::new();
        for row in rows {
            let (address, identity) = header.device(row)?;
            if let Some(first) = lines.insert(address, row.line) {
                let reason = format!("{address} is also on line {first}; write one line per address");
                return Err(header.problem(row.line, header.ip, reason));
            }
            by_address.insert(address, Arc::new(identity));
        }
        Ok(Self { by_address })
    }

    /// The device at `address` (an IPv4 address as itself, not mapped into IPv6).
    pub fn get(&self, address: IpAddr) -> Option<&Arc<DeviceIdentity>> {
        self.by_address.get(&address)
    }

    /// Every device of the file with its address, in address order (the SNMP poller's targets).
    pub fn devices(&self) -> Vec<(IpAddr, Arc<DeviceIdentity>)> {
        let mut devices: Vec<(IpAddr, Arc<DeviceIdentity>)> = self
            .by_address
            .iter()
            .map(|(address, identity)| (*address, identity.clone()))
            .collect();
        devices.sort_by_key(|(address, _)| *address);
        devices
    }

    /// How many addresses the file names.
    pub fn len(&self) -> usize {
        self.by_address.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_address.is_empty()
    }
}

impl fmt::Debug for StaticDevices {
    // A file may hold thousands of devices: a config's Debug says how many, not each.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "StaticDevices({} addresses)", self.by_address.len())
    }
}

impl fmt::Display for FileProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "line {}", self.line)?;
        match &self.column {
            Some((number, Some(name))) => write!(formatter, ", column {number} ({name})")?,
            Some((number, None)) => write!(formatter, ", column {number}")?,
            None => {}
        }
        write!(formatter, ": {}", self.reason)
    }
}

/// A syntax error of the header row itself: no column has a name yet.
fn unnamed(error: SyntaxError) -> FileProblem {
    FileProblem {
        line: error.line,
        column: Some((error.field + 1, None)),
        reason: error.reason.to_owned(),
    }
}

/// A column the file may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Ip,
    Hostname,
    Serial,
    Site,
    Role,
    Tags,
}

impl Column {
    const ALL: [Column; 6] = [
        Column::Ip,
        Column::Hostname,
        Column::Serial,
        Column::Site,
        Column::Role,
        Column::Tags,
    ];

    fn name(self) -> &'static str {
        match self {
            Column::Ip => "ip",
            Column::Hostname => "hostname",
            Column::Serial => "serial",
            Column::Site => "site",
            Column::Role => "role",
            Column::Tags => "tags",
        }
    }

    /// The column a header names, in any case.
    fn named(name: &str) -> Option<Column> {
        Column::ALL
            .into_iter()
            .find(|column| column.name().eq_ignore_ascii_case(name))
    }
}

/// The header row: which column each field is.
struct Header {
    columns: Vec<Column>,
    /// Where `ip` is, from 0.
    ip: usize,
}

impl Header {
    fn parse(row: &Row) -> Result<Self, FileProblem> {
        let mut columns = Vec::with_capacity(row.fields.len());
        for (index, name) in row.fields.iter().enumerate() {
            let column_name = (!name.is_empty()).then(|| name.clone());
            let problem = |reason: String| FileProblem {
                line: row.line,
                column: Some((index + 1, column_name.clone())),
                reason,
            };
            let Some(column) = Column::named(name) else {
                let reason = "not a column semaphore knows; the first line names the columns:";
                return Err(problem(format!("{reason} {COLUMN_LIST}")));
            };
            if columns.contains(&column) {
                let reason = "a second column of this name; name each column once";
                return Err(problem(reason.to_owned()));
            }
            columns.push(column);
        }
        let Some(ip) = columns.iter().position(|column| *column == Column::Ip) else {
            return Err(FileProblem {
                line: row.line,
                column: None,
                reason: format!("no ip column; the first line names the columns: {COLUMN_LIST}"),
            });
        };
        Ok(Self { columns, ip })
    }

    /// What is wrong at field `index` (from 0) of the row on `line`.
    fn problem(&self, line: usize, index: usize, reason: String) -> FileProblem {
        let name = self.columns.get(index).map(|column| column.name().to_owned());
        FileProblem {
            line,
            column: Some((index + 1, name)),
            reason,
        }
    }

    /// The device of one row: its address and what the other columns say of it.
    fn device(&self, row: &Row) -> Result<(IpAddr, DeviceIdentity), FileProblem> {
        if row.fields.len() > self.columns.len() {
            return Err(FileProblem {
                line: row.line,
                column: None,
                reason: format!(
                    "{} fields, but the header has {} columns; quote a field that holds a comma \
                     (\"dc,core\")",
                    row.fields.len(),
                    self.columns.len()
                ),
            });
        }
        let mut identity = DeviceIdentity::default();
        let mut address = None;
        for (index, (column, field)) in self.columns.iter().zip(&row.fields).enumerate() {
            match column {
                Column::Ip => {
                    let parsed =
                        parse_address(field).map_err(|reason| self.problem(row.line, index, reason))?;
                    address = Some(parsed);
                }
                Column::Hostname => identity.name = known(field),
                Column::Serial => identity.serial = known(field),
                Column::Site => identity.site = known(field),
                Column::Role => identity.role = known(field),
                Column::Tags => identity.tags = tags(field),
            }
        }
        let Some(address) = address else {
            return Err(self.problem(row.line, self.ip, MISSING_ADDRESS.to_owned()));
        };
        Ok((address, identity))
    }
}

const MISSING_ADDRESS: &str = "empty; every row needs the address the device sends from";

/// An address as the file may write it: IPv4 or IPv6, with or without a prefix length.
fn parse_address(field: &str) -> Result<IpAddr, String> {
    if field.is_empty() {
        return Err(MISSING_ADDRESS.to_owned());
    }
    let (address, prefix) = match field.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (field, None),
    };
    let prefix_fits = |parsed: &IpAddr| match prefix {
        None => true,
        Some(prefix) => {
            let longest = if parsed.is_ipv4() { 32 } else { 128 };
            prefix.parse::<u8>().is_ok_and(|length| length <= longest)
        }
    };
    match address.parse::<IpAddr>().ok().filter(prefix_fits) {
        // `::ffff:10.0.0.1` is 10.0.0.1, as the syslog source canonicalizes its senders.
        Some(address) => Ok(address.to_canonical()),
        None => Err(format!(
            "{field:?} is not an IP address; write an IPv4 (192.0.2.10) or IPv6 (2001:db8::10) address, \
             with or without its prefix length (192.0.2.10/24)"
        )),
    }
}

/// A field's text, or `None` when it is empty.
fn known(field: &str) -> Option<String> {
    (!field.is_empty()).then(|| field.to_owned())
}

/// The tags of a field: separated by `;` or `,`, blanks dropped.
fn tags(field: &str) -> Vec<String> {
    field
        .split([';', ','])
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "ip,hostname,serial,site,role,tags\n";

    fn parse(rows: &str) -> Result<StaticDevices, String> {
        StaticDevices::parse(&format!("{HEADER}{rows}")).map_err(|problem| problem.to_string())
    }

    fn device(devices: &StaticDevices, address: &str) -> DeviceIdentity {
        let address: IpAddr = address.parse().unwrap();
        devices
            .get(address)
            .map(|identity| (**identity).clone())
            .unwrap_or_else(|| panic!("no device at {address}"))
    }

    /// The SNMP poller polls the file's devices: every one, in address order.
    #[test]
    fn the_devices_are_listed_in_address_order() {
        let devices = StaticDevices::parse("ip,hostname\n10.0.0.2,b\n10.0.0.1,a\n2001:db8::1,c\n").unwrap();
        let listed: Vec<(String, Option<String>)> = devices
            .devices()
            .into_iter()
            .map(|(address, identity)| (address.to_string(), identity.name.clone()))
            .collect();
        let expected = [("10.0.0.1", "a"), ("10.0.0.2", "b"), ("2001:db8::1", "c")]
            .map(|(address, name)| (address.to_owned(), Some(name.to_owned())));
        assert_eq!(listed, expected);
    }

    #[test]
    fn a_netbox_row_with_quoted_tags() {
        let devices = parse("127.0.0.1,core-sw1,FOC1234X,madrid,core,\"dc;core\"\n").unwrap();
        assert_eq!(devices.len(), 1);
        let expected = DeviceIdentity {
            name: Some("core-sw1".to_owned()),
            serial: Some("FOC1234X".to_owned()),
            site: Some("madrid".to_owned()),
            role: Some("core".to_owned()),
            network_id: None,
            network_name: None,
            tags: vec!["dc".to_owned(), "core".to_owned()],
        };
        assert_eq!(device(&devices, "127.0.0.1"), expected);
    }

    #[test]
    fn tags_split_on_commas_too_and_empty_fields_are_unknown() {
        let devices = parse("10.0.0.2,,,,,\"access, floor-2 ;\"\n10.0.0.3,edge,,,,\n").unwrap();
        let access = device(&devices, "10.0.0.2");
        assert_eq!(access.tags, ["access", "floor-2"]);
        assert_eq!(access.name, None);
        assert_eq!(access.serial, None);
        let edge = device(&devices, "10.0.0.3");
        assert_eq!(edge.name.as_deref(), Some("edge"));
        assert!(edge.tags.is_empty());
    }

    #[test]
    fn ipv6_prefix_lengths_and_mapped_addresses() {
        let text = "2001:db8::10,v6,,,,\n192.0.2.10/24,netbox,,,,\n::ffff:198.51.100.7,mapped,,,,\n";
        let devices = parse(text).unwrap();
        assert_eq!(device(&devices, "2001:db8::10").name.as_deref(), Some("v6"));
        assert_eq!(device(&devices, "192.0.2.10").name.as_deref(), Some("netbox"));
        assert_eq!(device(&devices, "198.51.100.7").name.as_deref(), Some("mapped"));
    }

    #[test]
    fn columns_in_any_order_and_case_and_only_ip_required() {
        let devices = StaticDevices::parse("Serial,IP\nFOC1,10.0.0.1\n\nFOC2,10.0.0.2").unwrap();
        assert_eq!(devices.len(), 2);
        assert_eq!(device(&devices, "10.0.0.2").serial.as_deref(), Some("FOC2"));
        let header_only = StaticDevices::parse("ip\n").unwrap();
        assert!(header_only.is_empty());
    }

    #[test]
    fn bad_rows_are_named_by_line_and_column() {
        let check = |rows: &str, expected: &str| {
            let Err(message) = parse(rows) else {
                panic!("{rows:?} was accepted")
            };
            assert_eq!(message, expected, "{rows:?}");
        };
        check(
            "10.0.0.300,sw1,,,,\n",
            "line 2, column 1 (ip): \"10.0.0.300\" is not an IP address; write an IPv4 (192.0.2.10) or IPv6 \
             (2001:db8::10) address, with or without its prefix length (192.0.2.10/24)",
        );
        check(
            ",sw1,,,,\n",
            "line 2, column 1 (ip): empty; every row needs the address the device sends from",
        );
        check(
            "10.0.0.1,sw1,,,,\n# a comment\n10.0.0.1,sw2,,,,\n",
            "line 4, column 1 (ip): 10.0.0.1 is also on line 2; write one line per address",
        );
        check(
            "10.0.0.1,sw1,,,,dc,core\n",
            "line 2: 7 fields, but the header has 6 columns; quote a field that holds a comma (\"dc,core\")",
        );
        check(
            "10.0.0.1,sw\"1,,,,\n",
            "line 2, column 2 (hostname): a quote inside an unquoted field; quote the whole field and write \
             each quote inside it twice (\"\")",
        );
    }

    #[test]
    fn bad_headers_are_named() {
        let check = |text: &str, expected: &str| {
            let Err(problem) = StaticDevices::parse(text) else {
                panic!("{text:?} was accepted")
            };
            assert_eq!(problem.to_string(), expected, "{text:?}");
        };
        check(
            "ip,hostnmae\n",
            "line 1, column 2 (hostnmae): not a column semaphore knows; the first line names the columns: \
             ip (required), hostname, serial, site, role, tags",
        );
        check(
            "10.0.0.1,sw1\n",
            "line 1, column 1 (10.0.0.1): not a column semaphore knows; the first line names the columns: \
             ip (required), hostname, serial, site, role, tags",
        );
        check(
            "hostname,serial\nsw1,FOC1\n",
            "line 1: no ip column; the first line names the columns: ip (required), hostname, serial, site, \
             role, tags",
        );
        check(
            "ip,IP\n",
            "line 1, column 2 (IP): a second column of this name; name each column once",
        );
        check(
            "",
            "line 1: the file is empty; its first line names the columns: ip (required), hostname, serial, \
             site, role, tags",
        );
    }

    /// The example beside `examples/semaphore.toml` is a file semaphore takes.
    #[test]
    fn the_example_file_reads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/devices.csv");
        let devices = StaticDevices::read(&path).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(devices.len(), 4);
        let firewall = device(&devices, "10.20.1.1");
        assert_eq!(firewall.tags, ["branch", "edge"]);
        assert_eq!(firewall.role.as_deref(), Some("firewall"));
        assert!(device(&devices, "2001:db8:10::5").tags.is_empty());
    }

    #[test]
    fn the_file_is_named_in_errors() {
        let path = std::env::temp_dir().join(format!("semaphore-devices-{}.csv", uuid::Uuid::new_v4()));
        std::fs::write(&path, "ip\nnot-an-address\n").unwrap();
        let message = StaticDevices::read(&path).unwrap_err().to_string();
        std::fs::remove_file(&path).unwrap();
        let expected = format!(
            "the device file {}, line 2, column 1 (ip): \"not-an-address\" is not an IP address",
            path.display()
        );
        assert!(message.starts_with(&expected), "{message}");
        let missing = StaticDevices::read(&path).unwrap_err().to_string();
        assert!(
            missing.starts_with(&format!("cannot read the device file {}: ", path.display())),
            "{missing}"
        );
    }
}
