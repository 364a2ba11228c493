package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// requestKind sorts the operator's API requests for the per-refresh figures.
type requestKind string

const (
	secretRead   requestKind = "secret_read"
	secretWrite  requestKind = "secret_write"
	statusWrite  requestKind = "status_write"
	eventWrite   requestKind = "event_write"
	otherRequest requestKind = "other"
	listOrWatch  requestKind = "list_watch"
)

// countingProxy forwards the operator's requests to the API server and counts them, reads
// and Events included.
type countingProxy struct {
	url    string
	server *http.Server
	mu     sync.Mutex
	counts map[requestKind]int
}

func startCountingProxy(admin *rest.Config) (*countingProxy, error) {
	transport, err := rest.TransportFor(admin)
	if err != nil {
		return nil, err
	}
	target, err := url.Parse(admin.Host)
	if err != nil {
		return nil, err
	}
	forward := httputil.NewSingleHostReverseProxy(target)
	forward.Transport = transport
	forward.FlushInterval = -1
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{url: "http://" + listener.Addr().String(), counts: map[requestKind]int{}}
	p.server = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.counts[classify(r)]++
		p.mu.Unlock()
		forward.ServeHTTP(w, r)
	})}
	go func() { _ = p.server.Serve(listener) }()
	return p, nil
}

func classify(r *http.Request) requestKind {
	path := r.URL.Path
	isSecret := strings.Contains(path, "/secrets/")
	switch {
	case r.URL.Query().Get("watch") == "true":
		return listOrWatch
	case isSecret && r.Method == http.MethodGet:
		return secretRead
	case isSecret && r.Method == http.MethodPut:
		return secretWrite
	case strings.HasSuffix(path, "/status") && r.Method == http.MethodPatch:
		return statusWrite
	case strings.Contains(path, "/events"):
		return eventWrite
	case r.Method == http.MethodGet && !strings.Contains(path, "/leases/"):
		return listOrWatch // collections: the caches' initial lists
	default:
		return otherRequest // leader election and the like
	}
}

// snapshot returns the counts so far.
func (p *countingProxy) snapshot() map[requestKind]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[requestKind]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// since returns the counts added after before.
func (p *countingProxy) since(before map[requestKind]int) map[requestKind]int {
	now := p.snapshot()
	for k, v := range before {
		now[k] -= v
	}
	return now
}

func total(counts map[requestKind]int) int {
	n := 0
	for _, v := range counts {
		n += v
	}
	return n
}

// kubeconfig writes a kubeconfig that reaches the API server through the proxy.
func (p *countingProxy) kubeconfig(path string) error {
	return os.WriteFile(path, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: bench, cluster: {server: %q}}]
users: [{name: bench, user: {}}]
contexts: [{name: bench, context: {cluster: bench, user: bench}}]
current-context: bench
`, p.url)), 0o600)
}
