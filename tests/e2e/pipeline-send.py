#!/usr/bin/env python3
"""Sends Flyte event requests to fce-ingest over HTTP and records which ones
ingest acknowledged (HTTP 200), for the pipeline tests.

Each line of --list is "KIND PATH". Every request is sent until ingest
acknowledges it or rejects it (400), or until --deadline seconds pass:
connection errors, timeouts and 503 (ring full) are retried, so a request
whose acknowledgement was lost may be committed twice (at-least-once).
--acked gets one line per acknowledgement: the base64 of the request bytes.
Prints "sent=N acked=N rejected=N retries=N unfinished=N seconds=S".
"""
import argparse
import base64
import http.client
import sys
import threading
import time


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--list", required=True)
    p.add_argument("--acked", required=True)
    p.add_argument("--deadline", type=float, default=120)
    p.add_argument("--connections", type=int, default=2)
    p.add_argument("--rate", type=float, default=0,
                   help="requests per second over all connections (0: as "
                        "fast as ingest answers)")
    return p.parse_args()


class Sender:
    def __init__(self, args, items):
        self.args = args
        self.items = items
        self.next = 0
        self.lock = threading.Lock()
        self.acked = open(args.acked, "w")
        self.counts = {"sent": 0, "acked": 0, "rejected": 0, "retries": 0,
                       "unfinished": 0}
        self.start = time.monotonic()
        self.end = self.start + args.deadline

    def take(self):
        with self.lock:
            if self.next >= len(self.items):
                return None
            item = self.items[self.next]
            self.next += 1
            index = self.next
        if self.args.rate > 0:
            delay = self.start + index / self.args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return item

    def count(self, key, line=None):
        with self.lock:
            self.counts[key] += 1
            if line is not None:
                self.acked.write(line + "\n")
                self.acked.flush()

    def send_one(self, conn, kind, body):
        """Returns (status, connection) for one attempt."""
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.args.port,
                                              timeout=5)
        conn.request("POST", "/api/v1/events/%ss" % kind, body,
                     {"Content-Type": "application/x-protobuf"})
        response = conn.getresponse()
        response.read()
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = None
        return response.status, conn

    def worker(self):
        conn = None
        while True:
            item = self.take()
            if item is None:
                break
            kind, body = item
            self.count("sent")
            while True:
                if time.monotonic() > self.end:
                    self.count("unfinished")
                    break
                try:
                    status, conn = self.send_one(conn, kind, body)
                except (OSError, http.client.HTTPException):
                    if conn is not None:
                        conn.close()
                    conn = None
                    self.count("retries")
                    time.sleep(0.05)
                    continue
                if status == 200:
                    self.count("acked", base64.b64encode(body).decode())
                    break
                if status == 400:
                    self.count("rejected")
                    break
                self.count("retries")
                time.sleep(0.05)
        if conn is not None:
            conn.close()


def main():
    args = parse_args()
    items = []
    with open(args.list) as f:
        for line in f:
            kind, path = line.split(None, 1)
            with open(path.strip(), "rb") as data:
                items.append((kind, data.read()))
    sender = Sender(args, items)
    start = time.monotonic()
    threads = [threading.Thread(target=sender.worker)
               for _ in range(args.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sender.acked.close()
    c = sender.counts
    print("sent=%d acked=%d rejected=%d retries=%d unfinished=%d seconds=%.1f"
          % (c["sent"], c["acked"], c["rejected"], c["retries"],
             c["unfinished"], time.monotonic() - start))
    return 0 if c["unfinished"] == 0 and c["rejected"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
