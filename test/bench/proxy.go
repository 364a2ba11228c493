package main

import (
	"net/http"
	"strings"

	"github.com/tokenops/figma-token-operator/internal/harness"
)

// requestKind sorts the operator's API requests for the per-refresh figures.
type requestKind = string

const (
	secretRead   requestKind = "secret_read"
	secretWrite  requestKind = "secret_write"
	statusWrite  requestKind = "status_write"
	eventWrite   requestKind = "event_write"
	otherRequest requestKind = "other"
	listOrWatch  requestKind = "list_watch"
)

// classify sorts a request the operator sent through the harness's API proxy.
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

// since returns the counts added after before.
func since(proxy *harness.APIProxy, before map[requestKind]int) map[requestKind]int {
	now := proxy.Counts()
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
