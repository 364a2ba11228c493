// Package fakefigma is a stand-in for Figma's OAuth token endpoints, for tests of apps that
// use FigmaTokens, and for the operator's own tests, demo and benchmark.
//
// A Server is an http.Handler: serve it with net/http/httptest and point the operator at its
// URL (--figma-endpoint). It serves POST /v1/oauth/refresh and POST /v1/oauth/token as
// Figma does (https://www.figma.com/developers/api#oauth2): HTTP Basic client authentication
// is enforced (base64(client_id:client_secret), the values as they are), answers are
// JSON, errors carry RFC 6749 error codes. It issues access tokens with a chosen lifetime,
// never rotates refresh tokens, accepts each authorization code once, and can be told per
// refresh token to reject it, fail or throttle (with Retry-After). It records every call;
// String never shows a token or secret.
package fakefigma

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Where the token endpoints are served.
const (
	RefreshPath  = "/v1/oauth/refresh"
	ExchangePath = "/v1/oauth/token"
)

// Options configure a Server.
type Options struct {
	// Clients are the OAuth apps' client IDs and their secrets; a request authenticated
	// otherwise is answered 401 invalid_client.
	Clients map[string]string
	// Lifetime is the expires_in of issued tokens; an hour when zero (Figma's is 90 days).
	Lifetime time.Duration
}

// Behavior programs the answers for one refresh token.
type Behavior struct {
	// Reject answers every call with 400 invalid_grant: the refresh token is bad.
	Reject bool
	// Unavailable answers every call with 503 (transient).
	Unavailable bool
	// Rotate answers with a new refresh token each time (Figma does not).
	Rotate bool
	// Body, when set, is sent verbatim as the 200 answer (malformed JSON, missing fields).
	Body string
}

// Failure is one programmed error answer.
type Failure struct {
	Status int
	// Code is the OAuth error code of the JSON body; "" sends no body.
	Code string
	// RetryAfter, when set, is sent as the Retry-After header (seconds or an HTTP date).
	RetryAfter string
}

// Server is the fake endpoint. The zero value is not usable; call New.
type Server struct {
	mu        sync.Mutex
	clients   map[string]string
	lifetime  time.Duration
	behaviors map[string]Behavior
	failures  map[string][]Failure
	calls     map[string][]time.Time // when each authenticated call with a credential arrived
	issuedFor map[string][]string
	issued    []string
	usedCodes map[string]bool
	verifiers map[string]string // the PKCE verifier sent with each code
	exchanged []string
	total     atomic.Int64
	rejected  atomic.Int64 // calls refused for their client authentication
}

// New returns a Server.
func New(opts Options) *Server {
	s := &Server{
		clients:   map[string]string{},
		lifetime:  opts.Lifetime,
		behaviors: map[string]Behavior{},
		failures:  map[string][]Failure{},
		calls:     map[string][]time.Time{},
		issuedFor: map[string][]string{},
		usedCodes: map[string]bool{},
		verifiers: map[string]string{},
	}
	if s.lifetime <= 0 {
		s.lifetime = time.Hour
	}
	for id, secret := range opts.Clients {
		s.clients[id] = secret
	}
	return s
}

// SetClient adds an OAuth app, or changes its secret (as rotating it in Figma does).
func (s *Server) SetClient(id, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[id] = secret
}

// SetBehavior programs the answers for a refresh token.
func (s *Server) SetBehavior(refreshToken string, b Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behaviors[refreshToken] = b
}

// FailNext makes the next n calls with refreshToken (or code) answer f.
func (s *Server) FailNext(refreshToken string, n int, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures[refreshToken] = append(s.failures[refreshToken], f)
	}
}

// Heal forgets what was programmed for a refresh token: its calls succeed again.
func (s *Server) Heal(refreshToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.behaviors, refreshToken)
	delete(s.failures, refreshToken)
}

// Calls is the number of well-formed, authenticated calls made with refreshToken (or code).
func (s *Server) Calls(refreshToken string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls[refreshToken])
}

// CallTimes is when each well-formed, authenticated call with refreshToken arrived.
func (s *Server) CallTimes(refreshToken string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.calls[refreshToken]...)
}

// TotalCalls is the number of well-formed, authenticated calls.
func (s *Server) TotalCalls() int { return int(s.total.Load()) }

// ClientRejections is the number of calls refused for a wrong client ID or secret.
func (s *Server) ClientRejections() int { return int(s.rejected.Load()) }

