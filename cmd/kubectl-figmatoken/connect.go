package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// Defaults of connect, as CONTRACT.md fixes them.
const (
	defaultPort         = 8765
	defaultScope        = "file_content:read"
	defaultAuthorizeURL = "https://www.figma.com/oauth"
)

type connectOptions struct {
	client       string
	secret       string
	scopes       []string
	port         int
	noBrowser    bool
	timeout      time.Duration
	authorizeURL string
}

func newConnectCommand(o *options) *cobra.Command {
	co := &connectOptions{}
	cmd := &cobra.Command{
		Use:   "connect NAME --client [KIND/]CLIENT",
		Short: "Get a FigmaToken's first refresh token: Figma's consent in the browser, then the operator's exchange",
		Long: `Run the OAuth consent for a FigmaToken and hand the authorization code to the operator:

 1. Read the OAuth client --client names (a FigmaOAuthClient of the namespace, or
    ClusterFigmaOAuthClient/NAME) for its clientId. The client secret is never read: the
    operator exchanges the code.
 2. Print Figma's authorization URL alone on its own line, and open it in a browser
    (xdg-open, open) unless --no-browser. It asks for --scope, with a fresh random state,
    response_type=code, redirect_uri http://127.0.0.1:PORT/callback (--port) and, for a
    client on the Figma upstream, PKCE (an S256 code_challenge).
 3. Catch the browser's redirect on 127.0.0.1:PORT/callback, once, and answer it with a
    plain page. A redirect whose state differs from this attempt's (forged or stale), or
    that carries an OAuth error, is refused: exit 1, nothing written.
 4. Write the code under "code" and the redirect URI under "redirectUri" (and the PKCE
    verifier under "codeVerifier") into the Secret: --secret, by default the FigmaToken's
    spec.secretRef.name, or NAME for a new FigmaToken. The Secret is created if absent. A
    refresh token already there is removed: the operator prefers a refresh token to a code,
    so the new grant replaces the old one.
 5. Create the FigmaToken (spec.secretRef, spec.clientRef) if absent, or set its
    spec.clientRef (removing spec.clientId) if it names another client.
 6. Wait up to --timeout for the operator's exchange and print the outcome: Ready, or the
    reason and what to do.

The redirect URL http://127.0.0.1:PORT/callback must be registered in the Figma app. The
code and tokens are never printed.

Needs get on the client; get, create and patch on secrets and figmatokens in the namespace.
Exit status: 0 when the FigmaToken is Ready with the new grant; 1 when the redirect was
refused or did not come within --timeout, a write failed, the exchange failed, or it was not
done within --timeout.`,
		Example: `  kubectl figmatoken connect design-system -n web --client design-app
  kubectl figmatoken connect design-system -n web --client ClusterFigmaOAuthClient/design-app \
    --scope file_content:read,current_user:read --no-browser`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := co.validate(args[0])
			if err != nil {
				return err
			}
			s, err := o.connect()
			if err != nil {
				return err
			}
			return s.connectToken(cmd.Context(), o, co, args[0], ref)
		},
	}
	f := cmd.Flags()
	f.StringVar(&co.client, "client", "", "the OAuth client: NAME (a FigmaOAuthClient of the namespace) or KIND/NAME, KIND FigmaOAuthClient or ClusterFigmaOAuthClient (required)")
	f.StringVar(&co.secret, "secret", "", "the Secret to write the code to (default: the FigmaToken's spec.secretRef.name, else NAME)")
	f.StringSliceVar(&co.scopes, "scope", []string{defaultScope}, "the OAuth scopes to ask for, comma-separated or repeated; the Figma app must allow them")
	f.IntVar(&co.port, "port", defaultPort, "the port of the redirect URI http://127.0.0.1:PORT/callback, registered in the Figma app")
	f.BoolVar(&co.noBrowser, "no-browser", false, "only print the authorization URL; open it yourself, in a browser on this machine")
	f.DurationVar(&co.timeout, "timeout", 5*time.Minute, "how long to wait for the browser's redirect, and then again for the operator's exchange, a Go duration (90s, 5m)")
	f.StringVar(&co.authorizeURL, "authorize-url", defaultAuthorizeURL, "Figma's authorization (consent) page; another only for tests")
	_ = cmd.MarkFlagRequired("client")
	return cmd
}

// validate checks the flags and NAME before anything is read or opened.
func (co *connectOptions) validate(name string) (figmav1alpha1.ClientRef, error) {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return figmav1alpha1.ClientRef{}, fmt.Errorf("NAME %q is not a valid FigmaToken name: %s", name, strings.Join(errs, "; "))
	}
	if co.secret != "" {
		if errs := validation.IsDNS1123Subdomain(co.secret); len(errs) > 0 {
			return figmav1alpha1.ClientRef{}, fmt.Errorf("--secret %q is not a valid Secret name: %s", co.secret, strings.Join(errs, "; "))
		}
	}
	switch {
	case co.port < 1 || co.port > 65535:
		return figmav1alpha1.ClientRef{}, fmt.Errorf("--port must be 1 to 65535, got %d", co.port)
	case co.timeout <= 0:
		return figmav1alpha1.ClientRef{}, fmt.Errorf("--timeout must be positive, got %s", co.timeout)
	case len(co.scopes) == 0 || strings.TrimSpace(strings.Join(co.scopes, "")) == "":
		return figmav1alpha1.ClientRef{}, errors.New("--scope needs at least one scope, e.g. " + defaultScope)
	}
	if u, err := url.Parse(co.authorizeURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return figmav1alpha1.ClientRef{}, fmt.Errorf("--authorize-url %q is not an http(s) URL", co.authorizeURL)
	}
	return parseClientRef(co.client)
}

