package upstream

import "strings"

// MinEchoRun is the shortest run of a credential that counts as an echo of it.
const MinEchoRun = 8

// Echoes reports whether value contains any of the credentials sent, or a run of at least
// MinEchoRun characters of one (an answer may carry a cut piece of an echoed body). What
// echoes a credential never reaches a message.
func Echoes(value string, credentials ...string) bool {
	for _, c := range credentials {
		if c == "" {
			continue
		}
		if strings.Contains(value, c) {
			return true
		}
		for i := 0; i+MinEchoRun <= len(c); i++ {
			if strings.Contains(value, c[i:i+MinEchoRun]) {
				return true
			}
		}
	}
	return false
}
