package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const module = "github.com/tokenops/figma-token-operator"

// A release signed with a throwaway key, as make release and the README's push line sign it,
// passes every verification line of the README, run as a user runs it in the folder of the
// release's files (only the registry, the version and plain HTTP changed); an image re-pushed
// under the same tag unsigned, or signed with another key, fails them.
func TestTheReadmesVerifyLinesAdmitOnlyTheSignedRelease(t *testing.T) {
	const version = "v0.0.0-verify"
	cosign, cyclonedx := tool(t, "COSIGN"), tool(t, "CYCLONEDX_GOMOD")
	root, signedPush := repoRoot(t), readmePushLine(t, true)
	readmeTag := versionIn(t, signedPush)
	key, _ := generateKeyPair(t, cosign)
	otherKey, otherPub := generateKeyPair(t, cosign)
	host := startRegistry(t)
	repo := host + "/figma-token-operator"
	dist := fakeRelease(t, version, map[string][]byte{"amd64": []byte("amd64 manager"), "arm64": []byte("arm64 manager")})

	// make release's last steps: the SBOMs, provenance and SHA256SUMS; then the signatures,
	// which without a key are not made, and make says so.
	tools := makeVars(t, dist) + " CYCLONEDX_GOMOD=" + cyclonedx
	runLine(t, root, "make release-attestations VERSION="+version+tools)
	if out := runLine(t, root, "make release-sign VERSION="+version+tools); !strings.Contains(out, "nothing was signed") {
		t.Fatalf("make release-sign without COSIGN_KEY does not say that nothing was signed:\n%s", out)
	}
	if bundles, _ := filepath.Glob(filepath.Join(dist, "*.bundle")); len(bundles) > 0 {
		t.Fatalf("make release-sign without COSIGN_KEY wrote %v", bundles)
	}
	runLine(t, root, "make release-sign VERSION="+version+" COSIGN_KEY="+key+tools)

	push := func(dist, key string) (chart, image string) {
		t.Helper()
		line := signedPush
		cosignKey := ""
		if key != "" {
			cosignKey = "COSIGN_KEY=" + key
		}
		line = strings.NewReplacer(readmeRegistry, host, "VERSION="+readmeTag, "VERSION="+version, readmeKey, cosignKey).Replace(line)
		lines := strings.Split(strings.TrimSpace(runLine(t, root, line+makeVars(t, dist))), "\n")
		return lines[len(lines)-2], lines[len(lines)-1]
	}
	chart, image := push(dist, key)

	// Each verification line of the README, for the registry's artifacts and for the files.
	verify := func(line string) string {
		line = strings.NewReplacer(readmeRegistry, host, ":"+readmeTag, ":"+version,
			":"+strings.TrimPrefix(readmeTag, "v"), ":"+strings.TrimPrefix(version, "v")).Replace(line)
		line = cosign + strings.TrimPrefix(line, "cosign")
		if strings.Contains(line, host) {
			line += " --allow-http-registry"
		}
		return line
	}
	checked := map[string]bool{}
	for _, line := range readmeLines(t, "cosign verify") {
		out := runLine(t, dist, verify(line))
		switch {
		case strings.Contains(line, "figma-token-operator:"+readmeTag) && strings.HasPrefix(line, "cosign verify "):
			signedDigests(t, out, image)
			checked["image"] = true
		case strings.Contains(line, "charts/figma-token-operator:"):
			signedDigests(t, out, chart)
			checked["chart"] = true
		case strings.Contains(line, "--type cyclonedx"):
			sboms := attestations(t, out, image, "https://cyclonedx.org/bom")
			platforms := map[string]bool{}
			for _, sbom := range sboms {
				var bom struct {
					Metadata struct {
						Component struct {
							Name       string
							Properties []struct{ Name, Value string }
						}
					}
					Components []struct{ Name string }
				}
				if err := json.Unmarshal(sbom, &bom); err != nil || bom.Metadata.Component.Name != module || len(bom.Components) == 0 {
					t.Fatalf("an SBOM attestation is not the manager's CycloneDX SBOM (%v):\n%.400s", err, sbom)
				}
				for _, p := range bom.Metadata.Component.Properties {
					if p.Name == "cdx:gomod:build:env:GOARCH" {
						platforms[p.Value] = true
					}
				}
			}
			if !platforms["amd64"] || !platforms["arm64"] {
				t.Fatalf("SBOM attestations for %v, want amd64 and arm64", platforms)
			}
			checked["sbom"] = true
		case strings.Contains(line, "verify-attestation") && strings.Contains(line, "--type slsaprovenance1"):
			provenance := attestations(t, out, image, "https://slsa.dev/provenance/v1")
			commit := strings.TrimSpace(string(must(exec.Command("git", "-C", root, "rev-parse", "HEAD").Output())))
			if len(provenance) != 1 || !strings.Contains(string(provenance[0]), `"gitCommit":"`+commit+`"`) {
				t.Fatalf("provenance attestations %s, want one naming commit %s", provenance, commit)
			}
			checked["provenance"] = true
		case strings.HasPrefix(line, "cosign verify-blob-attestation "):
			checked["file provenance"] = true
		case strings.HasPrefix(line, "cosign verify-blob "):
			checked["file signature"] = true
		}
	}
	if len(checked) != 6 {
		t.Fatalf("the README verifies %v; want the image, the chart, the SBOM, the provenance, and the files' signatures and provenance", checked)
	}
	runLine(t, dist, readmeLines(t, "sha256sum ")[0])

	// Each platform image is signed too: the README's image line, by the platform's digest.
	imageLine := verify(readmeLines(t, "cosign verify --key")[0])
	index := must(remote.Index(must(name.NewDigest(image))))
	for _, m := range must(index.IndexManifest()).Manifests {
		platform := repo + "@" + m.Digest.String()
		signedDigests(t, runLine(t, dist, strings.Replace(imageLine, repo+":"+version, platform, 1)), platform)
	}

	// A file changed after signing, or a key other than the release's, fails.
	sums := filepath.Join(dist, "SHA256SUMS")
	writeFile(t, sums, append(must(os.ReadFile(sums)), "0000  added-later\n"...))
	refused(t, dist, verify(readmeLines(t, "cosign verify-blob --key cosign.pub --insecure-ignore-tlog --bundle SHA256SUMS")[0]), "invalid signature")
	for _, line := range readmeLines(t, "cosign verify-blob --key cosign.pub --insecure-ignore-tlog --bundle kubectl") {
		refused(t, dist, strings.Replace(verify(line), "cosign.pub", otherPub, 1), "invalid signature")
	}

	// The tag re-pushed with another image, unsigned, then signed with another key: neither
	// passes the README's lines for the image.
	imageLines := []string{imageLine}
	for _, line := range readmeLines(t, "cosign verify-attestation ") {
		imageLines = append(imageLines, verify(line))
	}
	unsigned := fakeRelease(t, version, map[string][]byte{"amd64": []byte("another amd64 manager"), "arm64": []byte("another arm64 manager")})
	_, pushed := push(unsigned, "")
	retagged(t, repo+":"+version, pushed, image)
	for _, line := range imageLines {
		refused(t, dist, line, "no signatures found", "no matching attestations")
	}

	other := fakeRelease(t, version, map[string][]byte{"amd64": []byte("a third amd64 manager"), "arm64": []byte("a third arm64 manager")})
	for _, name := range []string{"figma-token-operator_linux_amd64.cdx.json", "figma-token-operator_linux_arm64.cdx.json", "provenance.slsa.json"} {
		writeFile(t, filepath.Join(other, name), must(os.ReadFile(filepath.Join(dist, name))))
	}
	_, pushed = push(other, otherKey)
	retagged(t, repo+":"+version, pushed, image)
	for _, line := range imageLines {
		refused(t, dist, line, "no matching signatures", "no matching attestations")
		runLine(t, dist, strings.Replace(line, "cosign.pub", otherPub, 1)) // signed, by the other key
	}
}

