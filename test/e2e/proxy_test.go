package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// apiProxy stands between a manager and the API server so that a test can hold a chosen
// request (e.g. to kill the manager between two of its writes) or make the API server
// unreachable for a while, as a restart of it would.
type apiProxy struct {
	addr       string
	handler    http.Handler
	server     *http.Server
	kubeconfig string

	mu     sync.Mutex
	hold   func(*http.Request) bool
	held   chan *http.Request
	closed chan struct{}
}

// newAPIProxy forwards plain HTTP on loopback to the API server as the given user.
func newAPIProxy(t *testing.T, user *rest.Config) *apiProxy {
	t.Helper()
	transport, err := rest.TransportFor(user)
	if err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(user.Host)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(target)
	forward.Transport = transport
	forward.FlushInterval = -1 // stream watches

	p := &apiProxy{held: make(chan *http.Request, 16), closed: make(chan struct{}), addr: "127.0.0.1:0"}
	p.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
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
	if err := p.up(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		close(p.closed)
		p.down()
	})

	p.kubeconfig = filepath.Join(work, "proxy-"+t.Name()+".kubeconfig")
	config := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: proxy, cluster: {server: %q}}]
users: [{name: proxy, user: {}}]
contexts: [{name: proxy, context: {cluster: proxy, user: proxy}}]
current-context: proxy
`, "http://"+p.addr)
	if err := os.WriteFile(p.kubeconfig, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// holdRequests holds every request that matches, from now on; nil holds none.
func (p *apiProxy) holdRequests(match func(*http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = match
}

// up starts serving on the proxy's address (the same one again after down).
func (p *apiProxy) up() error {
	listener, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.addr = listener.Addr().String()
	p.server = &http.Server{Handler: p.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.server.Serve(listener) }()
	return nil
}

// down closes every connection, watches included, and refuses new ones.
func (p *apiProxy) down() { _ = p.server.Close() }
