package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// browse is the browser: a GET of the listener, returning status and page.
func browse(t *testing.T, ln net.Listener, pathAndQuery string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + ln.Addr().String() + pathAndQuery)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if got := resp.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q, want a plain page", got)
	}
	return resp.StatusCode, string(body)
}

func TestListenerTakesOneRedirectAndAnswersThePage(t *testing.T) {
	const code = "the-code-0123"
	tests := []struct {
		name     string
		state    func(a authorization) string
		status   int
		page     string
		wantCode string
	}{
		{"good state", func(a authorization) string { return a.state }, http.StatusOK, "Figma access granted for FigmaToken web/design-system", code},
		{"wrong state", func(authorization) string { return "forged" }, http.StatusBadRequest, "Refused: the redirect's state does not match", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuthorization("id", 8765, []string{defaultScope}, false)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			type result struct {
				got redirect
				err error
			}
			done := make(chan result, 1)
			go func() {
				got, err := awaitRedirect(ctx, ln, a, "web/design-system")
				done <- result{got, err}
			}()
			// A browser asks for a favicon too: it does not count.
			if status, _ := browse(t, ln, "/favicon.ico"); status != http.StatusNotFound {
				t.Errorf("/favicon.ico: %d, want 404", status)
			}
			status, page := browse(t, ln, "/callback?"+url.Values{"code": {code}, "state": {tt.state(a)}}.Encode())
			if status != tt.status || !strings.Contains(page, tt.page) || strings.Contains(page, code) {
				t.Errorf("page %d %q, want %d with %q and without the code", status, page, tt.status, tt.page)
			}
			r := <-done
			if r.err != nil || r.got.code != tt.wantCode || (tt.wantCode == "") == (r.got.refused == "") {
				t.Fatalf("awaitRedirect = %+v, %v; want code %q", r.got, r.err, tt.wantCode)
			}
			// One shot: the listener is closed once the redirect is taken.
			if resp, err := http.Get("http://" + ln.Addr().String() + "/callback"); err == nil {
				_ = resp.Body.Close()
				t.Error("the listener still answers after its redirect")
			}
		})
	}
}

func TestListenerGivesUpAtTheDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = awaitRedirect(ctx, ln, newAuthorization("id", 8765, []string{defaultScope}, false), "web/x")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("awaitRedirect = %v, want the deadline", err)
	}
}

func TestBusyPortSaysWhatToDo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	_, err = listenForRedirect(port)
	if err == nil || !strings.Contains(err.Error(), "is in use") || !strings.Contains(err.Error(), "--port") {
		t.Fatalf("listenForRedirect on a busy port = %v, want advice", err)
	}
}
