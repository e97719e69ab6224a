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


class Dechunker:
    """Undoes Transfer-Encoding: chunked (nginx re-chunks a response without a length)."""

    def __init__(self):
        self.buf = b""
        self.left = 0  # bytes of the current chunk still to come; 0: a size line is next

    def feed(self, data):
        self.buf += data
        out = b""
        while self.buf:
            if self.left == 0:
                end = self.buf.find(b"\r\n")
                if end < 0:
                    break
                line = self.buf[:end].split(b";")[0].strip()
                self.buf = self.buf[end + 2:]
                if not line:
                    continue  # the CRLF that ends a chunk's data
                self.left = int(line, 16)
                if self.left == 0:
                    raise EOFError  # the last chunk
            take = self.buf[:self.left]
            out += take
            self.buf = self.buf[len(take):]
            self.left -= len(take)
        return out


def follow(url, out):
    last = ""
    while True:
        try:
            with socket.create_connection((url.hostname, url.port), timeout=30) as conn:
                head = f"GET {url.path} HTTP/1.1\r\nHost: {url.hostname}\r\nAccept: text/event-stream\r\n"
                if last:
                    head += f"Last-Event-ID: {last}\r\n"
                conn.sendall((head + "\r\n").encode())
                raw = b""
                body = b""
                dechunk = None  # set once the head is in: a Dechunker, or False
                while chunk := conn.recv(65536):
                    if dechunk is None:
                        raw += chunk
                        end = raw.find(b"\r\n\r\n")
                        if end < 0:
                            continue
                        response_head = raw[:end].lower()
                        if not response_head.startswith(b"http/1.1 200"):
                            break  # refused (a gateway not ready): try again
                        dechunk = Dechunker() if b"transfer-encoding: chunked" in response_head else False
                        chunk = raw[end + 4:]
                    body += dechunk.feed(chunk) if dechunk else chunk
                    # The gateway ends lines with LF only; an event ends with an empty line.
                    while (end := body.find(b"\n\n")) >= 0:
                        event, body = body[:end + 2], body[end + 2:]
                        out.write(event)
                        for line in event.split(b"\n"):
                            if line.startswith(b"id: "):
                                last = line[4:].decode()
        except (OSError, EOFError, ValueError):
            pass
        time.sleep(0.5)


if __name__ == "__main__":
    follow(urllib.parse.urlsplit(sys.argv[1]), open(sys.argv[2], "ab", buffering=0))
