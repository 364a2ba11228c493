package harness

import (
	"net"
	"net/http"
	"time"

	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// Endpoint serves the fake Amplify endpoint on a loopback address that can be taken down
// (connections refused) and brought back at the same address.
type Endpoint struct {
	Fake *fakeamplify.Server
	// URL is the endpoint's address, for --amplify-endpoint.
	URL  string
	addr string
	http *http.Server
}

// StartEndpoint serves a new fake; the credentials and region are the harness's.
func StartEndpoint(opts fakeamplify.Options) (*Endpoint, error) {
	opts.Credentials, opts.Region = Credentials, Region
	e := &Endpoint{Fake: fakeamplify.New(opts), addr: "127.0.0.1:0"}
	if err := e.Up(); err != nil {
		return nil, err
	}
	e.URL = "http://" + e.addr
	return e, nil
}

// Up serves on the endpoint's address (the same one again after Down).
func (e *Endpoint) Up() (err error) {
	e.http, err = serve(&e.addr, e.Fake)
	return err
}

// serve serves handler on *addr, a loopback address ("127.0.0.1:0" picks one and sets it),
// so that the same address can be served again after the server is closed.
func serve(addr *string, handler http.Handler) (*http.Server, error) {
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		return nil, err
	}
	*addr = listener.Addr().String()
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(listener) }()
	return server, nil
}

// Down closes the endpoint: connections are refused until Up.
func (e *Endpoint) Down() { _ = e.http.Close() }

// FirstFrom is the first of times (as the fake's CallTimes and IssueTimes give them) at or
// after t; zero if none.
func FirstFrom(times []time.Time, t time.Time) time.Time {
	for _, at := range times {
		if !at.Before(t) {
			return at
		}
	}
	return time.Time{}
}
