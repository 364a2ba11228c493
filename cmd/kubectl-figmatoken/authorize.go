package main

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// authorization is one OAuth consent attempt (RFC 6749 section 4.1): what the authorization
// URL asks for, and what the redirect must carry back.
type authorization struct {
	clientID    string
	redirectURI string
	scopes      []string
	// state is fresh for each attempt: a redirect that does not carry it back was not caused
	// by this attempt (a forged or stale one, RFC 6749 section 10.12).
	state string
	// verifier is the PKCE code verifier (RFC 7636), "" without PKCE. Only its S256
	// challenge goes into the URL; the verifier goes to the Secret, for the exchange.
	verifier string
}

// newAuthorization makes a fresh state, and a PKCE verifier when pkce is set.
func newAuthorization(clientID string, port int, scopes []string, pkce bool) authorization {
	a := authorization{clientID: clientID, redirectURI: redirectURI(port), scopes: scopes, state: rand.Text()}
	if pkce {
		a.verifier = oauth2.GenerateVerifier()
	}
	return a
}

// redirectURI is where the plugin's listener catches the redirect: the loopback address,
// which native apps use (RFC 8252 section 7.3); it must be registered in the Figma app as is.
func redirectURI(port int) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", port, callbackPath)
}

// callbackPath is the path of redirectURI.
const callbackPath = "/callback"

// url is the authorization URL at authorizeURL (Figma's consent page): client_id,
// redirect_uri, scope (space-separated), state, response_type=code, and the S256
// code_challenge with PKCE.
func (a authorization) url(authorizeURL string) string {
	config := oauth2.Config{
		ClientID:    a.clientID,
		Endpoint:    oauth2.Endpoint{AuthURL: authorizeURL},
		RedirectURL: a.redirectURI,
		Scopes:      a.scopes,
	}
	var opts []oauth2.AuthCodeOption
	if a.verifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(a.verifier))
	}
	return config.AuthCodeURL(a.state, opts...)
}

// redirect is what the authorization server sent the browser back with.
type redirect struct {
	code string
	// refused is why the redirect is not used, "" when it is good. It never contains the
	// code, and is shown to the user.
	refused string
}

// judgeRedirect checks the query of a redirect to the callback: it carries this attempt's
// state and a code, and no OAuth error (RFC 6749 section 4.1.2).
func (a authorization) judgeRedirect(query url.Values) redirect {
	if subtle.ConstantTimeCompare([]byte(query.Get("state")), []byte(a.state)) != 1 {
		return redirect{refused: "the redirect's state does not match this attempt's: it did not come from the consent this command asked for (a forged or stale redirect). Nothing was written."}
	}
	if e := query.Get("error"); e != "" {
		return redirect{refused: fmt.Sprintf("Figma did not grant access (%s). Nothing was written.", oauthErrorCode(e))}
	}
	code := query.Get("code")
	if code == "" {
		return redirect{refused: "the redirect carries no code. Nothing was written."}
	}
	return redirect{code: code}
}

// oauthErrorCode is an OAuth error code as it may be shown: lower-case words joined by
// '_' as RFC 6749's codes are (access_denied, invalid_scope); anything else comes from
// whoever sent the redirect, and is not repeated.
func oauthErrorCode(e string) string {
	if len(e) > 64 || strings.IndexFunc(e, func(r rune) bool { return (r < 'a' || r > 'z') && r != '_' }) >= 0 {
		return "an error"
	}
	return e
}
