"""brhook serve's control API, driven from Python's standard library as a sender
author's test suite would. Run by tests/control.rs with BRHOOK_CONTROL set to the API's
base URL (http://HOST:PORT); exits non-zero on the first failure."""

import base64
import http.client
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

API = os.environ["BRHOOK_CONTROL"].rstrip("/") + "/v1"


def call(method, path, body=None, raw=None):
    """(status, parsed JSON or text) of one API call; 4xx/5xx are answers too."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(API + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, text, ctype = r.status, r.read().decode(), r.headers["Content-Type"]
    except urllib.error.HTTPError as e:
        status, text, ctype = e.code, e.read().decode(), e.headers["Content-Type"]
    return status, (json.loads(text) if ctype == "application/json" else text)


def event(event_id, kind="SessionStarted"):
    return json.dumps({"EventType": kind, "EventTimestamp": "2024-01-01T00:00:00.0000000+08:00",
                       "EventId": event_id, "EventData": {"RoomId": 1}},
                      separators=(",", ":")).encode()


def post(conn, url, body):
    """POSTs a webhook on a kept-alive connection, as a sender's HTTP client does."""
    path = urllib.parse.urlsplit(url).path
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    return r.status


def create(urls, **extra):
    status, c = call("POST", "/captures", {"urls": urls, "backoff_scale": 0.05, **extra})
    assert status == 201, (status, c)
    return c


def journal_ids(capture_id):
    status, text = call("GET", f"/captures/{capture_id}/journal")
    assert status == 200, status
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["type"] == "meta"
    return {json.loads(base64.b64decode(l["body"]))["EventId"] for l in lines if l["type"] == "request"}


def test_health_and_openapi():
    assert call("GET", "/health")[0] == 200
    status, doc = call("GET", "/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    assert "/v1/captures/{id}/wait" in doc["paths"]


def test_two_captures_at_once_never_see_each_others_requests():
    one = create([{"name": "a"}, {"name": "b", "fault": "fail:1"}])
    two = create([{"name": "a"}])
    assert one["id"] != two["id"] and one["urls"]["a"] != two["urls"]["a"]
    assert one["v2"] == [one["urls"]["a"], one["urls"]["b"]]
    host = urllib.parse.urlsplit(one["urls"]["a"]).netloc
    conn = http.client.HTTPConnection(host, timeout=30)  # one connection for both
    assert post(conn, one["urls"]["a"], event("e-one")) // 100 == 2
    assert post(conn, two["urls"]["a"], event("e-two")) // 100 == 2
    assert post(conn, one["urls"]["b"], event("e-one")) == 500  # fail:1
    assert post(conn, one["urls"]["b"], event("e-one")) // 100 == 2  # the retry
    conn.close()
    status, counts = call("POST", f"/captures/{one['id']}/wait", {"events": 1, "requests": 3, "timeout_s": 60})
    assert status == 200 and counts["reached"], counts
    assert counts["urls"] == {"a": 1, "b": 2} and counts["events"] == 1, counts
    status, counts = call("POST", f"/captures/{two['id']}/wait", {"requests": 1, "timeout_s": 60})
    assert status == 200 and counts["requests"] == 1, counts
    assert journal_ids(one["id"]) == {"e-one"} and journal_ids(two["id"]) == {"e-two"}
    for c, subject in ((one, "3 requests"), (two, "1 request")):
        status, report = call("POST", f"/captures/{c['id']}/finish", {"quiet_s": 0.2})
        assert status == 200 and report["verdict"] in ("pass", "fail"), report
        assert report["subject"].startswith(subject), report["subject"]
        assert call("DELETE", f"/captures/{c['id']}")[0] == 200


def test_wait_returns_as_soon_as_the_events_arrive():
    c = create([{"name": "a"}, {"name": "b"}])
    def sender():
        conn = http.client.HTTPConnection(urllib.parse.urlsplit(c["urls"]["a"]).netloc, timeout=30)
        for i in range(3):
            for name in ("a", "b"):
                post(conn, c["urls"][name], event(f"e{i}"))
    threading.Timer(0.3, sender).start()
    start = time.monotonic()
    status, counts = call("POST", f"/captures/{c['id']}/wait", {"events": 3, "timeout_s": 60})
    assert status == 200 and counts["events"] == 3, counts
    assert time.monotonic() - start < 30, "the wait did not return early"
    assert call("DELETE", f"/captures/{c['id']}")[0] == 200


def test_wait_times_out_with_408_and_the_counts():
    c = create([{"name": "a"}])
    start = time.monotonic()
    status, counts = call("POST", f"/captures/{c['id']}/wait", {"events": 1, "timeout_s": 0.3})
    assert status == 408 and not counts["reached"] and counts["events"] == 0, counts
    assert "timed out" in counts["error"]
    assert time.monotonic() - start >= 0.3
    status, report = call("POST", f"/captures/{c['id']}/finish?format=junit", {"quiet_s": 0.1})
    assert status == 200 and report.startswith("<?xml"), report[:80]
    status, html = call("POST", f"/captures/{c['id']}/finish?format=html")
    assert status == 200 and "<html" in html.lower()
    status, again = call("POST", f"/captures/{c['id']}/finish")
    assert status == 200 and again["verdict"] == "fail", again  # nothing arrived: no pass
    status, counts = call("POST", f"/captures/{c['id']}/wait", {"events": 1, "timeout_s": 60})
    assert status == 409 and counts["state"] == "finished", counts  # at once, not after 60 s
    assert call("DELETE", f"/captures/{c['id']}")[0] == 200


def test_bad_input_is_a_4xx_that_says_what_to_fix():
    def error(status, method, path, body=None, raw=None):
        got, answer = call(method, path, body, raw)
        assert got == status, (method, path, got, answer)
        return answer["error"]
    assert "urls[0].fault" in error(400, "POST", "/captures", {"urls": [{"name": "a", "fault": "fial:2"}]})
    assert "malformed body" in error(400, "POST", "/captures", raw=b"{not json")
    assert "unknown field" in error(400, "POST", "/captures", {"url": [{"name": "a"}]})
    assert "no capture" in error(404, "GET", "/captures/nosuch")
    assert "no capture" in error(404, "POST", "/captures/nosuch/wait", {"events": 1, "timeout_s": 1})
    assert "no capture" in error(404, "POST", "/captures/nosuch/finish")
    assert "no capture" in error(404, "DELETE", "/captures/nosuch")
    c = create([{"name": "a"}])
    assert "timeout_s is required" in error(400, "POST", f"/captures/{c['id']}/wait", {"events": 1})
    assert "format=pdf" in error(400, "POST", f"/captures/{c['id']}/finish?format=pdf")
    assert "takes POST" in error(405, "GET", f"/captures/{c['id']}/wait")
    assert "/v1/openapi.json" in error(404, "GET", "/nothing")
    assert call("DELETE", f"/captures/{c['id']}")[0] == 200
    conn = http.client.HTTPConnection(urllib.parse.urlsplit(c["urls"]["a"]).netloc, timeout=30)
    assert post(conn, c["urls"]["a"], event("late")) == 404  # a deleted capture's URL


if __name__ == "__main__":
    for name, test in list(globals().items()):
        if name.startswith("test_"):
            test()
            print("ok", name)
