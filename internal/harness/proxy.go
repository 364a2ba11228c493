package harness

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"

	"k8s.io/client-go/rest"
)

// APIProxy stands between a manager and the API server, forwarding plain HTTP on loopback
// as one user. A run can count the requests by kind (the benchmark), hold chosen requests
// (to kill a manager between two of its writes) or make the API server unreachable for a
// while, as a restart of it would.
type APIProxy struct {
	// Kubeconfig reaches the API server through the proxy.
	Kubeconfig string

	addr    string
	handler http.Handler
	server  *http.Server

	mu      sync.Mutex
	observe func(*http.Response)
	kindOf  func(*http.Request) string
	counts  map[string]int
	hold    func(*http.Request) bool
	held    chan *http.Request
	closed  chan struct{}
}

// StartAPIProxy forwards to the API server as user and writes a kubeconfig for the proxy to
// kubeconfig. kindOf, when set, sorts the requests it counts.
func StartAPIProxy(user *rest.Config, kubeconfig string, kindOf func(*http.Request) string) (*APIProxy, error) {
	transport, err := rest.TransportFor(user)
	if err != nil {
		return nil, err
	}
	target, err := url.Parse(user.Host)
	if err != nil {
		return nil, err
	}
	forward := httputil.NewSingleHostReverseProxy(target)
	forward.Transport = transport
	forward.FlushInterval = -1 // stream watches
	var p *APIProxy
	forward.ModifyResponse = func(resp *http.Response) error {
		p.mu.Lock()
		observe := p.observe
		p.mu.Unlock()
		if observe != nil {
			observe(resp)
		}
		return nil
	}

	p = &APIProxy{Kubeconfig: kubeconfig, addr: "127.0.0.1:0", kindOf: kindOf, counts: map[string]int{},
		held: make(chan *http.Request, 16), closed: make(chan struct{})}
	p.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		if p.kindOf != nil {
			p.counts[p.kindOf(r)]++
		}
		hold := p.hold != nil && p.hold(r)
		p.mu.Unlock()
		if hold {
			// Reading the body lets the server notice when the client goes away.
			_, _ = io.Copy(io.Discard, r.Body)
			p.held <- r
			select { // until the client goes away: the request never reaches the API server
			case <-r.Context().Done():
			case <-p.closed:
			}
			return
		}
		forward.ServeHTTP(w, r)
	})
	if err := p.Up(); err != nil {
		return nil, err
	}
	config := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: proxy, cluster: {server: %q}}]
users: [{name: proxy, user: {}}]
contexts: [{name: proxy, context: {cluster: proxy, user: proxy}}]
current-context: proxy
`, "http://"+p.addr)
	if err := os.WriteFile(kubeconfig, []byte(config), 0o600); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// URL is the proxy's address, for a client that sends its requests through it as the
// proxy's user.
func (p *APIProxy) URL() string { return "http://" + p.addr }

// Hold holds every request that matches, from now on; nil holds none.
func (p *APIProxy) Hold(match func(*http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = match
}

// ObserveResponses calls observe with each answer of the API server, before it is passed on
// (its headers: e.g. which Priority and Fairness FlowSchema the request matched); nil stops.
func (p *APIProxy) ObserveResponses(observe func(*http.Response)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.observe = observe
}

// Held receives each request as it is held.
func (p *APIProxy) Held() <-chan *http.Request { return p.held }

// Counts returns the requests counted so far, by kind.
func (p *APIProxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// Up serves on the proxy's address (the same one again after Down).
func (p *APIProxy) Up() (err error) {
	p.server, err = serve(&p.addr, p.handler)
	return err
}

// Down closes every connection, watches included, and refuses new ones until Up.
func (p *APIProxy) Down() { _ = p.server.Close() }

// Close releases held requests and stops the proxy.
func (p *APIProxy) Close() {
	close(p.closed)
	p.Down()
	_ = os.Remove(p.Kubeconfig)
}
