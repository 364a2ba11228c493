package main

import (
	"sync"
	"time"
)

// callLog is the fake endpoint's record: when each refresh token was sent, and when an
// access token was issued for it.
type callLog struct {
	mu      sync.Mutex
	calls   map[string][]time.Time
	issues  map[string][]time.Time
	total   int
	issuedN int
}

func (l *callLog) called(token string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		l.calls = map[string][]time.Time{}
	}
	l.calls[token] = append(l.calls[token], at)
	l.total++
}

func (l *callLog) issued(token string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.issues == nil {
		l.issues = map[string][]time.Time{}
	}
	l.issues[token] = append(l.issues[token], at)
	l.issuedN++
}

// firstCall is the first call with token at or after t; zero if none.
func (l *callLog) firstCall(token string, t time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, at := range l.calls[token] {
		if !at.Before(t) {
			return at
		}
	}
	return time.Time{}
}

// issuesBetween counts the access tokens issued for token within [from, to].
func (l *callLog) issuesBetween(token string, from, to time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, at := range l.issues[token] {
		if !at.Before(from) && !at.After(to) {
			n++
		}
	}
	return n
}

func (l *callLog) counts() (calls, issued int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, l.issuedN
}
