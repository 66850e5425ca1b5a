// A Go sender's conformance test against `brhook serve --control 127.0.0.1:7700`.
//
//	BRHOOK_CONTROL=http://127.0.0.1:7700 go test ./...
package sender

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"testing"
)

func base() string {
	if b := os.Getenv("BRHOOK_CONTROL"); b != "" {
		return b
	}
	return "http://127.0.0.1:7700"
}

func api(t *testing.T, path string, body any, out any) {
	b, _ := json.Marshal(body)
	resp, err := http.Post(base()+"/v1"+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func TestSenderConforms(t *testing.T) {
	var capture struct {
		ID string   `json:"id"`
		V2 []string `json:"v2"`
		V1 []string `json:"v1"`
	}
	api(t, "/captures", map[string]any{"backoff_scale": 0.05, "urls": []map[string]string{
		{"name": "slow", "fault": "delay:300"}, {"name": "a"},
		{"name": "flaky", "fault": "fail:2"}, {"name": "old", "setting": "v1"}}}, &capture)

	runMySender(capture.V2, capture.V1) // your sender: WebHookUrlsV2, WebHookUrls

	var counts map[string]any
	api(t, "/captures/"+capture.ID+"/wait", map[string]any{"events": 1, "timeout_s": 30}, &counts)
	var report struct {
		Verdict  string `json:"verdict"`
		Note     string `json:"note"` // why, when nothing was captured
		Findings []struct {
			Message string `json:"message"`
		} `json:"findings"`
	}
	api(t, "/captures/"+capture.ID+"/finish", map[string]any{"quiet_s": 0.5}, &report)
	if req, err := http.NewRequest(http.MethodDelete, base()+"/v1/captures/"+capture.ID, nil); err == nil {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	if report.Verdict != "pass" {
		t.Fatalf("brhook: %s: %s %+v", report.Verdict, report.Note, report.Findings)
	}
}
