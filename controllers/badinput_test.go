package controllers_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// Careless Secrets get a clear reason, and nothing in them is overwritten.
func TestUnusableSecretsAreReportedAndLeftAlone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		data   map[string][]byte
		reason string
		says   string
	}{
		{"refresh token key missing", map[string][]byte{"other": []byte("x")}, figmav1alpha1.ReasonRefreshTokenMissing, "no usable refresh token under key refreshToken"},
		{"empty refresh token", map[string][]byte{"refreshToken": {}}, figmav1alpha1.ReasonRefreshTokenMissing, "no usable refresh token"},
		{"whitespace-only refresh token", map[string][]byte{"refreshToken": []byte(" \n\t ")}, figmav1alpha1.ReasonRefreshTokenMissing, "no usable refresh token"},
		{"binary refresh token", map[string][]byte{"refreshToken": {0xff, 0xfe, 0x00, 0x81}}, figmav1alpha1.ReasonRefreshTokenMissing, "not text"},
		{"access key held by someone else", map[string][]byte{"refreshToken": []byte("rt"), "accessToken": []byte("theirs")}, figmav1alpha1.ReasonSecretConflict, "not written by a FigmaToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "careless", Namespace: f.ns}, Data: tt.data}
			f.g.Expect(k8s.Create(context.Background(), s)).To(Succeed())
			rv := f.secret("careless").ResourceVersion
			f.createFigmaToken("careless", "careless")

			f.g.Eventually(f.condition("careless", figmav1alpha1.ConditionStalled)).Should(Equal("True/" + tt.reason))
			stalled := meta.FindStatusCondition(f.figmaToken("careless").Status.Conditions, figmav1alpha1.ConditionStalled)
			f.g.Expect(stalled.Message).To(ContainSubstring(tt.says))
			f.g.Expect(f.condition("careless", figmav1alpha1.ConditionReady)()).To(Equal("False/" + tt.reason))
			f.g.Eventually(f.eventReasons).Should(ContainElement(tt.reason))
			f.g.Expect(f.secret("careless").ResourceVersion).To(Equal(rv), "nothing is written")
		})
	}
}

func TestHugeAndBinarySecretsKeepEveryOtherByte(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rt := uniqueToken("huge")
	binary := bytes.Repeat([]byte{0x00, 0xff, 0x10, 0x80}, 1024)
	bulk := []byte(strings.Repeat("x", 900*1024)) // near the 1 MiB Secret limit
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "huge", Namespace: f.ns},
		Data:       map[string][]byte{"refreshToken": []byte(rt + "\n"), "bulk": bulk, "binary": binary},
	}
	f.g.Expect(k8s.Create(context.Background(), s)).To(Succeed())
	f.createFigmaToken("huge", "huge")
	f.waitReady("huge")

	secret := f.secret("huge")
	f.g.Expect(secret.Data["bulk"]).To(Equal(bulk))
	f.g.Expect(secret.Data["binary"]).To(Equal(binary))
	f.g.Expect(secret.Data["refreshToken"]).To(Equal([]byte(rt+"\n")), "the refresh token is never modified")
	f.g.Expect(fake.Calls(rt)).To(Equal(1), "the trailing newline of a file-made Secret is not sent")
}

// A Secret filled to its 1 MiB limit has no room for the access token: the API server
// refuses the write (422 Invalid), and the condition says why, not only "Invalid, HTTP 422".
func TestASecretWithNoRoomForTheTokenSaysSo(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rt := uniqueToken("full")
	const secretLimit = 1 << 20 // the API server's cap on a Secret's data
	bulk := bytes.Repeat([]byte("x"), secretLimit-len(rt)-16)
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "full", Namespace: f.ns},
		Data:       map[string][]byte{"refreshToken": []byte(rt), "bulk": bulk},
	}
	f.g.Expect(k8s.Create(context.Background(), s)).To(Succeed())
	f.createFigmaToken("full", "full")

	f.g.Eventually(f.condition("full", figmav1alpha1.ConditionReconciling)).Should(Equal("True/" + figmav1alpha1.ReasonSecretWriteFailed))
	reconciling := meta.FindStatusCondition(f.figmaToken("full").Status.Conditions, figmav1alpha1.ConditionReconciling)
	f.g.Expect(reconciling.Message).To(ContainSubstring("Invalid, HTTP 422: the Secret would exceed the 1 MiB limit"))
	f.g.Expect(f.secret("full").Data).To(Equal(s.Data), "nothing is lost")
}

