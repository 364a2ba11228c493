// Package harness runs the product on this machine, the same way for every user of it: the
// controllers suite, the end-to-end suite, the demo and the benchmark. It starts a real
// kube-apiserver and etcd (built from source by hack/envtest.sh), serves the fake Amplify
// endpoint on loopback, runs the manager binary as its own process and puts a proxy in front
// of the API server when a run needs to count, hold or cut requests. Everything it starts
// is on loopback, and every suite gets the same settings (admission plugins, credentials,
// region), so a test, the demo and the benchmark all run under the rules users meet.
package harness

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Credentials sign the operator's requests to the fake endpoint, which checks them.
var Credentials = aws.Credentials{AccessKeyID: "AKIDLOCAL", SecretAccessKey: "local-secret"}

// Region is the AWS region the operator and the fake endpoint agree on.
const Region = "us-east-1"

// RepoRoot is the repository's top folder: the nearest folder holding PROJECT, from the
// working directory up.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "PROJECT")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no PROJECT file above the working directory: run from the repository")
		}
		dir = parent
	}
}

// awsEnv is the environment that points the manager's AWS SDK at Credentials and nothing
// else on this machine.
func awsEnv() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + Credentials.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + Credentials.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	}
}
