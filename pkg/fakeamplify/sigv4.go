package fakeamplify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signingName is the service name Amplify UI Builder requests are signed for.
const signingName = "amplifyuibuilder"

// authorization is the parsed Authorization header of a SigV4 request.
type authorization struct {
	accessKeyID   string
	region        string
	service       string
	signedHeaders []string
	signature     string
}

func parseAuthorization(header string) (authorization, error) {
	const algorithm = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(header, algorithm) {
		return authorization{}, errors.New("not a SigV4 Authorization header")
	}
	var a authorization
	for _, field := range strings.Split(strings.TrimPrefix(header, algorithm), ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch key {
		case "Credential":
			scope := strings.Split(value, "/")
			if len(scope) != 5 {
				return authorization{}, errors.New("malformed credential scope")
			}
			a.accessKeyID, a.region, a.service = scope[0], scope[2], scope[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(value, ";")
		case "Signature":
			a.signature = value
		}
	}
	if a.accessKeyID == "" || a.signature == "" || len(a.signedHeaders) == 0 {
		return authorization{}, errors.New("incomplete Authorization header")
	}
	return a, nil
}

// accessKeyOf is the access key ID a SigV4 request says it is signed with.
func accessKeyOf(r *http.Request) string {
	auth, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return ""
	}
	return auth.accessKeyID
}

// verifySignature signs a copy of the request, holding only the headers the client
// signed, with the server's credentials for service, and compares the signatures. Temporary
// credentials (a session token) must come with their token.
func verifySignature(r *http.Request, body []byte, creds aws.Credentials, region, service string) error {
	auth, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	if auth.accessKeyID != creds.AccessKeyID {
		return errors.New("unknown access key")
	}
	if creds.SessionToken != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Amz-Security-Token")), []byte(creds.SessionToken)) != 1 {
		return errors.New("missing or wrong session token")
	}
	if auth.service != service || (region != "" && auth.region != region) {
		return fmt.Errorf("wrong credential scope %s/%s", auth.region, auth.service)
	}
	signingTime, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return errors.New("missing or malformed X-Amz-Date")
	}

	replay, err := http.NewRequestWithContext(context.Background(), r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	replay.ContentLength = int64(len(body))
	for _, name := range auth.signedHeaders {
		if name == "host" || name == "content-length" {
			continue // the signer takes these from the request itself
		}
		for _, v := range r.Header.Values(name) {
			replay.Header.Add(name, v)
		}
	}
	sum := sha256.Sum256(body)
	err = v4.NewSigner().SignHTTP(context.Background(), creds, replay, hex.EncodeToString(sum[:]), service, auth.region, signingTime)
	if err != nil {
		return err
	}
	want, err := parseAuthorization(replay.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(want.signature), []byte(auth.signature)) != 1 {
		return errors.New("signature does not match")
	}
	return nil
}
