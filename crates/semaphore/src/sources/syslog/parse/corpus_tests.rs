//! The corpus: lines shaped as their senders document them (RFC 5424's and RFC 3164's own examples, Cisco's
//! IOS, IOS-XE, NX-OS and ASA message guides, Junos, Arista EOS, Meraki's "Syslog Event Types and Log
//! Samples"), each with the fields it must yield. The property tests mutate the same lines.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::sources::syslog::parse::parse;

/// When every corpus line arrives; yearless times are placed relative to it.
const RECEIVED_AT: &str = "2026-03-02T12:00:00Z";

pub(super) fn received_at() -> DateTime<Utc> {
    instant(RECEIVED_AT)
}

/// Every corpus line.
pub(super) fn lines() -> Vec<&'static str> {
    [
        rfc5424(),
        juniper(),
        bsd(),
        cisco_ios(),
        cisco_nx_os(),
        cisco_asa(),
        arista(),
        meraki(),
        bad_input(),
    ]
    .concat()
    .into_iter()
    .map(|(line, _)| line)
    .collect()
}

#[test]
fn the_corpus_has_forty_lines_or_more() {
    assert!(lines().len() >= 40, "the corpus has {} lines", lines().len());
}

#[test]
fn rfc5424_lines() {
    check_all(rfc5424());
}

#[test]
fn juniper_lines() {
    check_all(juniper());
}

#[test]
fn bsd_lines() {
    check_all(bsd());
}

#[test]
fn cisco_ios_lines() {
    check_all(cisco_ios());
}

#[test]
fn cisco_nx_os_lines() {
    check_all(cisco_nx_os());
}

#[test]
fn cisco_asa_lines() {
    check_all(cisco_asa());
}

#[test]
fn arista_lines() {
    check_all(arista());
}

#[test]
fn meraki_lines() {
    check_all(meraki());
}

#[test]
fn bad_input_lines() {
    check_all(bad_input());
}

/// Checks the fields each case names, as the record serializes them (`ts` as an instant); a case that does
/// not name `parseError` or `invalidUtf8` expects null and false.
fn check_all(cases: Vec<(&'static str, Value)>) {
    for (line, expected) in cases {
        let parsed = parse(line.as_bytes(), received_at());
        let actual = serde_json::to_value(&parsed).unwrap();
        let expected = expected.as_object().unwrap();
        for (key, value) in expected {
            match key.as_str() {
                "ts" => assert_eq!(parsed.ts, instant(value.as_str().unwrap()), "ts of {line}"),
                _ => assert_eq!(actual.get(key), Some(value), "{key} of {line}"),
            }
        }
        for (key, default) in [("parseError", Value::Null), ("invalidUtf8", Value::Bool(false))] {
            if !expected.contains_key(key) {
                assert_eq!(actual.get(key), Some(&default), "{key} of {line}");
            }
        }
    }
}

fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn rfc5424() -> Vec<(&'static str, Value)> {
    vec![
        (
            "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{feff}'su root' failed for lonvick on /dev/pts/8",
            json!({
                "ts": "2003-10-11T22:14:15.003Z", "tsSource": "message",
                "facility": 4, "facilityName": "auth", "severity": 2, "severityName": "crit",
                "hostname": "mymachine.example.com", "appName": "su", "procId": null, "msgId": "ID47",
                "structuredData": null, "message": "'su root' failed for lonvick on /dev/pts/8", "vendor": null,
            }),
        ),
        (
            "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
            json!({
                "ts": "2003-08-24T12:14:15.000003Z", "tsSource": "message",
                "facility": 20, "facilityName": "local4", "severity": 5, "severityName": "notice",
                "hostname": "192.0.2.1", "appName": "myproc", "procId": "8710", "msgId": null,
                "message": "%% It's time to make the do-nuts.", "mnemonic": null, "vendor": null,
            }),
        ),
        (
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \u{feff}An application event log entry...",
            json!({
                "appName": "evntslog", "procId": null, "msgId": "ID47",
                "structuredData": {"exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"}},
                "message": "An application event log entry...",
            }),
        ),
        (
            r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]"#,
            json!({
                "structuredData": {
                    "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
                    "examplePriority@32473": {"class": "high"},
                },
                "message": r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]"#,
            }),
        ),
        (
            "<13>1 2026-03-01T18:46:11.123456+05:00 host app 42 - - offset time",
            json!({"ts": "2026-03-01T13:46:11.123456Z", "tsSource": "message", "message": "offset time"}),
        ),
        (
            "<14>1 - - - - - - no header values",
            json!({
                "ts": RECEIVED_AT, "tsSource": "received", "facilityName": "user", "severityName": "info",
                "hostname": null, "appName": null, "procId": null, "msgId": null, "structuredData": null,
                "message": "no header values",
            }),
        ),
        (
            r#"<14>1 2026-03-01T00:00:00Z host app - - [meta@1 quote="a\"b" slash="c\\d" bracket="e\]f" other="g\h"] escaped"#,
            json!({
                "structuredData": {"meta@1": {"quote": "a\"b", "slash": "c\\d", "bracket": "e]f", "other": "g\\h"}},
                "message": "escaped",
            }),
        ),
    ]
}