// signedDigests checks cosign verify's output: each signature is over the digest of ref.
func signedDigests(t *testing.T, out, ref string) {
	t.Helper()
	var sigs []struct {
		Critical struct {
			Image struct {
				Digest string `json:"docker-manifest-digest"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &sigs); err != nil || len(sigs) == 0 {
		t.Fatalf("cosign verify printed no signatures (%v):\n%s", err, out)
	}
	for _, sig := range sigs {
		if !strings.HasSuffix(ref, "@"+sig.Critical.Image.Digest) {
			t.Fatalf("a signature is over %s, want %s", sig.Critical.Image.Digest, ref)
		}
	}
}

// attestations checks cosign verify-attestation's output, an envelope a line: each is an
// in-toto statement of predicateType about image. It returns their predicates.
func attestations(t *testing.T, out, image, predicateType string) []json.RawMessage {
	t.Helper()
	digest := must(name.NewDigest(image)).DigestStr()
	var predicates []json.RawMessage
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var envelope struct{ PayloadType, Payload string }
		var statement struct {
			PredicateType string
			Subject       []struct{ Digest map[string]string }
			Predicate     json.RawMessage
		}
		if err := json.Unmarshal([]byte(line), &envelope); err != nil {
			t.Fatalf("not an envelope (%v): %.300s", err, line)
		}
		payload, err := base64.StdEncoding.DecodeString(envelope.Payload)
		if err != nil || json.Unmarshal(payload, &statement) != nil {
			t.Fatalf("not an in-toto statement (%v): %.300s", err, payload)
		}
		if statement.PredicateType != predicateType || len(statement.Subject) != 1 || "sha256:"+statement.Subject[0].Digest["sha256"] != digest {
			t.Fatalf("attestation of %s about %v, want %s about %s", statement.PredicateType, statement.Subject, predicateType, digest)
		}
		predicates = append(predicates, statement.Predicate)
	}
	return predicates
}

// refused runs a verification line that must fail, for one of the reasons given.
func refused(t *testing.T, dir, line string, reasons ...string) {
	t.Helper()
	out, stderr, err := tryLine(dir, line)
	if err == nil {
		t.Fatalf("%s: verified, want it refused\n%s", line, out)
	}
	for _, reason := range reasons {
		if strings.Contains(stderr, reason) {
			return
		}
	}
	t.Fatalf("%s: refused (%s), but not for %q:\n%s", line, exitError(err), reasons, stderr)
}

// retagged checks that the tag now names the image pushed last, not the signed one.
func retagged(t *testing.T, tag, pushed, signed string) {
	t.Helper()
	head := must(remote.Head(must(name.NewTag(tag))))
	if pushed == signed || !strings.HasSuffix(pushed, "@"+head.Digest.String()) {
		t.Fatalf("%s is %s after pushing %s over %s", tag, head.Digest, pushed, signed)
	}
}
