package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// listenForRedirect opens the redirect URI's port on the loopback address, before the
// consent starts, so that a busy port fails before anyone opens the consent page.
func listenForRedirect(port int) (net.Listener, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("port %d on 127.0.0.1 is in use: free it, or use --port with another port registered as a redirect URL (http://127.0.0.1:PORT%s) in the Figma app", port, callbackPath)
	}
	return ln, err
}

// awaitRedirect serves the callback on ln until the first redirect to it arrives, answers
// the browser with a plain page, and returns what the redirect carried. Other paths (a
// browser's /favicon.ico) get 404 and do not count. It ends at ctx's deadline.
func awaitRedirect(ctx context.Context, ln net.Listener, a authorization, name string) (redirect, error) {
	result := make(chan redirect, 1)
	var once sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+callbackPath, func(w http.ResponseWriter, r *http.Request) {
		first := false
		once.Do(func() {
			first = true
			got := a.judgeRedirect(r.URL.Query())
			if got.refused != "" {
				page(w, http.StatusBadRequest, "Refused: "+got.refused+"\n\nReturn to the terminal.\n")
			} else {
				page(w, http.StatusOK, "Figma access granted for FigmaToken "+name+".\n\nThe operator exchanges the code now; you can close this tab and return to the terminal.\n")
			}
			result <- got
		})
		if !first {
			page(w, http.StatusGone, "This consent was already handled: return to the terminal.\n")
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		// Shutdown lets the answer to the browser finish.
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(stop)
	}()
	select {
	case got := <-result:
		return got, nil
	case <-ctx.Done():
		return redirect{}, ctx.Err()
	}
}

// page answers the browser with plain text. The URL it came to holds the code: no-store
// keeps the page out of caches, no-referrer keeps the URL from going anywhere else.
func page(w http.ResponseWriter, status int, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}