fn juniper() -> Vec<(&'static str, Value)> {
    vec![
        (
            r#"<165>1 2007-02-15T09:17:15.719Z router1 mgd 3046 UI_DBASE_LOGOUT_EVENT [junos@2636.1.1.1.2.18 username="regress"] User 'regress' exiting configuration mode"#,
            json!({
                "ts": "2007-02-15T09:17:15.719Z", "tsSource": "message", "hostname": "router1",
                "appName": "mgd", "procId": "3046", "msgId": "UI_DBASE_LOGOUT_EVENT",
                "vendor": "juniper", "mnemonic": "UI_DBASE_LOGOUT_EVENT",
                "structuredData": {"junos@2636.1.1.1.2.18": {"username": "regress"}},
                "message": "User 'regress' exiting configuration mode",
            }),
        ),
        (
            r#"<28>1 2026-03-01T18:46:11.456Z fw-srx1 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.129 source-address="10.0.0.5" source-port="51234" destination-address="8.8.8.8" destination-port="53" service-name="junos-dns-udp"] session created 10.0.0.5/51234->8.8.8.8/53"#,
            json!({
                "facilityName": "daemon", "severityName": "warning", "procId": null,
                "vendor": "juniper", "mnemonic": "RT_FLOW_SESSION_CREATE",
                "structuredData": {"junos@2636.1.1.1.2.129": {
                    "source-address": "10.0.0.5", "source-port": "51234", "destination-address": "8.8.8.8",
                    "destination-port": "53", "service-name": "junos-dns-udp",
                }},
                "message": "session created 10.0.0.5/51234->8.8.8.8/53",
            }),
        ),
        (
            r#"<30>1 2026-03-01T18:46:11.000+01:00 ex4300 chassisd 2101 CHASSISD_SNMP_TRAP10 [junos@2636.1.1.1.2.63 trap="fru power off"] SNMP trap generated: FRU power off"#,
            json!({
                "ts": "2026-03-01T17:46:11Z", "facilityName": "daemon", "severityName": "info",
                "vendor": "juniper", "mnemonic": "CHASSISD_SNMP_TRAP10",
                "message": "SNMP trap generated: FRU power off",
            }),
        ),
    ]
}

