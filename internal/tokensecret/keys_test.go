package tokensecret

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestKeySizesListsKeysAndLengthsOnly(t *testing.T) {
	secret := &corev1.Secret{Data: map[string][]byte{
		"refreshToken": []byte("rt-0123456789"),
		"accessToken":  []byte(""),
		"expiresAt":    []byte("2026-11-25T11:00:00Z"),
	}}
	want := []KeySize{{"accessToken", 0}, {"expiresAt", 20}, {"refreshToken", 13}}
	if got := KeySizes(secret); !reflect.DeepEqual(got, want) {
		t.Fatalf("KeySizes = %v, want %v", got, want)
	}
	if got := KeySizes(&corev1.Secret{}); len(got) != 0 {
		t.Fatalf("KeySizes of an empty Secret = %v", got)
	}
}
