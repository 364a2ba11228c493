package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/rand"
)

// kubectl figmatoken connect as a user runs it, with the test playing Figma's consent page
// and the browser: a redirect with another state is refused and writes nothing; a good
// one ends with a Ready FigmaToken on the Figma upstream, its refresh token obtained from
// the code (with PKCE) by the operator; a second connect replaces the grant.
func TestKubectlPluginConnect(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	ns := newNamespace(t)
	dir := buildPlugin(t)
	mustKubectl(t, `apiVersion: v1
kind: Secret
metadata:
  name: figma-oauth-app
stringData:
  clientSecret: `+sampleClientSecret+`
---
apiVersion: figma.tokenops.dev/v1alpha1
kind: FigmaOAuthClient
metadata:
  name: design-app
spec:
  clientId: `+sampleClientID+`
  figma:
    clientSecretRef:
      name: figma-oauth-app
`, "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmaoauthclient/design-app", "--timeout=90s")
	consent := newConsentPage(t)
	var printed []string
	connect := func(args ...string) *pluginProcess {
		port := freePort(t)
		return startPlugin(t, dir, append([]string{"-n", ns, "connect", "design", "--no-browser", "--port", port,
			"--authorize-url", consent.server.URL + "/oauth", "--timeout", "90s"}, args...)...)
	}

	// A redirect with another state: the browser gets a plain refusal, the command exits 1
	// and writes nothing.
	consent.forgeState(true)
	p := connect("--client", "design-app")
	status, page := consent.browse(t, p.authorizeURL(t))
	g.Expect(status).To(Equal(http.StatusBadRequest))
	g.Expect(page).To(HavePrefix("Refused: the redirect's state does not match"))
	out, err := p.wait()
	printed = append(printed, out, page)
	g.Expect(err).To(HaveOccurred(), out)
	g.Expect(exitCode(err)).To(Equal(1))
	g.Expect(out).To(ContainSubstring("error: the redirect's state does not match this attempt's"))
	_, err = kubectl(nil, "get", "secret/design", "figmatoken/design", "-n", ns)
	g.Expect(err).To(HaveOccurred(), "neither the Secret nor the FigmaToken exists")
	g.Expect(mustKubectl(t, "", "get", "secrets,figmatokens", "-n", ns, "-o", "name")).To(Equal("secret/figma-oauth-app\n"))

	// The consent page redirects with the code and this attempt's state: the Secret and the
	// FigmaToken are created, the operator exchanges the code at the Figma upstream.
	consent.forgeState(false)
	p = connect("--client", "FigmaOAuthClient/design-app")
	authURL := p.authorizeURL(t)
	status, page = consent.browse(t, authURL)
	g.Expect(status).To(Equal(http.StatusOK))
	g.Expect(page).To(HavePrefix("Figma access granted for FigmaToken " + ns + "/design."))
	out, err = p.wait()
	printed = append(printed, out, page)
	g.Expect(err).NotTo(HaveOccurred(), out)
	g.Expect(out).To(ContainSubstring("Secret " + ns + "/design created with the code (code, redirectUri, codeVerifier)"))
	g.Expect(out).To(ContainSubstring("FigmaToken " + ns + "/design created (secretRef design, clientRef FigmaOAuthClient/design-app)"))
	g.Expect(out).To(MatchRegexp(`(?m)^` + ns + `/design: connected: Ready: the token expires in \S+, next refresh in \S+\. Nothing to do\.$`))
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/design", "--timeout=10s")
	g.Expect(mustKubectl(t, "", "get", "figmatoken/design", "-n", ns, "-o", "jsonpath={.spec.clientRef.kind}/{.spec.clientRef.name} {.spec.secretRef.name}")).
		To(Equal("FigmaOAuthClient/design-app design"))

	code := consent.lastCode()
	g.Expect(figmaFake.Calls(code)).To(Equal(1), "the code is exchanged once")
	verifier := figmaFake.VerifierFor(code)
	sum := sha256.Sum256([]byte(verifier))
	g.Expect(base64.RawURLEncoding.EncodeToString(sum[:])).To(Equal(consent.lastChallenge()), "the verifier sent is the one the URL's S256 challenge was made from")
	data := secretData(t, ns, "design")
	g.Expect(data).To(HaveKey("refreshToken"))
	g.Expect(data).To(HaveKey("accessToken"))
	g.Expect(data).NotTo(HaveKey("code"))
	g.Expect(figmaFake.Exchanged()).To(ContainElement(data["refreshToken"]))
	g.Expect(figmaFake.IssuedFor(data["refreshToken"])).To(ContainElement(data["accessToken"]))
	firstRefreshToken := data["refreshToken"]

	// Connecting again replaces the grant: the code wins over the refresh token the Secret
	// holds, and the FigmaToken is Ready with the new one.
	p = connect("--client", "design-app")
	status, page = consent.browse(t, p.authorizeURL(t))
	g.Expect(status).To(Equal(http.StatusOK))
	out, err = p.wait()
	printed = append(printed, out, page)
	g.Expect(err).NotTo(HaveOccurred(), out)
	g.Expect(out).To(ContainSubstring(`Secret ` + ns + `/design: the code written (code, redirectUri, codeVerifier); the refresh token under "refreshToken" removed: the new grant replaces it`))
	g.Expect(out).To(ContainSubstring(ns + "/design: connected: Ready: "))
	g.Expect(out).NotTo(ContainSubstring("spec.clientRef set"), "the FigmaToken already names the client")
	data = secretData(t, ns, "design")
	g.Expect(data["refreshToken"]).NotTo(Equal(firstRefreshToken))
	g.Expect(figmaFake.Exchanged()).To(ContainElement(data["refreshToken"]))
	g.Expect(figmaFake.Calls(consent.lastCode())).To(Equal(1))

	// Neither codes nor tokens nor the verifier in anything the command or the pages showed.
	all := strings.Join(printed, "\n")
	secrets := append(consent.codes(), verifier, firstRefreshToken, sampleClientSecret)
	secrets = append(secrets, figmaFake.IssuedFor(firstRefreshToken)...)
	secrets = append(secrets, figmaFake.IssuedFor(data["refreshToken"])...)
	for _, s := range secrets {
		g.Expect(all).NotTo(ContainSubstring(s), "connect printed a credential")
	}
	t.Logf("kubectl figmatoken connect printed:\n%s", all)
}