fn bsd() -> Vec<(&'static str, Value)> {
    vec![
        (
            "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
            json!({
                "ts": "2025-10-11T22:14:15Z", "tsSource": "message", "facilityName": "auth", "severityName": "crit",
                "hostname": "mymachine", "appName": "su", "procId": null, "msgId": null, "vendor": null,
                "message": "'su root' failed for lonvick on /dev/pts/8",
            }),
        ),
        (
            "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
            json!({
                "ts": "2026-02-05T17:32:18Z", "tsSource": "message", "hostname": "10.0.0.99", "appName": null,
                "message": "Use the BFG!",
            }),
        ),
        (
            "<38>Mar  2 11:58:01 bastion sshd[1234]: Accepted publickey for admin from 10.0.0.7 port 52100 ssh2",
            json!({
                "ts": "2026-03-02T11:58:01Z", "hostname": "bastion", "appName": "sshd", "procId": "1234",
                "message": "Accepted publickey for admin from 10.0.0.7 port 52100 ssh2",
            }),
        ),
        (
            "<78>Mar  2 11:00:01 CRON[4242]: (root) CMD (run-parts /etc/cron.hourly)",
            json!({
                "facilityName": "cron", "severityName": "info", "hostname": null, "appName": "CRON",
                "procId": "4242", "message": "(root) CMD (run-parts /etc/cron.hourly)",
            }),
        ),
        (
            "<86>Mar  2 11:59:59 nas01 sudo:   admin : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/ls",
            json!({
                "facilityName": "authpriv", "hostname": "nas01", "appName": "sudo",
                "message": "admin : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/ls",
            }),
        ),
        (
            "<13>hello without a header",
            json!({
                "ts": RECEIVED_AT, "tsSource": "received", "hostname": null, "appName": null,
                "message": "hello without a header",
            }),
        ),
    ]
}

