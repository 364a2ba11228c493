package tokensecret

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// Sight is everything a FigmaToken cares about in one Secret, read once: what it holds as
// the source (the refresh token or a code) and as the Secret that receives the access token
// (the record, whether the token is there, who controls it). What it means (adoption, an
// older snapshot, who may write) is internal/policy's.
type Sight struct {
	Name, ResourceVersion string
	// RefreshTokenHash is the Fingerprint of the refresh token, "" when missing; CodeHash
	// that of an authorization code with its redirect URI, when there is no refresh token.
	RefreshTokenHash, CodeHash string
	// InFlight is the note of a requested refresh being answered; zero when none.
	InFlight InFlight
	Record   Record
	// AccessTokenSet: the access token key holds a value, whoever wrote it.
	AccessTokenSet bool
	// Held: the Secret holds the token its record was written with, under the access token
	// key or one it was moved from.
	Held bool
	// Reshapable: the Secret holds the token, but not as the keys ask (ReshapeSource).
	Reshapable bool
	Immutable  bool
	// ControlledBy: the Secret's controller reference is the FigmaToken's.
	ControlledBy bool
	// MadeAsTarget: the operator created it as the FigmaToken's target (MadeAsTarget).
	MadeAsTarget bool
}

// View is how one FigmaToken looks at its Secrets: its UID (fingerprints, marks) and the
// keys its spec names.
type View struct {
	UID             string
	Keys            Keys
	RefreshTokenKey string
}

// See reads everything v cares about from a Secret read from the API server (with its data
// and managedFields).
func See(secret *corev1.Secret, v View) Sight {
	s := Sight{
		Name:            secret.Name,
		ResourceVersion: secret.ResourceVersion,
		InFlight:        ReadInFlight(secret.Annotations),
		Record:          ReadRecord(secret.Annotations),
		AccessTokenSet:  HasValue(secret, v.Keys.AccessToken),
		Immutable:       secret.Immutable != nil && *secret.Immutable,
		ControlledBy:    controlledBy(secret, v.UID),
		MadeAsTarget:    MadeAsTarget(secret, v.UID),
	}
	if token := Text(secret, v.RefreshTokenKey); token != "" {
		s.RefreshTokenHash = Fingerprint(v.UID, token)
	} else if code := Text(secret, figmav1alpha1.SecretKeyCode); code != "" && Text(secret, figmav1alpha1.SecretKeyRedirectURI) != "" {
		s.CodeHash = Fingerprint(v.UID, code)
	}
	_, _, s.Held = HeldValue(secret, v.Keys.AccessToken, v.UID, s.Record)
	s.Reshapable = s.Held && ReshapeSource(secret.DeepCopy(), v.Keys, v.UID)
	return s
}

// SeeRecorded is what a Secret's cached metadata says when it still has the version of the
// operator's own write: it holds exactly what its record says, the refresh token the record
// fingerprints and the access token written, in the spec's shape.
func SeeRecorded(secret metav1.Object) Sight {
	r := ReadRecord(secret.GetAnnotations())
	return Sight{Name: secret.GetName(), ResourceVersion: secret.GetResourceVersion(), RefreshTokenHash: r.RefreshTokenHash,
		Record: r, AccessTokenSet: true, Held: true}
}
