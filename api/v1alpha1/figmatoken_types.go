package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DNSSubdomain is the name of an object: a DNS subdomain (RFC 1123), lower case.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
type DNSSubdomain string

// SecretKey is a key of a Secret's data: letters, digits, '-', '_' and '.', not '.' and not
// starting with '..'.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
// +kubebuilder:validation:XValidation:rule="self != '.' && !self.startsWith('..')",message="must be a valid Secret key: not '.' and not starting with '..'"
type SecretKey string

// SecretRef names the Secret, in the FigmaToken's own namespace, that holds the refresh token.
// +kubebuilder:validation:XValidation:rule="self.refreshTokenKey != self.accessTokenKey",message="refreshTokenKey and accessTokenKey must differ"
// +kubebuilder:validation:XValidation:rule="!has(self.expiresAtKey) || self.expiresAtKey.size() == 0 || (self.expiresAtKey != self.refreshTokenKey && self.expiresAtKey != self.accessTokenKey)",message="expiresAtKey must differ from refreshTokenKey and accessTokenKey"
type SecretRef struct {
	// name of the Secret, a DNS subdomain. Example: figma-credentials.
	// +required
	Name DNSSubdomain `json:"name"`

	// refreshTokenKey is the key that holds the Figma refresh token. It is read, never modified.
	// Default: refreshToken.
	// +optional
	// +kubebuilder:default=refreshToken
	RefreshTokenKey SecretKey `json:"refreshTokenKey,omitempty"`

	// accessTokenKey is the key the access token is written to. Default: accessToken.
	// +optional
	// +kubebuilder:default=accessToken
	AccessTokenKey SecretKey `json:"accessTokenKey,omitempty"`

	// expiresAtKey, when set, is a key the access token's expiry (RFC 3339, UTC) is written to.
	// Example: expiresAt. Default: empty, expiry only in the Secret's annotations.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([-._a-zA-Z0-9]+)?$`
	// +kubebuilder:validation:XValidation:rule="self != '.' && !self.startsWith('..')",message="must be a valid Secret key: not '.' and not starting with '..'"
	ExpiresAtKey string `json:"expiresAtKey,omitempty"`
}

// TargetSecret is a separate Secret that receives only the access token.
// +kubebuilder:validation:XValidation:rule="!has(self.labels) || self.labels.all(k, !k.startsWith('figma.tokenops.dev/'))",message="target labels must not use the figma.tokenops.dev/ prefix"
// +kubebuilder:validation:XValidation:rule="!has(self.annotations) || self.annotations.all(k, !k.startsWith('figma.tokenops.dev/'))",message="target annotations must not use the figma.tokenops.dev/ prefix"
type TargetSecret struct {
	// name of the target Secret, a DNS subdomain, created and owned by the FigmaToken.
	// +required
	Name DNSSubdomain `json:"name"`

	// labels are copied onto the target Secret.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Labels map[string]string `json:"labels,omitempty"`

	// annotations are copied onto the target Secret.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Annotations map[string]string `json:"annotations,omitempty"`
}

// RolloutRestartTarget names a workload, in the FigmaToken's namespace, whose pods read the
// token from environment variables and so must restart to see a new one.
type RolloutRestartTarget struct {
	// kind of the workload: Deployment, StatefulSet or DaemonSet.
	// +required
	// +kubebuilder:validation:Enum=Deployment;StatefulSet;DaemonSet
	Kind string `json:"kind"`

	// name of the workload.
	// +required
	Name DNSSubdomain `json:"name"`
}

// RolloutRestartSent is a workload of spec.rolloutRestartTargets restarted for a token that
// others still wait for.
type RolloutRestartSent struct {
	RolloutRestartTarget `json:",inline"`

	// restartedFor is the refreshed-at time of the token the workload was restarted for.
	// +required
	RestartedFor metav1.Time `json:"restartedFor"`
}

// ClientRef names the OAuth client a FigmaToken refreshes through.
type ClientRef struct {
	// kind of the client: FigmaOAuthClient (in the FigmaToken's own namespace) or
	// ClusterFigmaOAuthClient. Default: FigmaOAuthClient.
	// +optional
	// +kubebuilder:default=FigmaOAuthClient
	// +kubebuilder:validation:Enum=FigmaOAuthClient;ClusterFigmaOAuthClient
	Kind string `json:"kind,omitempty"`

	// name of the client. A FigmaOAuthClient is looked up in the FigmaToken's namespace only.
	// +required
	Name DNSSubdomain `json:"name"`
}