// parseClientRef reads --client: NAME, or KIND/NAME with KIND a client kind or its
// resource name, in any case (kubectl's TYPE/NAME).
func parseClientRef(s string) (figmav1alpha1.ClientRef, error) {
	kind, name, hasKind := strings.Cut(s, "/")
	if !hasKind {
		kind, name = figmav1alpha1.KindFigmaOAuthClient, s
	}
	switch strings.ToLower(kind) {
	case "figmaoauthclient", "figmaoauthclients":
		kind = figmav1alpha1.KindFigmaOAuthClient
	case "clusterfigmaoauthclient", "clusterfigmaoauthclients":
		kind = figmav1alpha1.KindClusterFigmaOAuthClient
	default:
		return figmav1alpha1.ClientRef{}, fmt.Errorf("--client %q: the kind must be FigmaOAuthClient or ClusterFigmaOAuthClient", s)
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return figmav1alpha1.ClientRef{}, fmt.Errorf("--client %q: %q is not a valid client name: %s", s, name, strings.Join(errs, "; "))
	}
	return figmav1alpha1.ClientRef{Kind: kind, Name: figmav1alpha1.DNSSubdomain(name)}, nil
}

// connectToken runs the consent and the hand-over for FigmaToken name.
func (s *session) connectToken(ctx context.Context, o *options, co *connectOptions, name string, ref figmav1alpha1.ClientRef) error {
	ft := &figmav1alpha1.FigmaToken{}
	switch err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, ft); {
	case apierrors.IsNotFound(err):
		ft = nil
	case err != nil:
		return err
	case ft.Spec.Suspend:
		return fmt.Errorf("FigmaToken %s/%s is suspended (spec.suspend: true): the code would expire unexchanged. Resume it first: kubectl patch figmatoken %s -n %s --type merge -p '{\"spec\":{\"suspend\":false}}'", s.namespace, name, name, s.namespace)
	}
	secretName, err := co.secretName(ft, name)
	if err != nil {
		return err
	}
	app, err := s.readApp(ctx, ref)
	if err != nil {
		return err
	}

	a := newAuthorization(app.clientID, co.port, co.scopes, app.figma)
	ln, err := listenForRedirect(co.port)
	if err != nil {
		return err
	}
	authURL := a.url(co.authorizeURL)
	fmt.Fprintf(o.streams.ErrOut, "Open this URL in a browser signed in to Figma as the user whose files the token reads, and allow access (%s %s, scope %s):\n",
		ref.Kind, ref.Name, strings.Join(co.scopes, " "))
	fmt.Fprintln(o.streams.Out, authURL)
	if !co.noBrowser {
		if err := openBrowser(authURL); err != nil {
			fmt.Fprintf(o.streams.ErrOut, "Could not open a browser (%v): open the URL above yourself.\n", err)
		}
	}
	fmt.Fprintf(o.streams.ErrOut, "Waiting up to %s for the redirect to %s ...\n", shortDuration(co.timeout), a.redirectURI)
	consent, cancel := context.WithTimeout(ctx, co.timeout)
	got, err := awaitRedirect(consent, ln, a, s.namespace+"/"+name)
	cancel()
	switch {
	case ctx.Err() != nil:
		return errors.New("interrupted before the redirect came; nothing was written")
	case err != nil:
		return fmt.Errorf("no redirect to %s within %s: finish the consent in the browser, and check that the Figma app lists %s as a redirect URL. Nothing was written", a.redirectURI, shortDuration(co.timeout), a.redirectURI)
	case got.refused != "":
		return errors.New(got.refused)
	}

	h := handover{namespace: s.namespace, name: name, secret: secretName, client: ref, auth: a, code: got.code}
	if ft, err = s.handOver(ctx, o.streams.Out, ft, h); err != nil {
		return err
	}
	return s.awaitExchange(ctx, o.streams.Out, ft, h, co.timeout)
}

// secretName is the Secret the code goes to: --secret, else the existing FigmaToken's
// spec.secretRef.name, else the FigmaToken's own name. An existing FigmaToken reads only
// its spec.secretRef, so another --secret is refused rather than written uselessly.
func (co *connectOptions) secretName(ft *figmav1alpha1.FigmaToken, name string) (string, error) {
	switch {
	case ft == nil && co.secret != "":
		return co.secret, nil
	case ft == nil:
		return name, nil
	case co.secret != "" && co.secret != string(ft.Spec.SecretRef.Name):
		return "", fmt.Errorf("FigmaToken %s/%s reads Secret %s (spec.secretRef.name), not %s: leave out --secret, or change spec.secretRef.name first", ft.Namespace, ft.Name, ft.Spec.SecretRef.Name, co.secret)
	default:
		return string(ft.Spec.SecretRef.Name), nil
	}
}