fn cisco_ios() -> Vec<(&'static str, Value)> {
    vec![
        (
            "<189>58: *Mar  1 18:46:11.123 UTC: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down",
            json!({
                "ts": RECEIVED_AT, "tsSource": "received", "facilityName": "local7", "severityName": "notice",
                "sequence": 58, "hostname": null, "vendor": "cisco", "mnemonic": "LINK-3-UPDOWN",
                "message": "Interface GigabitEthernet0/1, changed state to down",
            }),
        ),
        (
            "<189>59: .Mar  1 18:46:12.456 UTC: %LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/1, changed state to down",
            json!({
                "ts": "2026-03-01T18:46:12.456Z", "tsSource": "message", "sequence": 59,
                "mnemonic": "LINEPROTO-5-UPDOWN",
            }),
        ),
        (
            "<189>123: router1: Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.1)",
            json!({
                "ts": "2026-03-01T18:46:11.123Z", "tsSource": "message", "sequence": 123, "hostname": "router1",
                "vendor": "cisco", "mnemonic": "SYS-5-CONFIG_I",
                "message": "Configured from console by admin on vty0 (10.0.0.1)",
            }),
        ),
        (
            "<189>: Mar 1 2026 18:46:11 CET: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.1)",
            json!({"ts": "2026-03-01T17:46:11Z", "tsSource": "message", "sequence": null, "mnemonic": "SYS-5-CONFIG_I"}),
        ),
        (
            "<190>77: Mar  1 10:46:11.123 PST: %SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: admin] [Source: 10.0.0.5] [localport: 22] at 10:46:11 PST Sun Mar 1 2026",
            json!({
                "ts": "2026-03-01T18:46:11.123Z", "severityName": "info", "mnemonic": "SEC_LOGIN-5-LOGIN_SUCCESS",
                "message": "Login Success [user: admin] [Source: 10.0.0.5] [localport: 22] at 10:46:11 PST Sun Mar 1 2026",
            }),
        ),
        (
            "<189>1042: Mar  1 13:46:11 EST: %DUAL-5-NBRCHANGE: EIGRP-IPv4 100: Neighbor 10.1.1.2 (GigabitEthernet0/1) is up: new adjacency",
            json!({
                "ts": "2026-03-01T18:46:11Z", "sequence": 1042, "mnemonic": "DUAL-5-NBRCHANGE",
                "message": "EIGRP-IPv4 100: Neighbor 10.1.1.2 (GigabitEthernet0/1) is up: new adjacency",
            }),
        ),
        (
            "<187>2345: Nov 14 10:15:22.123: %LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/2, changed state to up",
            json!({
                "ts": "2025-11-14T10:15:22.123Z", "tsSource": "message", "severityName": "err", "sequence": 2345,
                "message": "Line protocol on Interface GigabitEthernet0/2, changed state to up",
            }),
        ),
        (
            "<189>60: *Mar  1 00:00:42.123: %SYS-5-RESTART: System restarted --",
            json!({"ts": RECEIVED_AT, "tsSource": "received", "mnemonic": "SYS-5-RESTART", "message": "System restarted --"}),
        ),
        (
            "<189>61: Mar  1 22:46:11 AZT: %SYS-5-CONFIG_I: Configured from console by vty0",
            json!({"ts": RECEIVED_AT, "tsSource": "received", "sequence": 61, "mnemonic": "SYS-5-CONFIG_I"}),
        ),
        (
            "<189>12: 1d02h: %LINK-5-CHANGED: Interface Serial0/0, changed state to administratively down",
            json!({
                "ts": RECEIVED_AT, "tsSource": "received", "sequence": 12, "mnemonic": "LINK-5-CHANGED",
                "message": "Interface Serial0/0, changed state to administratively down",
            }),
        ),
        (
            "<187>86: Mar  1 18:46:11.123 UTC: %LINK-3-UPDOWN: SIP0/0: Interface GigabitEthernet0/0/1, changed state to down",
            json!({
                "ts": "2026-03-01T18:46:11.123Z", "mnemonic": "LINK-3-UPDOWN",
                "message": "SIP0/0: Interface GigabitEthernet0/0/1, changed state to down",
            }),
        ),
        (
            "<190>2201: 10.0.0.1: Mar  1 18:46:11.123 UTC: %SEC-6-IPACCESSLOGP: list 101 denied tcp 10.1.1.1(51234) -> 10.2.2.2(23), 1 packet",
            json!({
                "hostname": "10.0.0.1", "sequence": 2201, "mnemonic": "SEC-6-IPACCESSLOGP",
                "message": "list 101 denied tcp 10.1.1.1(51234) -> 10.2.2.2(23), 1 packet",
            }),
        ),
        (
            "<189>58: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up",
            json!({
                "ts": RECEIVED_AT, "tsSource": "received", "sequence": 58, "vendor": "cisco",
                "mnemonic": "LINK-3-UPDOWN", "message": "Interface GigabitEthernet0/1, changed state to up",
            }),
        ),
    ]
}

fn cisco_nx_os() -> Vec<(&'static str, Value)> {
    vec![
        (
            "<189>2026 Mar  1 18:46:11 switch1 %ETHPORT-5-IF_UP: Interface Ethernet1/1 is up in mode access",
            json!({
                "ts": "2026-03-01T18:46:11Z", "tsSource": "message", "hostname": "switch1", "sequence": null,
                "vendor": "cisco", "mnemonic": "ETHPORT-5-IF_UP", "message": "Interface Ethernet1/1 is up in mode access",
            }),
        ),
        (
            "<187>: 2026 Mar  1 18:46:11 UTC: %ETHPORT-3-IF_DOWN_LINK_FAILURE: Interface Ethernet1/2 is down (Link failure)",
            json!({
                "ts": "2026-03-01T18:46:11Z", "hostname": null, "mnemonic": "ETHPORT-3-IF_DOWN_LINK_FAILURE",
                "message": "Interface Ethernet1/2 is down (Link failure)",
            }),
        ),
        (
            "<189>2026 Mar  1 18:46:11.456 nexus9k %VSHD-5-VSHD_SYSLOG_CONFIG_I: Configured from vty by admin on 10.0.0.9@pts/0",
            json!({
                "ts": "2026-03-01T18:46:11.456Z", "hostname": "nexus9k", "mnemonic": "VSHD-5-VSHD_SYSLOG_CONFIG_I",
                "message": "Configured from vty by admin on 10.0.0.9@pts/0",
            }),
        ),
    ]
}

