package sender

import (
	"os"
	"os/exec"
)

// runMySender stands in for your sender: configure it with these URLs and make it
// deliver a recording session's webhooks. Here it is `brhook send realistic`, a
// faithful sender (BRHOOK names the binary), so the example passes as it stands.
func runMySender(v2 []string, v1 []string) {
	bin := os.Getenv("BRHOOK")
	if bin == "" {
		bin = "brhook"
	}
	args := []string{"send", "realistic", "--backoff-scale", "0.05"}
	for _, u := range v2 {
		args = append(args, "--to", u)
	}
	for _, u := range v1 {
		args = append(args, "--v1-to", u)
	}
	_ = exec.Command(bin, args...).Run() // its verdict is the capture's to give
}
