package sender

// runMySender stands in for your sender: configure it with these URLs and make it
// deliver a recording session's webhooks.
func runMySender(v2 []string, v1 []string) {}
