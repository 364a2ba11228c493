// Package fakeamplify is a stand-in for the AWS Amplify UI Builder token endpoint, for
// tests of apps that use FigmaTokens, and for the operator's own tests, demo and benchmark.
//
// A Server is an http.Handler: serve it with net/http/httptest and point the operator at its
// URL (--amplify-endpoint, or AWS_ENDPOINT_URL_AMPLIFYUIBUILDER). It speaks RefreshToken and
// ExchangeCodeForToken on the AWS REST-JSON wire format, checks SigV4 signatures against the
// credentials it is given, issues access tokens with a chosen lifetime, and can be told per
// refresh token to reject it, fail transiently, throttle or hang. It records every call;
// String never shows a token. STS (sts.go) is an AssumeRole fake beside it: the temporary
// credentials it issues for a role are accepted here, and SignedAs tells which role signed.
package fakeamplify

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Where RefreshToken and ExchangeCodeForToken are served.
const (
	RefreshPath  = "/tokens/figma/refresh"
	ExchangePath = "/tokens/figma"
)

// Options configure a Server.
type Options struct {
	// Credentials are the AWS credentials requests must be signed with.
	Credentials aws.Credentials
	// Region, when set, must match the signature's credential scope.
	Region string
	// Lifetime is the expiresIn of issued tokens unless a token's Behavior says otherwise.
	Lifetime time.Duration
	// Inject, when set, may change the answer to any one call that has no programmed
	// failure: a Failure to answer with, else a non-zero Behavior to answer by. A soak test
	// injects random faults with it.
	Inject func(credential string) (Behavior, *Failure)
}

// Behavior programs the answers for one refresh token.
type Behavior struct {
	// Lifetime overrides the server's Lifetime.
	Lifetime time.Duration
	// ExpiresIn, when set, is sent as is (0, negative, an epoch time...).
	ExpiresIn *int64
	// Delay holds each answer back; longer than the caller's deadline, the call hangs.
	Delay time.Duration
	// Reject answers every call with 400 InvalidParameterException: the refresh token is bad.
	Reject bool
	// Throttle answers every call with 400 ThrottlingException, as AWS throttles.
	Throttle bool
	// Unavailable answers every call with 503 ServiceUnavailableException (transient).
	// FailNext fails only a number of calls.
	Unavailable bool
	// Body, when set, is sent verbatim as the 200 answer (malformed JSON, missing fields).
	Body string
}

// Failure is one programmed error answer.
type Failure struct {
	Status int
	// Code is sent in X-Amzn-Errortype, e.g. ThrottlingException.
	Code string
}

// Server is the fake endpoint. The zero value is not usable; call New.
type Server struct {
	opts Options

	mu        sync.Mutex
	behaviors map[string]Behavior
	failures  map[string][]Failure
	calls     map[string][]time.Time // when each call with a refresh token arrived
	issues    map[string][]time.Time // when each access token for it was sent
	issued    []string
	issuedFor map[string][]string
	// usedCodes are the authorization codes already exchanged; each works once.
	usedCodes map[string]bool
	// exchanged are the refresh tokens handed out for codes.
	exchanged []string
	// temporary are the credentials an STS fake issued, by access key ID, with their role.
	temporary map[string]temporary
	// signedAs is the role each call with a refresh token was signed as, "" for none.
	signedAs map[string][]string
	total    atomic.Int64
}

// New returns a Server.
func New(opts Options) *Server {
	if opts.Lifetime <= 0 {
		opts.Lifetime = time.Hour
	}
	return &Server{
		opts:      opts,
		behaviors: map[string]Behavior{},
		failures:  map[string][]Failure{},
		calls:     map[string][]time.Time{},
		issues:    map[string][]time.Time{},
		issuedFor: map[string][]string{},
		usedCodes: map[string]bool{},
		temporary: map[string]temporary{},
		signedAs:  map[string][]string{},
	}
}

// temporary are credentials issued for a role, valid until they expire.
type temporary struct {
	creds aws.Credentials
	role  string
}