// secretData reads a Secret's values, decoded.
func secretData(t *testing.T, ns, name string) map[string]string {
	t.Helper()
	out := mustKubectl(t, "", "get", "secret", name, "-n", ns, "-o", `go-template={{range $k, $v := .data}}{{$k}}={{$v}}{{"\n"}}{{end}}`)
	data := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		raw, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			t.Fatalf("key %s: %v", k, err)
		}
		data[k] = string(raw)
	}
	return data
}

// consentPage plays Figma's authorization page: it checks the authorization request and
// sends the browser to its redirect_uri with a new code and the request's state (or a
// forged one).
type consentPage struct {
	server     *httptest.Server
	mu         sync.Mutex
	forged     bool
	issued     []string
	challenges []string
}

func newConsentPage(t *testing.T) *consentPage {
	c := &consentPage{}
	c.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		redirectURI, err := url.Parse(q.Get("redirect_uri"))
		if r.URL.Path != "/oauth" || err != nil || q.Get("client_id") != sampleClientID || q.Get("response_type") != "code" ||
			q.Get("scope") != "file_content:read" || q.Get("state") == "" || q.Get("code_challenge_method") != "S256" ||
			redirectURI.Scheme != "http" || redirectURI.Hostname() != "127.0.0.1" || redirectURI.Path != "/callback" {
			http.Error(w, "not an authorization request this app accepts: "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		code := "figma-code-" + rand.String(24)
		c.issued = append(c.issued, code)
		c.challenges = append(c.challenges, q.Get("code_challenge"))
		state := q.Get("state")
		if c.forged {
			state = "forged-" + rand.String(8)
		}
		c.mu.Unlock()
		back := url.Values{"code": {code}, "state": {state}}
		http.Redirect(w, r, redirectURI.String()+"?"+back.Encode(), http.StatusFound)
	}))
	t.Cleanup(c.server.Close)
	return c
}

func (c *consentPage) forgeState(forge bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forged = forge
}

func (c *consentPage) lastCode() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.issued[len(c.issued)-1]
}

func (c *consentPage) lastChallenge() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.challenges[len(c.challenges)-1]
}

func (c *consentPage) codes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.issued...)
}

// browse is the browser: it opens the authorization URL, follows the consent page's
// redirect to the plugin's listener, and returns the listener's page.
func (c *consentPage) browse(t *testing.T, authURL string) (int, string) {
	t.Helper()
	resp, err := http.Get(authURL) //nolint:noctx // the URL the plugin printed, in a test
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusBadRequest && strings.HasPrefix(string(page), "not an authorization request") {
		t.Fatalf("the consent page refused the plugin's URL %s: %s", authURL, page)
	}
	return resp.StatusCode, string(page)
}

// freePort is a port of 127.0.0.1 that nothing listened on a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// pluginProcess is "kubectl figmatoken ARGS" running in the background, as runPlugin runs
// it: its output is collected, and lines that are URLs are handed out as printed.
type pluginProcess struct {
	cmd     *exec.Cmd
	mu      sync.Mutex
	out     bytes.Buffer
	urls    chan string
	scanned chan struct{}
}

func startPlugin(t *testing.T, pluginDir string, args ...string) *pluginProcess {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	p := &pluginProcess{urls: make(chan string, 4), scanned: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, kubectlBin, append([]string{"figmatoken", "--kubeconfig", adminKubeconfig}, args...)...)
	p.cmd.Env = append(os.Environ(), "PATH="+pluginDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	p.cmd.Stderr = lockedWriter{p}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.scanned)
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			line := lines.Text()
			_, _ = lockedWriter{p}.Write([]byte(line + "\n"))
			if strings.HasPrefix(line, "http://") || strings.HasPrefix(line, "https://") {
				p.urls <- line
			}
		}
	}()
	return p
}

// authorizeURL is the first URL the plugin printed alone on a line.
func (p *pluginProcess) authorizeURL(t *testing.T) string {
	t.Helper()
	select {
	case u := <-p.urls:
		return u
	case <-p.scanned:
		out, _ := p.wait()
		t.Fatalf("the plugin ended without printing a URL:\n%s", out)
	case <-time.After(2 * time.Minute):
		t.Fatalf("no URL printed within 2 minutes:\n%s", p.output())
	}
	return ""
}

// wait waits for the plugin to end and returns all it printed.
func (p *pluginProcess) wait() (string, error) {
	<-p.scanned
	err := p.cmd.Wait()
	return p.output(), err
}

func (p *pluginProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

type lockedWriter struct{ p *pluginProcess }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

// exitCode is a finished command's exit status, -1 when it did not exit by itself.
func exitCode(err error) int {
	var e *exec.ExitError
	if errors.As(err, &e) {
		return e.ExitCode()
	}
	return -1
}
