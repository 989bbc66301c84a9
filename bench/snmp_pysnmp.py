#!/usr/bin/env python3
"""The pysnmp peer of bench/snmp.py: what an operator would write in Python to poll the default profile.

For every target, at most --in-flight at once (an asyncio semaphore), SNMPv2c with the community from
$BENCH_COMMUNITY: one GET of sysName, sysDescr, sysObjectID and sysUpTime, then GETBULK walks (--max-repetitions)
of ifTable and of ifXTable, as pysnmp 7's `get_cmd` and `bulk_walk_cmd` do them (numeric OIDs, no MIB look-up).
Each device becomes one system record and one record per interface (its columns by name), written to OUTPUT as
JSON lines: the records semaphore's `[[sources.snmp]]` writes, without the rates.

Usage: snmp_pysnmp.py TARGETS_FILE OUTPUT [--in-flight 64] [--max-repetitions 25] [--timeout 5] [--retries 1]
Runs with the Python of /opt/snmpsim (pysnmp 7 is installed there with snmpsim).
"""

import argparse
import asyncio
import json
import os
import sys

from pysnmp.hlapi.v3arch.asyncio import (CommunityData, ContextData, ObjectIdentity, ObjectType, SnmpEngine,
                                         UdpTransportTarget, bulk_walk_cmd, get_cmd)
from pyasn1.type.univ import ObjectIdentifier, OctetString

SYSTEM = {"1.3.6.1.2.1.1.5.0": "sysName", "1.3.6.1.2.1.1.1.0": "sysDescr", "1.3.6.1.2.1.1.2.0": "sysObjectID",
          "1.3.6.1.2.1.1.3.0": "sysUpTime"}
IF_TABLE = "1.3.6.1.2.1.2.2"
IF_X_TABLE = "1.3.6.1.2.1.31.1.1"
COLUMNS = {
    IF_TABLE: {2: "ifDescr", 3: "ifType", 5: "ifSpeed", 7: "ifAdminStatus", 8: "ifOperStatus", 10: "ifInOctets",
               11: "ifInUcastPkts", 13: "ifInDiscards", 14: "ifInErrors", 16: "ifOutOctets", 17: "ifOutUcastPkts",
               19: "ifOutDiscards", 20: "ifOutErrors"},
    IF_X_TABLE: {1: "ifName", 2: "ifInMulticastPkts", 3: "ifInBroadcastPkts", 4: "ifOutMulticastPkts",
                 5: "ifOutBroadcastPkts", 6: "ifHCInOctets", 7: "ifHCInUcastPkts", 8: "ifHCInMulticastPkts",
                 9: "ifHCInBroadcastPkts", 10: "ifHCOutOctets", 11: "ifHCOutUcastPkts", 12: "ifHCOutMulticastPkts",
                 13: "ifHCOutBroadcastPkts", 15: "ifHighSpeed", 18: "ifAlias"},
}


def plain(value):
    if isinstance(value, OctetString):
        return value.asOctets().decode("utf-8", "replace")
    if isinstance(value, ObjectIdentifier):
        return str(value)
    return int(value)


async def poll(engine, community, address, settings, limit, output, errors):
    max_repetitions, timeout, retries = settings
    host, port = address.rsplit(":", 1)
    async with limit:
        try:
            target = await UdpTransportTarget.create((host, int(port)), timeout=timeout, retries=retries)
            error, status, _, var_binds = await get_cmd(
                engine, community, target, ContextData(), *(ObjectType(ObjectIdentity(oid)) for oid in SYSTEM),
                lookupMib=False)
            if error or status:
                raise RuntimeError(f"GET: {error or status.prettyPrint()}")
            system = {"target": address}
            system.update({SYSTEM[str(oid)]: plain(value) for oid, value in var_binds})
            interfaces = {}
            for table, columns in COLUMNS.items():
                prefix = len(table.split(".")) + 1  # the table's OID, then the entry's .1
                async for error, status, _, var_binds in bulk_walk_cmd(
                        engine, community, target, ContextData(), 0, max_repetitions,
                        ObjectType(ObjectIdentity(table)), lexicographicMode=False, lookupMib=False):
                    if error or status:
                        raise RuntimeError(f"walk of {table}: {error or status.prettyPrint()}")
                    for oid, value in var_binds:
                        column, index = oid[prefix], oid[prefix + 1]
                        name = columns.get(column)
                        if name:
                            interfaces.setdefault(index, {"target": address, "ifIndex": index})[name] = plain(value)
        except Exception as failure:  # a device that failed is counted, not fatal to the others
            errors.append(f"{address}: {failure}")
            return
        output.write(json.dumps(system) + "\n")
        for record in interfaces.values():
            output.write(json.dumps(record) + "\n")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("targets_file")
    parser.add_argument("output")
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--max-repetitions", type=int, default=25)
    parser.add_argument("--timeout", type=float, default=5)
    parser.add_argument("--retries", type=int, default=1)
    arguments = parser.parse_args()
    with open(arguments.targets_file) as file:
        targets = file.read().split()
    engine = SnmpEngine()
    community = CommunityData(os.environ["BENCH_COMMUNITY"], mpModel=1)
    limit = asyncio.Semaphore(arguments.in_flight)
    settings = (arguments.max_repetitions, arguments.timeout, arguments.retries)
    errors = []
    with open(arguments.output, "w") as output:
        await asyncio.gather(*(poll(engine, community, target, settings, limit, output, errors)
                               for target in targets))
    engine.close_dispatcher()
    for error in errors[:10]:
        print(error, file=sys.stderr)
    if errors:
        print(f"{len(errors)} of {len(targets)} targets failed", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