// The user edits the Secret while a refresh is in flight: the operator's write conflicts,
// it re-reads, re-checks and writes the token it already holds, keeping the user's edit.
func TestSecretWriteConflictKeepsTheEditAndMakesNoSecondCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rt := uniqueToken("conflict")
	fake.SetBehavior(rt, fakeamplify.Behavior{Delay: 3 * time.Second})
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("conflict", "creds")

	f.g.Eventually(func() int { return fake.Calls(rt) }).Should(Equal(1)) // the call is in flight
	secret := f.secret("creds")
	f.update(secret, func() { secret.Data["edited"] = []byte("during the refresh") })

	f.waitReady("conflict")
	secret = f.secret("creds")
	f.g.Expect(secret.Data).To(HaveKeyWithValue("edited", []byte("during the refresh")))
	f.g.Expect(string(secret.Data["accessToken"])).To(BeElementOf(fake.IssuedFor(rt)))
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1))
}

// A token obtained but not written (here: the Secret is gone when the answer arrives) is kept
// and written by the next attempt: one refresh-requested-at value, one upstream call.
func TestFailedWriteKeepsTheTokenForTheNextAttempt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ft, rt := f.readyFigmaToken("kept")
	fake.SetBehavior(rt, fakeamplify.Behavior{Delay: 3 * time.Second})
	f.update(ft, func() { ft.Annotations = map[string]string{figmav1alpha1.AnnotationRefreshRequestedAt: "once"} })

	f.g.Eventually(func() int { return fake.Calls(rt) }).Should(Equal(2)) // the call is in flight
	f.g.Expect(k8s.Delete(context.Background(), f.secret("creds"))).To(Succeed())
	f.g.Eventually(f.condition("kept", figmav1alpha1.ConditionStalled)).Should(Equal("True/SecretNotFound"))

	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.waitReady("kept")
	issued := fake.IssuedFor(rt)
	f.g.Expect(string(f.secret("creds").Data["accessToken"])).To(Equal(issued[len(issued)-1]), "the token of the failed write")
	f.g.Expect(f.secret("creds").Annotations).To(HaveKeyWithValue(figmav1alpha1.AnnotationHandledRefreshRequest, "once"))
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(2), "no second call for the same request")
}

func TestSecretDeletedAndRecreated(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, rt := f.readyFigmaToken("recreate")

	f.g.Expect(k8s.Delete(context.Background(), f.secret("creds"))).To(Succeed())
	f.g.Eventually(f.condition("recreate", figmav1alpha1.ConditionReady)).Should(Equal("False/SecretNotFound"))
	f.g.Expect(f.condition("recreate", figmav1alpha1.ConditionStalled)()).To(Equal("True/SecretNotFound"))

	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.waitReady("recreate")
	// The re-created Secret gets the token obtained before, still valid: no second call.
	issued := fake.IssuedFor(rt)
	f.g.Expect(string(f.secret("creds").Data["accessToken"])).To(Equal(issued[len(issued)-1]))
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1))
}

func TestFigmaTokenDeletedMidRefresh(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rt := uniqueToken("midway")
	fake.SetBehavior(rt, fakeamplify.Behavior{Delay: 2 * time.Second})
	f.createSecret("creds", map[string]string{"refreshToken": rt, "other": "kept"})
	ft := f.createFigmaToken("midway", "creds")

	f.g.Eventually(func() int { return fake.Calls(rt) }).Should(Equal(1))
	f.g.Expect(k8s.Delete(context.Background(), ft)).To(Succeed())
	f.g.Eventually(func() map[string][]byte { return f.secret("creds").Data }).Should(HaveKey("accessToken"),
		"the refresh that was under way completes")
	f.g.Consistently(func() map[string][]byte { return f.secret("creds").Data }).Should(And(
		HaveKeyWithValue("refreshToken", []byte(rt)), HaveKeyWithValue("other", []byte("kept"))))
	f.g.Expect(fake.Calls(rt)).To(Equal(1))
}
