"""A sender's conformance test against `brhook serve` (pytest, or plain `python3`).

    brhook serve --control 127.0.0.1:7700 &
    BRHOOK_CONTROL=http://127.0.0.1:7700 pytest test_brhook.py

`my_sender` stands in for yours: here `brhook send realistic` (a faithful sender).
"""
import json, os, subprocess, urllib.request

API = os.environ.get("BRHOOK_CONTROL", "http://127.0.0.1:7700") + "/v1"


def api(method, path, body=None):
    req = urllib.request.Request(API + path, method=method, data=json.dumps(body or {}).encode())
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)


def my_sender(v2_urls, v1_urls):
    """Your sender goes here: give it the URLs as its WebHookUrlsV2 / WebHookUrls."""
    args = [os.environ.get("BRHOOK", "brhook"), "send", "realistic", "--backoff-scale", "0.05"]
    args += [a for u in v2_urls for a in ("--to", u)] + [a for u in v1_urls for a in ("--v1-to", u)]
    subprocess.run(args, check=False, stdout=subprocess.DEVNULL)


def test_my_sender_conforms():
    cap = api("POST", "/captures", {"backoff_scale": 0.05, "urls": [
        {"name": "slow", "fault": "delay:300"}, {"name": "a"},
        {"name": "flaky", "fault": "fail:2"}, {"name": "old", "setting": "v1"}]})
    my_sender(cap["v2"], cap["v1"])
    api("POST", f"/captures/{cap['id']}/wait", {"events": 1, "timeout_s": 30})
    report = api("POST", f"/captures/{cap['id']}/finish", {"quiet_s": 0.5})
    api("DELETE", f"/captures/{cap['id']}")
    assert report["verdict"] == "pass", [f["message"] for f in report["findings"]]


if __name__ == "__main__":
    test_my_sender_conforms()
    print("ok")
