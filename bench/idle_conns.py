#!/usr/bin/env python3
"""bench/idle_conns.py SOCKET N PID: opens N milter connections to the unix SOCKET,
negotiates the milter protocol on each (SMFIC_OPTNEG, version 6, as Postfix does) and
keeps them idle for a second; prints JSON with how many negotiated and the milter's
(PID) VmRSS / VmHWM in kB while all of them were open."""
import json
import socket
import struct
import sys
import time


def status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("milter closed the connection")
        buf += chunk
    return buf


def main():
    path, n, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    conns, negotiated = [], 0
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(path)
        body = b"O" + struct.pack(">III", 6, 0x1FF, 0x1FFFFF)
        s.sendall(struct.pack(">I", len(body)) + body)
        (length,) = struct.unpack(">I", recv_exact(s, 4))
        if recv_exact(s, length)[:1] == b"O":
            negotiated += 1
        conns.append(s)
    time.sleep(1.0)
    out = {"opened": len(conns), "negotiated": negotiated,
           "rss_kb_while_open": status(pid, "VmRSS"), "hwm_kb_while_open": status(pid, "VmHWM")}
    for s in conns:
        s.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
