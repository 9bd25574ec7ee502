#!/usr/bin/env python3
"""pipeline_proxy.py - a TCP proxy in front of Redis for
test_cli_purge_pace.sh that shows how deep a client's pipelines are.

usage: pipeline_proxy.py REDIS_PORT PORT_FILE STATS_FILE
Listens on a free loopback port (written to PORT_FILE) and forwards every
connection to Redis.  A client writes a whole pipeline before it reads a
reply, and the next one only after the replies, so the commands that
complete within one read from the client are at most one pipeline.  After
each read, before forwarding it, STATS_FILE is rewritten (JSON):
  reads             reads from clients
  commands          commands seen
  max_per_read      the most commands completed in one read
  max_scripts_per_read  the most EVALSHA in one read
  deletes           EVALSHA calls with 3 keys (the delete script)
  delete_keys_bad   of those, calls whose first key is not one session
  scans             SCAN calls; max_scan_count the largest COUNT
Nothing here measures time."""
import json
import os
import socket
import sys
import threading

lock = threading.Lock()
stats = {"reads": 0, "commands": 0, "max_per_read": 0,
         "max_scripts_per_read": 0, "deletes": 0, "delete_keys_bad": 0,
         "scans": 0, "max_scan_count": 0}


def parse(buf):
    """Complete RESP commands at the front of buf: (commands, rest)."""
    cmds, i = [], 0
    while i < len(buf):
        if buf[i:i + 1] != b"*":
            j = buf.find(b"\r\n", i)
            if j < 0:
                break
            cmds.append(buf[i:j].split())
            i = j + 2
            continue
        j = buf.find(b"\r\n", i)
        if j < 0:
            break
        n, k, args = int(buf[i + 1:j]), j + 2, []
        for _ in range(n):
            e = buf.find(b"\r\n", k)
            if e < 0:
                break
            ln = int(buf[k + 1:e])
            if e + 2 + ln + 2 > len(buf):
                break
            args.append(buf[e + 2:e + 2 + ln])
            k = e + 2 + ln + 2
        if len(args) < n:
            break
        cmds.append(args)
        i = k
    return cmds, buf[i:]


def account(cmds, stats_file):
    with lock:
        stats["reads"] += 1
        stats["commands"] += len(cmds)
        stats["max_per_read"] = max(stats["max_per_read"], len(cmds))
        scripts = 0
        for c in cmds:
            name = c[0].upper() if c else b""
            if name == b"EVALSHA":
                scripts += 1
                if len(c) > 2 and c[2] == b"3":
                    stats["deletes"] += 1
                    if b"}:sess:" not in c[3] or b" " in c[3]:
                        stats["delete_keys_bad"] += 1
            elif name == b"SCAN":
                stats["scans"] += 1
                for a, b in zip(c, c[1:]):
                    if a.upper() == b"COUNT":
                        stats["max_scan_count"] = max(
                            stats["max_scan_count"], int(b))
        stats["max_scripts_per_read"] = max(stats["max_scripts_per_read"],
                                            scripts)
        tmp = stats_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(stats, f)
        os.replace(tmp, stats_file)


def client_to_redis(c, r, stats_file):
    pending = b""
    try:
        while True:
            data = c.recv(1 << 20)
            if not data:
                break
            cmds, pending = parse(pending + data)
            account(cmds, stats_file)
            r.sendall(data)
    except OSError:
        pass
    for s in (c, r):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def redis_to_client(r, c):
    try:
        while True:
            data = r.recv(1 << 20)
            if not data:
                break
            c.sendall(data)
    except OSError:
        pass
    try:
        c.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def main():
    redis_port, port_file, stats_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    account([], stats_file)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.replace(port_file + ".tmp", port_file)
    while True:
        c, _ = ls.accept()
        r = socket.create_connection(("127.0.0.1", redis_port))
        for s in (c, r):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=client_to_redis, args=(c, r, stats_file),
                         daemon=True).start()
        threading.Thread(target=redis_to_client, args=(r, c),
                         daemon=True).start()


if __name__ == "__main__":
    main()
