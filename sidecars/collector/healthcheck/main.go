// Command healthcheck answers the task definition's container health check as
// the ADOT image's /healthcheck does: it asks the collector's health_check
// extension on 127.0.0.1 and exits 0 only on HTTP 200.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	port := flag.Int("port", 13133, "the health_check extension's port")
	flag.Parse()
	if *port < 1 || *port > 65535 {
		fmt.Fprintf(os.Stderr, "healthcheck: --port %d is not a TCP port (1-65535)\n", *port)
		os.Exit(2)
	}
	client := http.Client{Timeout: 4 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", *port))
	if err != nil {
		fmt.Fprintf(os.Stderr, "healthcheck: the collector did not answer: %v\n", err)
		os.Exit(1)
	}
	resp.Body.Close()
	fmt.Printf("STATUS: %d\n", resp.StatusCode)
	if resp.StatusCode != http.StatusOK {
		os.Exit(1)
	}
}
