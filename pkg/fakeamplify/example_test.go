package fakeamplify_test

import (
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// Serve a fake endpoint for an envtest suite and program one refresh token to be refused;
// point the operator at srv.URL with the same credentials and region.
func ExampleServer() {
	fake := fakeamplify.New(fakeamplify.Options{
		Credentials: aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "test-secret"},
		Region:      "us-east-1",
		Lifetime:    time.Hour, // expiresIn of the access tokens it issues
	})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	fake.SetBehavior("revoked-refresh-token", fakeamplify.Behavior{Reject: true})
	fake.SetBehavior("flaky-refresh-token", fakeamplify.Behavior{Unavailable: true})
	fake.SetBehavior("slow-refresh-token", fakeamplify.Behavior{Delay: time.Minute}) // hangs past the operator's deadline

	fmt.Println(fake)
	// Output: fakeamplify.Server{calls: 0, refresh tokens: 0, access tokens issued: 0}
}
