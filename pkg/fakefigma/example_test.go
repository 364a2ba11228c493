package fakefigma_test

import (
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/tokenops/figma-token-operator/pkg/fakefigma"
)

// Serve a fake Figma endpoint for an envtest suite, with one OAuth app, and program one
// refresh token to be refused and another to be throttled; point the operator at srv.URL
// (--figma-endpoint, or pkg/reconciler's FigmaEndpoint) and put the app's client secret in
// the Secret of a FigmaOAuthClient.
func ExampleServer() {
	fake := fakefigma.New(fakefigma.Options{
		Clients:  map[string]string{"my-app-client-id": "my-app-client-secret"},
		Lifetime: time.Hour, // expires_in of the access tokens it issues
	})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	fake.SetBehavior("revoked-refresh-token", fakefigma.Behavior{Reject: true}) // invalid_grant
	fake.FailNext("busy-refresh-token", 1, fakefigma.Failure{Status: 429, RetryAfter: "30"})

	fmt.Println(fake)
	// Output: fakefigma.Server{calls: 0, client rejections: 0, access tokens issued: 0}
}
