#!/usr/bin/env python3
"""The syslog receiver an operator would otherwise write, as bench/syslog.py's peer: TCP (octet counting or
newline framing) and UDP, each RFC 5424 message parsed into a JSON record and produced with confluent-kafka to
`syslog.python`, keyed by the sender's address.

Usage: syslog_python_receiver.py BROKERS TCP_PORT UDP_PORT
"""

import json
import re
import socket
import socketserver
import sys
import threading
from datetime import datetime, timezone

from confluent_kafka import Producer

HEADER = re.compile(rb"<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) ")


def parse(line, peer):
    received = datetime.now(timezone.utc).isoformat()
    match = HEADER.match(line)
    if not match:
        return {"receivedAt": received, "sourceIp": peer, "raw": line.decode(errors="replace"),
                "parseError": "not RFC 5424"}
    priority = int(match.group(1))
    rest = line[match.end():]
    # Structured data: "-" or one or more [...] elements; the message follows.
    if rest.startswith(b"-"):
        message = rest[2:]
    else:
        depth, end = 0, 0
        for end, byte in enumerate(rest):
            depth += byte == ord("[")
            depth -= byte == ord("]")
            if depth == 0 and byte == ord("]") and rest[end + 1:end + 2] != b"[":
                break
        message = rest[end + 2:]
    text = lambda group: None if match.group(group) == b"-" else match.group(group).decode(errors="replace")
    return {"receivedAt": received, "sourceIp": peer, "ts": text(2), "facility": priority >> 3,
            "severity": priority & 7, "hostname": text(3), "appName": text(4), "procId": text(5),
            "msgId": text(6), "message": message.decode(errors="replace")}


def main():
    brokers, tcp_port, udp_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    producer = Producer({"bootstrap.servers": brokers, "linger.ms": 5, "acks": "all"})

    def send(line, peer):
        record = parse(line, peer)
        while True:
            try:
                producer.produce("syslog.python", json.dumps(record).encode(), key=peer.encode())
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)

    class Connection(socketserver.StreamRequestHandler):
        def handle(self):
            peer = self.client_address[0]
            while True:
                first = self.rfile.read(1)
                if not first:
                    return
                if first.isdigit():
                    length = first
                    while (byte := self.rfile.read(1)) and byte != b" ":
                        length += byte
                    send(self.rfile.read(int(length)).rstrip(b"\n"), peer)
                else:
                    send((first + self.rfile.readline()).rstrip(b"\n"), peer)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", tcp_port), Connection)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    udp.bind(("127.0.0.1", udp_port))
    while True:
        datagram, (peer, _) = udp.recvfrom(65536)
        send(datagram.rstrip(b"\n"), peer)


if __name__ == "__main__":
    main()