fn cisco_asa() -> Vec<(&'static str, Value)> {
    vec![
        (
            "<166>Jan 05 2026 10:01:02: %ASA-6-302013: Built outbound TCP connection 123 for outside:1.2.3.4/443 (1.2.3.4/443) to inside:10.0.0.5/51234 (10.0.0.5/51234)",
            json!({
                "ts": "2026-01-05T10:01:02Z", "tsSource": "message", "facilityName": "local4", "severityName": "info",
                "hostname": null, "vendor": "cisco-asa", "mnemonic": "ASA-6-302013",
                "message": "Built outbound TCP connection 123 for outside:1.2.3.4/443 (1.2.3.4/443) to inside:10.0.0.5/51234 (10.0.0.5/51234)",
            }),
        ),
        (
            r#"<164>%ASA-4-106023: Deny tcp src outside:203.0.113.9/4444 dst inside:10.0.0.5/22 by access-group "outside_access_in" [0x0, 0x0]"#,
            json!({
                "ts": RECEIVED_AT, "tsSource": "received", "severityName": "warning", "vendor": "cisco-asa",
                "mnemonic": "ASA-4-106023",
                "message": r#"Deny tcp src outside:203.0.113.9/4444 dst inside:10.0.0.5/22 by access-group "outside_access_in" [0x0, 0x0]"#,
            }),
        ),
        (
            "<166>:Jan 05 10:01:02 UTC: %ASA-6-305011: Built dynamic TCP translation from inside:10.0.0.5/51234 to outside:198.51.100.7/51234",
            json!({"ts": "2026-01-05T10:01:02Z", "tsSource": "message", "sequence": null, "mnemonic": "ASA-6-305011"}),
        ),
        (
            "<166>Jan 05 2026 10:01:02 fw01 : %ASA-6-302014: Teardown TCP connection 123 for outside:1.2.3.4/443 to inside:10.0.0.5/51234 duration 0:00:30 bytes 5120 TCP FINs",
            json!({
                "ts": "2026-01-05T10:01:02Z", "hostname": "fw01", "appName": null, "vendor": "cisco-asa",
                "mnemonic": "ASA-6-302014",
                "message": "Teardown TCP connection 123 for outside:1.2.3.4/443 to inside:10.0.0.5/51234 duration 0:00:30 bytes 5120 TCP FINs",
            }),
        ),
        (
            "<163>Mar 01 2026 18:46:11 fw02 : %ASA-3-710003: TCP access denied by ACL from 198.51.100.9/5555 to outside:203.0.113.1/22",
            json!({"severityName": "err", "hostname": "fw02", "vendor": "cisco-asa", "mnemonic": "ASA-3-710003"}),
        ),
    ]
}

fn arista() -> Vec<(&'static str, Value)> {
    vec![
        (
            "<189>Mar  1 18:46:11 switch1 Ebra: %LINEPROTO-5-UPDOWN: Line protocol on Interface Ethernet1, changed state to up",
            json!({
                "ts": "2026-03-01T18:46:11Z", "tsSource": "message", "hostname": "switch1", "appName": "Ebra",
                "procId": null, "vendor": "arista", "mnemonic": "LINEPROTO-5-UPDOWN",
                "message": "Line protocol on Interface Ethernet1, changed state to up",
            }),
        ),
        (
            "<149>Apr 16 11:04:17 edge01 Rib: %BGP-3-NOTIFICATION: received from neighbor 10.0.0.1 (AS 65001) 6/1 (Cease/maximum number of prefixes reached) 0 bytes",
            json!({
                "ts": "2025-04-16T11:04:17Z", "facilityName": "local2", "severityName": "notice",
                "hostname": "edge01", "appName": "Rib", "vendor": "arista", "mnemonic": "BGP-3-NOTIFICATION",
            }),
        ),
        (
            r#"<190>Mar  1 18:46:11 leaf2 Lldp: %LLDP-5-NEIGHBOR_NEW: LLDP neighbor with chassisId 001c.7300.0001 and portId "Ethernet1" added on interface Ethernet49/1"#,
            json!({"hostname": "leaf2", "appName": "Lldp", "vendor": "arista", "mnemonic": "LLDP-5-NEIGHBOR_NEW"}),
        ),
    ]
}