// FigmaTokenSpec says which Secret to keep fresh and how.
// +kubebuilder:validation:XValidation:rule="!has(self.target) || self.target.name != self.secretRef.name",message="target.name must differ from secretRef.name: the target never holds the refresh token"
// +kubebuilder:validation:XValidation:rule="!has(self.clientRef) || !has(self.clientId) || size(self.clientId) == 0",message="set clientId or clientRef, not both: a clientRef's client carries its own client ID"
type FigmaTokenSpec struct {
	// secretRef names the Secret holding the refresh token, in this FigmaToken's namespace.
	// To start from an OAuth authorization code instead, put the code under the key "code"
	// and its redirect URI under "redirectUri": the operator exchanges it once, stores the
	// refresh token under refreshTokenKey and removes the code.
	// +required
	SecretRef SecretRef `json:"secretRef"`

	// clientId is sent to the Amplify upstream (RefreshToken and ExchangeCodeForToken) as
	// clientId, for a FigmaToken without clientRef. Example: my-figma-client.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	ClientID string `json:"clientId,omitempty"`

	// clientRef names the OAuth client, and so the upstream (Figma's OAuth endpoints or
	// Amplify), to refresh through. Default: none, the Amplify upstream with clientId and
	// the operator's own AWS identity.
	// +optional
	ClientRef *ClientRef `json:"clientRef,omitempty"`

	// refreshBefore is how long before expiry to refresh, a Go duration > 0 and at most
	// 8760h. Example: 20m.
	// Default: one third of the token's lifetime.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="refreshBefore must be a positive Go duration such as 20m"
	// +kubebuilder:validation:XValidation:rule="duration(self) <= duration('8760h')",message="refreshBefore must be at most 8760h (a year)"
	RefreshBefore string `json:"refreshBefore,omitempty"`

	// refreshInterval, when set, refreshes at least this often, however far the token is from
	// expiry, so that a revoked grant shows (RefreshRejected) within the interval: a Go
	// duration of at least 1h and at most 8760h. Example: 24h. Each interval costs an
	// upstream call per FigmaToken. Default: none (refresh by expiry alone).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="refreshInterval must be a Go duration of at least 1h such as 24h"
	// +kubebuilder:validation:XValidation:rule="duration(self) <= duration('8760h')",message="refreshInterval must be at most 8760h (a year)"
	RefreshInterval string `json:"refreshInterval,omitempty"`

	// suspend stops upstream calls and Secret writes while true. Default: false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// target, when set, receives the access token instead of the Secret in secretRef.
	// +optional
	Target *TargetSecret `json:"target,omitempty"`

	// rolloutRestartTargets are workloads restarted after each refresh, like
	// kubectl rollout restart: their pod template gets the figma.tokenops.dev/restartedAt
	// annotation. For apps that read the token from environment variables; pods that
	// mount the Secret as a volume see new tokens without a restart.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	RolloutRestartTargets []RolloutRestartTarget `json:"rolloutRestartTargets,omitempty"`
}

// FigmaTokenStatus mirrors what the Secret's annotations record, plus the failure state.
type FigmaTokenStatus struct {
	// observedGeneration is the generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready, Stalled and Reconciling, following kstatus conventions.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// secretName is the Secret that holds the access token (target.name when set).
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// expiresAt is when the current access token expires.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// lastRefreshTime is when the current access token was obtained.
	// +optional
	LastRefreshTime *metav1.Time `json:"lastRefreshTime,omitempty"`

	// nextRefreshTime is when the operator will refresh next.
	// +optional
	NextRefreshTime *metav1.Time `json:"nextRefreshTime,omitempty"`

	// failedAttempts counts consecutive failed refreshes; 0 after a success.
	// +optional
	FailedAttempts int32 `json:"failedAttempts,omitempty"`

	// lastFailureTime is when the last refresh failed.
	// +optional
	LastFailureTime *metav1.Time `json:"lastFailureTime,omitempty"`

	// failedCredentialHash is the fingerprint (as in the Secret's refresh-token-hash
	// annotation) of the refresh token or authorization code whose refresh is failing, so
	// that a changed one is used at once, also after a restart.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	FailedCredentialHash string `json:"failedCredentialHash,omitempty"`

	// retryAfter is set while the upstream asked to wait (its Retry-After header): no
	// request is made for this FigmaToken before it. Cleared by the next success.
	// +optional
	RetryAfter *metav1.Time `json:"retryAfter,omitempty"`

	// failedClient fingerprints the OAuth client (its object and its Secret's version) the
	// failing refresh was made with, so that a changed client is tried at once, also after
	// a restart.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	FailedClient string `json:"failedClient,omitempty"`

	// lastHandledRefreshRequest is the last refresh-requested-at value acted on.
	// +optional
	LastHandledRefreshRequest string `json:"lastHandledRefreshRequest,omitempty"`

	// rolloutRestartedFor is the refreshed-at time of the token that
	// spec.rolloutRestartTargets were last restarted for: a workload is restarted at most
	// once per token, across operator restarts, even when another writer strips its stamp.
	// +optional
	RolloutRestartedFor *metav1.Time `json:"rolloutRestartedFor,omitempty"`

	// rolloutRestartsSent are the workloads already restarted for a token newer than
	// rolloutRestartedFor while others are not yet (a workload missing, a patch refused): they
	// are not restarted again for it, across operator restarts. Empty once every workload is.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	RolloutRestartsSent []RolloutRestartSent `json:"rolloutRestartsSent,omitempty"`

	// secretResourceVersion is the resourceVersion of the Secret as this FigmaToken last
	// wrote it (without a target). While the Secret still has it, the Secret holds exactly
	// what its annotations record, and the operator, restarted or not, need not read it
	// until a refresh is due.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	SecretResourceVersion string `json:"secretResourceVersion,omitempty"`
}

// FigmaToken keeps a Figma access token in a Secret fresh.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ft
// +kubebuilder:selectablefield:JSONPath=`.spec.secretRef.name`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Secret",type=string,JSONPath=`.status.secretName`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.status.expiresAt`
// +kubebuilder:printcolumn:name="Next-Refresh",type=string,JSONPath=`.status.nextRefreshTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FigmaToken struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec FigmaTokenSpec `json:"spec"`

	// +optional
	Status FigmaTokenStatus `json:"status,omitempty"`
}

// FigmaTokenList is a list of FigmaTokens.
// +kubebuilder:object:root=true
type FigmaTokenList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FigmaToken `json:"items"`
}
