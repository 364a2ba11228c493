package operator

import (
	"net/http"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/rest"
)

// How a refused watch is held: tried again every second for up to 30 s.
const (
	reconnectEvery = time.Second
	reconnectFor   = 30 * time.Second
)

// reconnectingTransport carries the manager's requests to the API server. It tells failed()
// of every request that found no server, and holds a watch request refused by an unreachable
// API server, trying it again every second, rather than failing it at once: client-go's
// informers back off up to a minute after a refused watch and see no change until they
// reconnect, so the first minute after an outage would go by on a stale cache.
type reconnectingTransport struct {
	next   http.RoundTripper
	failed func()
	every  time.Duration
	hold   time.Duration
}

// withReconnectingWatches wraps cfg's transport; failed may be nil.
func withReconnectingWatches(cfg *rest.Config, failed func()) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &reconnectingTransport{next: rt, failed: failed, every: reconnectEvery, hold: reconnectFor}
	})
	return cfg
}

func (t *reconnectingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	give := time.Now().Add(t.hold)
	for {
		resp, err := t.next.RoundTrip(req)
		if err == nil {
			return resp, nil
		}
		if t.failed != nil && foundNoServer(err) {
			t.failed()
		}
		if !isWatch(req) || !utilnet.IsConnectionRefused(err) || time.Now().Add(t.every).After(give) {
			return resp, err
		}
		select {
		case <-req.Context().Done():
			return resp, err
		case <-time.After(t.every):
		}
	}
}

// foundNoServer tells the errors of an unreachable API server from a request's own timeout.
func foundNoServer(err error) bool {
	return utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err)
}

// isWatch tells a watch request, which has no body and may be sent again.
func isWatch(req *http.Request) bool {
	return req.Method == http.MethodGet && req.URL.Query().Get("watch") == "true"
}
