package tokensecret

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// KeySize is a Secret's data key and the length of its value: what a report may show of a
// Secret (kubectl figmatoken status), so that an empty placeholder is told from a token
// without the token being shown.
type KeySize struct {
	Key   string
	Bytes int
}

// KeySizes lists the Secret's data keys, sorted, with the length of each value.
func KeySizes(secret *corev1.Secret) []KeySize {
	keys := make([]KeySize, 0, len(secret.Data))
	for key, value := range secret.Data {
		keys = append(keys, KeySize{Key: key, Bytes: len(value)})
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Key < keys[j].Key })
	return keys
}
