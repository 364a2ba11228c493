package tokensecret

import (
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
)

// Text is a usable Secret value (a token, a code): text, without the surrounding whitespace
// a file-made Secret often has; "" when the key is missing, empty or not text.
func Text(secret *corev1.Secret, key string) string {
	raw := secret.Data[key]
	if !utf8.Valid(raw) {
		return ""
	}
	return strings.TrimSpace(string(raw))
}

// HasValue reports whether the key holds a non-empty value.
func HasValue(secret *corev1.Secret, key string) bool {
	return len(secret.Data[key]) > 0
}
