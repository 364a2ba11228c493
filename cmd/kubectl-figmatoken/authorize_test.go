package main

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

func TestAuthorizationURLCarriesWhatFigmaNeeds(t *testing.T) {
	tests := []struct {
		name       string
		pkce       bool
		scopes     []string
		authorize  string
		wantScope  string
		wantPrefix string
	}{
		{"figma client: PKCE", true, []string{"file_content:read"}, defaultAuthorizeURL, "file_content:read", "https://www.figma.com/oauth?"},
		{"amplify client: no PKCE", false, []string{"file_content:read"}, defaultAuthorizeURL, "file_content:read", "https://www.figma.com/oauth?"},
		{"scopes space-separated", true, []string{"file_content:read", "current_user:read"}, defaultAuthorizeURL, "file_content:read current_user:read", "https://www.figma.com/oauth?"},
		{"a test's consent page", false, []string{"file_content:read"}, "http://127.0.0.1:4000/oauth", "file_content:read", "http://127.0.0.1:4000/oauth?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuthorization("AbCdEf0123456789", 8765, tt.scopes, tt.pkce)
			raw := a.url(tt.authorize)
			if !strings.HasPrefix(raw, tt.wantPrefix) {
				t.Fatalf("URL %q does not start with %q", raw, tt.wantPrefix)
			}
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			want := map[string]string{
				"client_id":     "AbCdEf0123456789",
				"redirect_uri":  "http://127.0.0.1:8765/callback",
				"scope":         tt.wantScope,
				"state":         a.state,
				"response_type": "code",
			}
			for k, v := range want {
				if q.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, q.Get(k), v)
				}
			}
			if tt.pkce {
				sum := sha256.Sum256([]byte(a.verifier))
				if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") != base64.RawURLEncoding.EncodeToString(sum[:]) {
					t.Errorf("code_challenge %q (%s) is not the S256 of the verifier", q.Get("code_challenge"), q.Get("code_challenge_method"))
				}
				if strings.Contains(raw, a.verifier) {
					t.Error("the URL carries the verifier itself")
				}
			} else if q.Has("code_challenge") || a.verifier != "" {
				t.Error("PKCE without a Figma client")
			}
		})
	}
}

func TestEachAttemptHasItsOwnState(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		a := newAuthorization("id", 8765, []string{defaultScope}, true)
		if len(a.state) < 22 || seen[a.state] || seen[a.verifier] {
			t.Fatalf("state %q is short or repeated", a.state)
		}
		seen[a.state], seen[a.verifier] = true, true
	}
}

func TestRedirectIsUsedOnlyWithThisAttemptsState(t *testing.T) {
	a := newAuthorization("id", 8765, []string{defaultScope}, false)
	const code = "the-code-0123"
	tests := []struct {
		name        string
		query       url.Values
		wantCode    string
		wantRefused string
	}{
		{"good", url.Values{"code": {code}, "state": {a.state}}, code, ""},
		{"wrong state", url.Values{"code": {code}, "state": {"forged"}}, "", "state does not match"},
		{"no state", url.Values{"code": {code}}, "", "state does not match"},
		{"state of a longer value", url.Values{"code": {code}, "state": {a.state + "x"}}, "", "state does not match"},
		{"consent refused", url.Values{"error": {"access_denied"}, "state": {a.state}}, "", "did not grant access (access_denied)"},
		{"an error code not fit to show", url.Values{"error": {"<script>" + code}, "state": {a.state}}, "", "did not grant access (an error)"},
		{"no code", url.Values{"state": {a.state}}, "", "carries no code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.judgeRedirect(tt.query)
			if got.code != tt.wantCode || !strings.Contains(got.refused, tt.wantRefused) || (tt.wantRefused == "") != (got.refused == "") {
				t.Fatalf("judgeRedirect = code %q, refused %q; want code %q, refused ~%q", got.code, got.refused, tt.wantCode, tt.wantRefused)
			}
			if strings.Contains(got.refused, code) {
				t.Fatal("the refusal repeats the code")
			}
		})
	}
}

func TestClientFlagNamesKindAndClient(t *testing.T) {
	tests := []struct {
		flag, kind, name, err string
	}{
		{"design-app", figmav1alpha1.KindFigmaOAuthClient, "design-app", ""},
		{"FigmaOAuthClient/design-app", figmav1alpha1.KindFigmaOAuthClient, "design-app", ""},
		{"ClusterFigmaOAuthClient/design-app", figmav1alpha1.KindClusterFigmaOAuthClient, "design-app", ""},
		{"clusterfigmaoauthclients/design-app", figmav1alpha1.KindClusterFigmaOAuthClient, "design-app", ""},
		{"Secret/design-app", "", "", "the kind must be"},
		{"FigmaOAuthClient/Bad_Name", "", "", "not a valid client name"},
		{"", "", "", "not a valid client name"},
	}
	for _, tt := range tests {
		ref, err := parseClientRef(tt.flag)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseClientRef(%q) = %v, want an error with %q", tt.flag, err, tt.err)
			}
			continue
		}
		if err != nil || ref.Kind != tt.kind || string(ref.Name) != tt.name {
			t.Errorf("parseClientRef(%q) = %+v, %v; want %s/%s", tt.flag, ref, err, tt.kind, tt.name)
		}
	}
}

func TestSecretChangesLetTheCodeWin(t *testing.T) {
	withPKCE := handover{code: "c", auth: authorization{redirectURI: "http://127.0.0.1:8765/callback", verifier: "v"}}
	set, remove := withPKCE.secretChanges("refreshToken")
	if string(set["code"]) != "c" || string(set["redirectUri"]) != "http://127.0.0.1:8765/callback" || string(set["codeVerifier"]) != "v" {
		t.Errorf("set = %v", set)
	}
	if strings.Join(remove, ",") != "refreshToken" {
		t.Errorf("remove = %v, want the refresh token (the operator prefers it to a code)", remove)
	}
	withoutPKCE := handover{code: "c", auth: authorization{redirectURI: "http://127.0.0.1:8765/callback"}}
	set, remove = withoutPKCE.secretChanges("rt")
	if _, ok := set["codeVerifier"]; ok || strings.Join(remove, ",") != "rt,codeVerifier" {
		t.Errorf("without PKCE: set %v, remove %v; want an earlier verifier removed", set, remove)
	}
}
