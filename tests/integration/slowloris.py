#!/usr/bin/env python3
"""slowloris.py - slow clients for test_http_slow_clients.sh.

usage: slowloris.py PORT SOCKETS TRICKLES PROBES
Opens SOCKETS connections from 127.0.0.2 (so a per-address limit on them
leaves 127.0.0.1 free), each sending a request line and then one header line
per 0.5 s, TRICKLES times at most.  Meanwhile PROBES GET /health requests
from 127.0.0.1 (3 s timeout each) run, one per trickle round.  Prints
  closed=N      slow sockets the server closed before their last trickle
  answered=N    probes answered 200
Nothing here asserts a duration: it counts events."""
import socket
import sys
import time


def slow_socket(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.2", 0))
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: bridge\r\n")
    except OSError:
        s.close()
        return None
    return s


def probe(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: bridge\r\n"
                      b"Connection: close\r\n\r\n")
            head = s.recv(64)
            return head.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def server_closed(s):
    """True when the peer has closed or reset s (after a send attempt)."""
    try:
        s.sendall(b"X-Slow: 1\r\n")
        s.setblocking(False)
        try:
            data = s.recv(1)
            return data == b""
        except BlockingIOError:
            return False
        finally:
            s.setblocking(True)
    except OSError:
        return True


def main():
    port, count, trickles, probes = (int(a) for a in sys.argv[1:5])
    socks = [slow_socket(port) for _ in range(count)]
    closed = sum(1 for s in socks if s is None)
    live = [s for s in socks if s is not None]
    answered = 0
    for i in range(trickles):
        still = []
        for s in live:
            if server_closed(s):
                closed += 1
                s.close()
            else:
                still.append(s)
        live = still
        if i < probes and probe(port):
            answered += 1
        if not live and i >= probes:
            break
        time.sleep(0.5)
    for s in live:
        s.close()
    print(f"closed={closed}")
    print(f"answered={answered}")


if __name__ == "__main__":
    main()