// accept lets calls be signed with temporary credentials of role (an STS fake issued them).
func (s *Server) accept(creds aws.Credentials, role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.temporary[creds.AccessKeyID] = temporary{creds: creds, role: role}
}

// verify checks a call's signature: with the server's credentials (role ""), or with
// unexpired temporary credentials an STS fake issued for a role.
func (s *Server) verify(r *http.Request, body []byte) (string, error) {
	s.mu.Lock()
	temp, isTemporary := s.temporary[accessKeyOf(r)]
	s.mu.Unlock()
	if !isTemporary {
		return "", verifySignature(r, body, s.opts.Credentials, s.opts.Region, signingName)
	}
	if time.Now().After(temp.creds.Expires) {
		return "", errors.New("expired temporary credentials")
	}
	return temp.role, verifySignature(r, body, temp.creds, s.opts.Region, signingName)
}

// SignedAs is the role each well-formed call with refreshToken was signed as, oldest
// first: "" for the operator's own credentials, else the role's ARN.
func (s *Server) SignedAs(refreshToken string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.signedAs[refreshToken]...)
}

// SetBehavior programs the answers for a refresh token.
func (s *Server) SetBehavior(refreshToken string, b Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behaviors[refreshToken] = b
}

// FailNext makes the next n calls with refreshToken fail with status and code.
func (s *Server) FailNext(refreshToken string, n int, status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures[refreshToken] = append(s.failures[refreshToken], Failure{Status: status, Code: code})
	}
}

// SetLifetime changes the lifetime of the tokens issued from now on.
func (s *Server) SetLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Lifetime = d
}

// Heal forgets what was programmed for a refresh token: its calls succeed again.
func (s *Server) Heal(refreshToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.behaviors, refreshToken)
	delete(s.failures, refreshToken)
}

// Calls is the number of well-formed, correctly signed calls made with refreshToken.
func (s *Server) Calls(refreshToken string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls[refreshToken])
}

// CallTimes is when each well-formed, correctly signed call with refreshToken arrived.
func (s *Server) CallTimes(refreshToken string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.calls[refreshToken]...)
}

// IssueTimes is when each access token issued for refreshToken was sent: the calls that
// succeeded, where CallTimes has every call.
func (s *Server) IssueTimes(refreshToken string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.issues[refreshToken]...)
}

// TotalIssued is the number of access tokens issued.
func (s *Server) TotalIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.issued)
}

// TotalCalls is the number of well-formed, correctly signed calls.
func (s *Server) TotalCalls() int { return int(s.total.Load()) }

// String describes the server by its counts; it never shows a token.
func (s *Server) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("fakeamplify.Server{calls: %d, refresh tokens: %d, access tokens issued: %d}", s.total.Load(), len(s.calls), len(s.issued))
}

// IssuedFor returns the access tokens handed out for one refresh token, oldest first.
func (s *Server) IssuedFor(refreshToken string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issuedFor[refreshToken]...)
}

// RefreshTokens returns every refresh token (or code) received in a well-formed call and
// every refresh token handed out for a code.
func (s *Server) RefreshTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tokens := append(make([]string, 0, len(s.calls)+len(s.exchanged)), s.exchanged...)
	for t := range s.calls {
		tokens = append(tokens, t)
	}
	return tokens
}

// Issued returns every access token handed out, oldest first.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

type refreshBody struct {
	ClientID string `json:"clientId"`
	Token    string `json:"token"`
}

type exchangeBody struct {
	ClientID    string `json:"clientId"`
	Code        string `json:"code"`
	RedirectURI string `json:"redirectUri"`
}

