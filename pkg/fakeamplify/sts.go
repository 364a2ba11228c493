package fakeamplify

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// STSOptions configure an STS fake.
type STSOptions struct {
	// Credentials are the operator's own: AssumeRole must be signed with them.
	Credentials aws.Credentials
	// Region, when set, must match the signature's credential scope.
	Region string
	// Roles are the roles that may be assumed, each with the ExternalId its trust policy
	// requires. "" admits any ExternalId or none, as a trust policy without an
	// sts:ExternalId condition does; NoExternalID admits only a request without one, as the
	// condition {"Null": {"sts:ExternalId": "true"}} does.
	Roles map[string]string
	// Amplify is the fake Amplify endpoint that accepts the temporary credentials issued.
	Amplify *Server
	// Lifetime of the temporary credentials; an hour when zero.
	Lifetime time.Duration
}

// NoExternalID is a role's ExternalId in STSOptions.Roles that admits only AssumeRole
// requests that send none: the trust policy of a role for ClusterFigmaOAuthClients, which a tenant's
// FigmaOAuthClient (which always sends its namespace's) must not assume.
const NoExternalID = "\x00none"

// STS is a stand-in for AWS STS's AssumeRole, for the Amplify upstream's per-client roles:
// serve it with net/http/httptest and point the operator at it with AWS_ENDPOINT_URL_STS. It
// speaks STS's query protocol with XML answers, checks the request's SigV4 signature with the
// operator's credentials, the RoleArn and the ExternalId, and issues temporary credentials
// that the fake Amplify endpoint then accepts for that role's calls (Server.SignedAs says
// which role signed a call). Refusals are AccessDenied (HTTP 403), as AWS answers them.
type STS struct {
	opts STSOptions

	mu       sync.Mutex
	sessions map[string][]string // role ARN -> the RoleSessionName of each AssumeRole issued
	refused  int
	throttle int
}

// NewSTS returns an STS fake.
func NewSTS(opts STSOptions) *STS {
	if opts.Lifetime <= 0 {
		opts.Lifetime = time.Hour
	}
	return &STS{opts: opts, sessions: map[string][]string{}}
}

// Trust lets role be assumed with externalID ("" any, NoExternalID none), as its trust
// policy would.
func (s *STS) Trust(role, externalID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Roles == nil {
		s.opts.Roles = map[string]string{}
	}
	s.opts.Roles[role] = externalID
}

// Sessions is the RoleSessionName of each AssumeRole of role that issued credentials.
func (s *STS) Sessions(role string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sessions[role]...)
}

// Refused is the number of AssumeRole calls refused (signature, role or external ID).
func (s *STS) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// ThrottleNext answers the next n AssumeRole calls with Throttling (HTTP 400), as STS does.
func (s *STS) ThrottleNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle += n
}

// ServeHTTP implements AssumeRole.
func (s *STS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	form, perr := url.ParseQuery(string(body))
	if err != nil || perr != nil || r.Method != http.MethodPost || form.Get("Action") != "AssumeRole" {
		writeSTSError(w, http.StatusBadRequest, "InvalidAction", "only AssumeRole is served")
		return
	}
	if err := verifySignature(r, body, s.opts.Credentials, s.opts.Region, "sts"); err != nil {
		s.refuse(w, http.StatusForbidden, "SignatureDoesNotMatch", err.Error())
		return
	}
	role, session, externalID := form.Get("RoleArn"), form.Get("RoleSessionName"), form.Get("ExternalId")
	s.mu.Lock()
	want, known := s.opts.Roles[role]
	s.mu.Unlock()
	switch {
	case s.throttled():
		writeSTSError(w, http.StatusBadRequest, "Throttling", "Rate exceeded")
		return
	case !known:
		s.refuse(w, http.StatusForbidden, "AccessDenied", "not authorized to perform sts:AssumeRole on "+role)
		return
	case !admits(want, externalID):
		s.refuse(w, http.StatusForbidden, "AccessDenied", "the trust policy of "+role+" does not admit this external ID")
		return
	case session == "":
		writeSTSError(w, http.StatusBadRequest, "ValidationError", "RoleSessionName is required")
		return
	}
	creds := aws.Credentials{AccessKeyID: "ASIA" + strings.ToUpper(newID()[:16]), SecretAccessKey: newID() + newID(),
		SessionToken: newID() + newID() + newID(), CanExpire: true, Expires: time.Now().Add(s.opts.Lifetime).UTC().Truncate(time.Second)}
	s.opts.Amplify.accept(creds, role)
	s.mu.Lock()
	s.sessions[role] = append(s.sessions[role], session)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	_, _ = fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>%s</AccessKeyId>
      <SecretAccessKey>%s</SecretAccessKey>
      <SessionToken>%s</SessionToken>
      <Expiration>%s</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>%s</Arn>
      <AssumedRoleId>AROAFAKE:%s</AssumedRoleId>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>
</AssumeRoleResponse>`, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, creds.Expires.Format(time.RFC3339),
		xmlText(role+"/"+session), xmlText(session), newID())
}

// admits reports whether a trust policy that wants an ExternalId admits the one sent.
func admits(want, sent string) bool {
	switch want {
	case "":
		return true
	case NoExternalID:
		return sent == ""
	default:
		return sent == want
	}
}

func (s *STS) throttled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttle == 0 {
		return false
	}
	s.throttle--
	return true
}

func (s *STS) refuse(w http.ResponseWriter, status int, code, message string) {
	s.mu.Lock()
	s.refused++
	s.mu.Unlock()
	writeSTSError(w, status, code, message)
}

// writeSTSError answers as STS's query protocol does.
func writeSTSError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		xmlText(code), xmlText(message), newID())
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