// IssuedFor returns the access tokens handed out for one refresh token, oldest first.
func (s *Server) IssuedFor(refreshToken string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issuedFor[refreshToken]...)
}

// Issued returns every access token handed out, oldest first.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// Exchanged returns the refresh tokens handed out (for codes, or rotated), oldest first.
func (s *Server) Exchanged() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.exchanged...)
}

// VerifierFor is the PKCE code_verifier sent with code, "" for none.
func (s *Server) VerifierFor(code string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.verifiers[code]
}

// String describes the server by its counts; it never shows a token or a secret.
func (s *Server) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("fakefigma.Server{calls: %d, client rejections: %d, access tokens issued: %d}",
		s.total.Load(), s.rejected.Load(), len(s.issued))
}

// ServeHTTP implements the refresh and the code exchange.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != RefreshPath && r.URL.Path != ExchangePath {
		writeError(w, Failure{Status: http.StatusNotFound, Code: "not_found"})
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, Failure{Status: http.StatusMethodNotAllowed, Code: "invalid_request"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	form, perr := url.ParseQuery(string(body))
	if err != nil || perr != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		writeError(w, Failure{Status: http.StatusBadRequest, Code: "invalid_request"})
		return
	}
	// The secret belongs in the Authorization header only.
	if form.Has("client_secret") || !s.authenticated(r) {
		s.rejected.Add(1)
		writeError(w, Failure{Status: http.StatusUnauthorized, Code: "invalid_client"})
		return
	}
	exchange := r.URL.Path == ExchangePath
	credential := form.Get("refresh_token")
	if exchange {
		credential = form.Get("code")
		if form.Get("grant_type") != "authorization_code" || form.Get("redirect_uri") == "" {
			writeError(w, Failure{Status: http.StatusBadRequest, Code: "invalid_request"})
			return
		}
	}
	if credential == "" {
		writeError(w, Failure{Status: http.StatusBadRequest, Code: "invalid_request"})
		return
	}
	behavior, failure, failing := s.record(credential)
	used := exchange && s.spend(credential, form.Get("code_verifier"), !failing)
	switch {
	case failing:
		writeError(w, failure)
	case behavior.Unavailable:
		writeError(w, Failure{Status: http.StatusServiceUnavailable})
	case behavior.Reject || used:
		// Echo the credential like careless servers do: the operator must never repeat it.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": "invalid or used " + credential})
	case behavior.Body != "":
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, behavior.Body)
	case exchange:
		rt := "figrt-" + newID()
		s.issue(w, rt, rt)
	case behavior.Rotate:
		s.issue(w, credential, "figrt-"+newID())
	default:
		s.issue(w, credential, "")
	}
}

// authenticated checks HTTP Basic client authentication, with the client ID and secret as
// they are: a form-encoded secret ('+' as %2B) is a wrong secret, as Figma documents it.
func (s *Server) authenticated(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want, known := s.clients[id]
	return known && secret == want
}

// spend reports whether a code was used before, and marks it used when the exchange succeeds.
func (s *Server) spend(code, verifier string, succeeds bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	used := s.usedCodes[code]
	if succeeds && !used {
		s.usedCodes[code] = true
		s.verifiers[code] = verifier
	}
	return used
}

// record counts a call and takes the programmed failure, if any, for it.
func (s *Server) record(credential string) (Behavior, Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total.Add(1)
	s.calls[credential] = append(s.calls[credential], time.Now())
	queue := s.failures[credential]
	if len(queue) == 0 {
		return s.behaviors[credential], Failure{}, false
	}
	s.failures[credential] = queue[1:]
	return s.behaviors[credential], queue[0], true
}

// issue answers with a new access token for refreshToken, and newRefreshToken when one is
// handed out (an exchange, a rotation).
func (s *Server) issue(w http.ResponseWriter, refreshToken, newRefreshToken string) {
	token := "figat-" + newID()
	s.mu.Lock()
	expiresIn := int64(s.lifetime / time.Second)
	s.issued = append(s.issued, token)
	s.issuedFor[refreshToken] = append(s.issuedFor[refreshToken], token)
	answer := map[string]any{"access_token": token, "token_type": "bearer", "expires_in": expiresIn, "user_id": "1"}
	if newRefreshToken != "" {
		answer["refresh_token"] = newRefreshToken
		s.exchanged = append(s.exchanged, newRefreshToken)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer)
}

func writeError(w http.ResponseWriter, f Failure) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Code == "" {
		w.WriteHeader(f.Status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": f.Code})
}

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