// ServeHTTP implements RefreshToken and ExchangeCodeForToken.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-Requestid", newID())
	if r.URL.Path != RefreshPath && r.URL.Path != ExchangePath {
		writeError(w, http.StatusNotFound, "UnknownOperationException", "no such operation")
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowedException", "use POST")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "unreadable body")
		return
	}
	role, err := s.verify(r, body)
	if err != nil {
		writeError(w, http.StatusForbidden, "InvalidSignatureException", err.Error())
		return
	}
	exchange := r.URL.Path == ExchangePath
	credential, ok := parseCredential(body, exchange)
	if !ok {
		writeError(w, http.StatusBadRequest, "InvalidParameterException", "token, or code and redirectUri, are required")
		return
	}

	behavior, failure, failing := s.record(credential, role)
	if s.opts.Inject != nil && !failing {
		if b, f := s.opts.Inject(credential); f != nil {
			failure, failing = *f, true
		} else if b != (Behavior{}) {
			behavior = b
		}
	}
	if !sleep(r, behavior.Delay) {
		return
	}
	// A code works once: a successful exchange spends it.
	used := exchange && s.spend(credential, !failing && !behavior.Reject)
	switch {
	case failing:
		writeError(w, failure.Status, failure.Code, "programmed failure")
	case behavior.Throttle:
		writeError(w, http.StatusBadRequest, "ThrottlingException", "rate exceeded")
	case behavior.Unavailable:
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "try again")
	case behavior.Reject || used:
		// Echo the token or code like careless servers do: the operator must never repeat it.
		writeError(w, http.StatusBadRequest, "InvalidParameterException", "invalid or used credential "+credential)
	case behavior.Body != "":
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, behavior.Body)
	case exchange:
		s.issue(w, "figrt-"+newID(), behavior, true)
	default:
		s.issue(w, credential, behavior, false)
	}
}

// parseCredential reads what a call authenticates with: RefreshToken's token, or
// ExchangeCodeForToken's code (which needs a redirectUri too). Calls are counted under it.
func parseCredential(body []byte, exchange bool) (string, bool) {
	if exchange {
		var req exchangeBody
		err := json.Unmarshal(body, &req)
		return req.Code, err == nil && req.Code != "" && req.RedirectURI != ""
	}
	var req refreshBody
	err := json.Unmarshal(body, &req)
	return req.Token, err == nil && req.Token != ""
}

// spend reports whether a code was used before, and marks it used when the exchange succeeds.
func (s *Server) spend(code string, succeeds bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	used := s.usedCodes[code]
	if succeeds {
		s.usedCodes[code] = true
	}
	return used
}

// sleep holds an answer back; false when the caller gave up meanwhile.
func sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	select {
	case <-time.After(d):
		return true
	case <-r.Context().Done():
		return false
	}
}

// record counts a call, signed as role ("" for the operator's own identity), and takes the
// programmed failure, if any, for it.
func (s *Server) record(token, role string) (Behavior, Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total.Add(1)
	s.signedAs[token] = append(s.signedAs[token], role)
	s.calls[token] = append(s.calls[token], time.Now())
	queue := s.failures[token]
	if len(queue) == 0 {
		return s.behaviors[token], Failure{}, false
	}
	s.failures[token] = queue[1:]
	return s.behaviors[token], queue[0], true
}

// issue answers with a new access token for refreshToken; an exchange also hands out the
// (new) refresh token.
func (s *Server) issue(w http.ResponseWriter, refreshToken string, b Behavior, withRefreshToken bool) {
	lifetime := b.Lifetime
	if lifetime <= 0 {
		s.mu.Lock()
		lifetime = s.opts.Lifetime
		s.mu.Unlock()
	}
	expiresIn := int64(lifetime / time.Second)
	if b.ExpiresIn != nil {
		expiresIn = *b.ExpiresIn
	}
	token := "figat-" + newID()
	s.mu.Lock()
	s.issued = append(s.issued, token)
	s.issuedFor[refreshToken] = append(s.issuedFor[refreshToken], token)
	s.issues[refreshToken] = append(s.issues[refreshToken], time.Now())
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	answer := map[string]any{"accessToken": token, "expiresIn": expiresIn}
	if withRefreshToken {
		answer["refreshToken"] = refreshToken
		s.mu.Lock()
		s.exchanged = append(s.exchanged, refreshToken)
		s.mu.Unlock()
	}
	_ = json.NewEncoder(w).Encode(answer)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