fn meraki() -> Vec<(&'static str, Value)> {
    vec![
        (
            "<134>1 1701234567.123456789 MX84 flows src=192.168.1.10 dst=8.8.8.8 mac=00:11:22:33:44:55 protocol=udp sport=53211 dport=53 pattern: allow all",
            json!({
                "ts": "2023-11-29T05:09:27.123456789Z", "tsSource": "message",
                "facilityName": "local0", "severityName": "info", "hostname": "MX84", "vendor": "meraki",
                "eventType": "flows", "message": "allow all",
                "fields": {
                    "src": "192.168.1.10", "dst": "8.8.8.8", "mac": "00:11:22:33:44:55", "protocol": "udp",
                    "sport": "53211", "dport": "53",
                },
            }),
        ),
        (
            "<134>1 1563249910.949155659 AP_firstfloor urls src=10.0.0.5:51234 dst=52.1.2.3:443 mac=13:0C:AC:B2:0F:11 agent='Spotify/110600113 OSX/0 (MacBookAir7,2)' request: GET https://example.com/path?q=1",
            json!({
                "ts": "2019-07-16T04:05:10.949155659Z", "hostname": "AP_firstfloor", "eventType": "urls",
                "fields": {
                    "src": "10.0.0.5:51234", "dst": "52.1.2.3:443", "mac": "13:0C:AC:B2:0F:11",
                    "agent": "Spotify/110600113 OSX/0 (MacBookAir7,2)",
                },
                "message": "GET https://example.com/path?q=1",
            }),
        ),
        (
            "<134>1 1380664994.337961231 MX84 events type=vpn_connectivity_change vpn_type='site-to-site' peer_contact='98.68.191.209:51856' peer_ident='2814ee002c075181bb1b7478ee073860' connectivity='true'",
            json!({
                "ts": "2013-10-01T22:03:14.337961231Z", "eventType": "events",
                "fields": {
                    "type": "vpn_connectivity_change", "vpn_type": "site-to-site",
                    "peer_contact": "98.68.191.209:51856", "peer_ident": "2814ee002c075181bb1b7478ee073860",
                    "connectivity": "true",
                },
                "message": "type=vpn_connectivity_change vpn_type='site-to-site' peer_contact='98.68.191.209:51856' peer_ident='2814ee002c075181bb1b7478ee073860' connectivity='true'",
            }),
        ),
        (
            "<134>1 1468531589.810079 MX84 ids-alerts signature=1:28423:1 priority=1 timestamp=1468531589.810079 dhost=98:5A:EB:E1:81:2F direction=ingress protocol=tcp/ip src=151.101.52.238:80 dst=192.168.128.2:53023 message: EXPLOIT-KIT Multiple exploit kit single digit exe detection",
            json!({
                "ts": "2016-07-14T21:26:29.810079Z", "eventType": "ids-alerts",
                "fields": {
                    "signature": "1:28423:1", "priority": "1", "timestamp": "1468531589.810079",
                    "dhost": "98:5A:EB:E1:81:2F", "direction": "ingress", "protocol": "tcp/ip",
                    "src": "151.101.52.238:80", "dst": "192.168.128.2:53023",
                },
                "message": "EXPLOIT-KIT Multiple exploit kit single digit exe detection",
            }),
        ),
        (
            "<134>1 1563249630.774247467 remote_DC1_appliance security_event ids_alerted signature=1:41944:2 priority=1 timestamp=1563249630.647461 dhost=74:86:7A:D9:D7:AA direction=ingress protocol=tcp/ip src=203.0.113.5:80 dst=10.0.0.9:51000 message: BROWSER-IE Microsoft Edge scripting engine security bypass css attempt",
            json!({
                "ts": "2019-07-16T04:00:30.774247467Z", "hostname": "remote_DC1_appliance",
                "eventType": "security_event",
                "message": "BROWSER-IE Microsoft Edge scripting engine security bypass css attempt",
            }),
        ),
        (
            "<134>1 1563262058.692773343 AP_secondfloor airmarshal_events type=ssid_spoofing_detected ssid='Guest' vap='10' bssid='9A:69:66:99:66:9A' src='64:92:49:26:99:64' dst='00:00:48:04:00:1F' channel='36' rssi='3'",
            json!({
                "ts": "2019-07-16T07:27:38.692773343Z", "eventType": "airmarshal_events",
                "fields": {
                    "type": "ssid_spoofing_detected", "ssid": "Guest", "vap": "10", "bssid": "9A:69:66:99:66:9A",
                    "src": "64:92:49:26:99:64", "dst": "00:00:48:04:00:1F", "channel": "36", "rssi": "3",
                },
            }),
        ),
        (
            "<134>1 1380664922.583851938 MS220_8P events Port 3 changed STP role from disabled to designated",
            json!({
                "ts": "2013-10-01T22:02:02.583851938Z", "hostname": "MS220_8P", "eventType": "events",
                "fields": null, "message": "Port 3 changed STP role from disabled to designated",
            }),
        ),
        (
            "<134>1 1563262452.817053535 Reception flows deny src=10.0.0.7 dst=93.184.216.34 mac=19:EC:C5:7A:B2:2D protocol=tcp sport=61822 dport=8080",
            json!({
                "ts": "2019-07-16T07:34:12.817053535Z", "eventType": "flows",
                "fields": {
                    "subtype": "deny", "src": "10.0.0.7", "dst": "93.184.216.34", "mac": "19:EC:C5:7A:B2:2D",
                    "protocol": "tcp", "sport": "61822", "dport": "8080",
                },
            }),
        ),
        (
            "<134>1 948136486.721741837 MX60 firewall src=192.168.10.254 dst=8.8.8.8 mac=00:18:0A:XX:XX:XX protocol=udp sport=9562 dport=53 pattern: allow all",
            json!({
                "ts": "2000-01-17T19:14:46.721741837Z", "hostname": "MX60", "eventType": "firewall",
                "message": "allow all",
            }),
        ),
    ]
}

