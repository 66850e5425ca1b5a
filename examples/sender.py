#!/usr/bin/env python3
"""A stand-in webhook sender for `brhook listen -- CMD`: put your own sender's test here.

It posts the documentation's four example events (tests/fixtures/doc) to every URL in
BRHOOK_V2_URLS (one per line, as `brhook listen -- CMD` sets it) the way BililiveRecorder
does: compact bytes, its headers, every URL at the same time, up to 3 attempts after
1 s and 2 s. `--sequential` posts to the URLs one after another instead (F3 fails when
a delay URL is first). Standard library only.
"""
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(HERE, "..", "tests", "fixtures", "doc")
EVENTS = ["SessionStarted", "FileOpening", "FileClosed", "SessionEnded"]


def deliver(url, body):
    """Up to three attempts, 1 s then 2 s apart, until one is answered 2xx."""
    for backoff in (1, 2, None):
        req = urllib.request.Request(url, data=body, method="POST")
        req.add_header("Content-Type", "application/json")
        req.add_header("User-Agent", "BililiveRecorder/2.17.3")
        try:
            with urllib.request.urlopen(req, timeout=100) as answer:
                if 200 <= answer.status < 300:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if backoff is None:
            return
        time.sleep(backoff)


def main():
    sequential = "--sequential" in sys.argv[1:]
    urls = [u for u in os.environ.get("BRHOOK_V2_URLS", "").splitlines() if u]
    if not urls:
        sys.exit("no URLs: run me as `brhook listen --url a -- python3 examples/sender.py`")
    threads = []
    for name in EVENTS:
        with open(os.path.join(DOC, name + ".json"), encoding="utf-8") as f:
            event = json.load(f)
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if sequential:
            for url in urls:
                deliver(url, body)
            continue
        for url in urls:
            t = threading.Thread(target=deliver, args=(url, body))
            t.start()
            threads.append(t)
        time.sleep(0.05)
    for t in threads:
        t.join()
    print(f"sent {len(EVENTS)} events to {len(urls)} URLs")


if __name__ == "__main__":
    main()
