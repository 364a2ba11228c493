package tokensecret

import (
	"time"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// InFlight is a requested refresh being answered: the refresh-requested-at value and when
// its call ends at the latest. The note is written into the source Secret before the call,
// where every instance of the operator reads it, as a claim is.
type InFlight struct {
	Request string
	Until   time.Time
}

// ReadInFlight reads the note of a requested refresh in flight; zero when none.
func ReadInFlight(annotations map[string]string) InFlight {
	return InFlight{
		Request: annotations[figmav1alpha1.AnnotationRefreshInFlight],
		Until:   parseTime(annotations[figmav1alpha1.AnnotationRefreshInFlightUntil]),
	}
}

// NoteInFlight writes the note of a requested refresh in flight into the annotations; the
// zero InFlight removes it. It changes the map in memory only.
func NoteInFlight(annotations map[string]string, f InFlight) {
	if f.Request == "" {
		delete(annotations, figmav1alpha1.AnnotationRefreshInFlight)
		delete(annotations, figmav1alpha1.AnnotationRefreshInFlightUntil)
		return
	}
	annotations[figmav1alpha1.AnnotationRefreshInFlight] = f.Request
	setTime(annotations, figmav1alpha1.AnnotationRefreshInFlightUntil, f.Until)
}