fn bad_input() -> Vec<(&'static str, Value)> {
    vec![
        (
            "<999>",
            json!({"parseError": "priority 999 is above 191", "message": "<999>", "facility": null}),
        ),
        (
            "<13",
            json!({"parseError": "priority is not closed by `>`", "message": "<13"}),
        ),
        (
            "<",
            json!({"parseError": "priority is not closed by `>`", "message": "<"}),
        ),
        (
            "<13>1 ",
            json!({
                "parseError": "header ends before the timestamp (RFC 5424)", "message": "<13>1 ",
                "ts": RECEIVED_AT, "tsSource": "received", "facility": 1, "severity": 5,
            }),
        ),
        (
            "<13>1 2026-03-01T00:00:00Z",
            json!({"parseError": "header ends before the hostname (RFC 5424)", "hostname": null}),
        ),
        (
            r#"<13>1 2026-03-01T00:00:00Z host app - - [unbalanced@1 a="1""#,
            json!({
                "parseError": "structured data: element is not closed by `]`",
                "message": r#"<13>1 2026-03-01T00:00:00Z host app - - [unbalanced@1 a="1""#,
                "structuredData": null, "tsSource": "received",
            }),
        ),
        (
            "no priority at all",
            json!({
                "parseError": "no priority: the line does not start with `<`", "message": "no priority at all",
                "facility": null, "severity": null,
            }),
        ),
    ]
}
