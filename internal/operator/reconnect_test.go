package operator

import (
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// A watch refused while the API server is down is held and sent again until the server is
// back, instead of failing into client-go's backoff of up to a minute; any other request
// fails at once. Both tell the cache's health that a request found no server.
func TestARefusedWatchWaitsForTheServer(t *testing.T) {
	t.Parallel()
	addr := refusingAddr(t)
	var failures atomic.Int32
	client := &http.Client{Transport: &reconnectingTransport{next: http.DefaultTransport.(*http.Transport).Clone(),
		failed: func() { failures.Add(1) }, every: 50 * time.Millisecond, hold: time.Minute}}

	if err := get(client, "http://"+addr+"/api/v1/secrets"); err == nil || failures.Load() != 1 {
		t.Fatalf("a list while the server is down: error %v after %d noted failures, want an error and 1", err, failures.Load())
	}

	watched := make(chan error, 1)
	go func() {
		watched <- get(client, "http://"+addr+"/api/v1/secrets?watch=true")
	}()
	for failures.Load() < 3 { // the watch was refused twice, and held
		select {
		case err := <-watched:
			t.Fatalf("the watch returned while the server was down: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	up, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	server := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}), ReadHeaderTimeout: time.Second}
	go func() { _ = server.Serve(up) }()
	t.Cleanup(func() { _ = server.Close() })
	if err := <-watched; err != nil {
		t.Fatalf("the watch failed once the server was back: %v", err)
	}
}

// A watch refused for longer than the hold fails, so client-go's own retries take over.
func TestARefusedWatchFailsAfterTheHold(t *testing.T) {
	t.Parallel()
	addr := refusingAddr(t)
	client := &http.Client{Transport: &reconnectingTransport{next: http.DefaultTransport.(*http.Transport).Clone(),
		every: 20 * time.Millisecond, hold: 200 * time.Millisecond}}
	if err := get(client, "http://"+addr+"/api/v1/secrets?watch=true"); err == nil {
		t.Fatal("a watch refused past the hold succeeded")
	}
}

// refusingAddr is a loopback address nothing listens on: connections are refused.
func refusingAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// get sends a GET and closes the answer.
func get(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
