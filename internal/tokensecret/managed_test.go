package tokensecret

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestLastWriterIsTheManagerOfTheAccessTokenKey(t *testing.T) {
	t.Parallel()
	entry := func(manager, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: metav1.NewFieldsV1(fields)}
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{
		entry("kubectl-client-side-apply", `{"f:data":{".":{},"f:refreshToken":{}}}`),
		entry(FieldManager, `{"f:metadata":{"f:annotations":{}}}`),
		entry("kubectl-patch", `{"f:data":{"f:accessToken":{}}}`),
	}}}
	if got := LastWriter(secret, "accessToken"); got != `field manager "kubectl-patch"` {
		t.Fatalf("LastWriter = %q, want the manager that set the access token", got)
	}
	// A replace that removed the key leaves no trace of its writer.
	secret.ManagedFields = secret.ManagedFields[:2]
	if got := LastWriter(secret, "accessToken"); !strings.Contains(got, "no field manager") || !strings.Contains(got, `"kubectl-client-side-apply"`) || strings.Contains(got, FieldManager) {
		t.Fatalf("LastWriter = %q, want no manager named for the key, the others listed, never the operator", got)
	}
	secret.ManagedFields = nil
	if got := LastWriter(secret, "accessToken"); got != "" {
		t.Fatalf("lastWriter without managedFields = %q", got)
	}
}
