#!/usr/bin/env python3
"""Follows an SSE stream as a browser's EventSource does, for scripts/ci-containers.sh.

    sse-follow.py <url> <file>

Appends every event (its lines, as received) to <file>; whenever the stream ends (its gateway
killed, nginx moving it to another), connects again after 0.5 s with the id of the last event
received as Last-Event-ID. Runs until killed. Standard library only: it runs on the CI host.
"""
import socket
import sys
import time
import urllib.parse


def follow(url, out):
    last = ""
    while True:
        try:
            with socket.create_connection((url.hostname, url.port), timeout=30) as conn:
                head = f"GET {url.path} HTTP/1.1\r\nHost: {url.hostname}\r\nAccept: text/event-stream\r\n"
                if last:
                    head += f"Last-Event-ID: {last}\r\n"
                conn.sendall((head + "\r\n").encode())
                buf = b""
                body = -1  # where the body starts, once the head is in
                while chunk := conn.recv(65536):
                    buf += chunk
                    if body < 0:
                        end = buf.find(b"\r\n\r\n")
                        if end < 0:
                            continue
                        if not buf.startswith(b"HTTP/1.1 200"):
                            break  # refused (a gateway not ready): try again
                        buf, body = buf[end + 4:], 0
                    # The gateway ends lines with LF only; an event ends with an empty line.
                    while (end := buf.find(b"\n\n")) >= 0:
                        event, buf = buf[:end + 2], buf[end + 2:]
                        out.write(event)
                        for line in event.split(b"\n"):
                            if line.startswith(b"id: "):
                                last = line[4:].decode()
        except OSError:
            pass
        time.sleep(0.5)


if __name__ == "__main__":
    follow(urllib.parse.urlsplit(sys.argv[1]), open(sys.argv[2], "ab", buffering=0))
