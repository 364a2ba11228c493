package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OAuthClientSpec is a Figma OAuth app and the upstream its tokens are refreshed through.
// +kubebuilder:validation:XValidation:rule="has(self.figma) != has(self.amplify)",message="set exactly one of figma and amplify: the upstream this client's tokens are refreshed through"
type OAuthClientSpec struct {
	// clientId is the Figma OAuth app's client ID, sent with the code exchange and with every
	// refresh, on either upstream. Example: AbCdEf0123456789.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	ClientID string `json:"clientId"`

	// figma exchanges codes and refreshes at Figma's own OAuth endpoints (--figma-endpoint),
	// authenticated with clientId and the app's client secret.
	// +optional
	Figma *FigmaUpstream `json:"figma,omitempty"`

	// amplify exchanges codes and refreshes through the AWS Amplify UI Builder operations
	// ExchangeCodeForToken and RefreshToken, with clientId sent as clientId to both.
	// +optional
	Amplify *AmplifyUpstream `json:"amplify,omitempty"`
}

// FigmaUpstream is the Figma OAuth upstream's setting: where the client secret is.
type FigmaUpstream struct {
	// clientSecretRef names the Secret key that holds the app's client secret. The Secret
	// is in the client's own namespace (a ClusterFigmaOAuthClient's: the cluster resource
	// namespace, --cluster-resource-namespace).
	// +required
	ClientSecretRef ClientSecretRef `json:"clientSecretRef"`
}

// ClientSecretRef names a key of a Secret.
type ClientSecretRef struct {
	// name of the Secret, a DNS subdomain. Example: figma-oauth-app.
	// +required
	Name DNSSubdomain `json:"name"`

	// key that holds the client secret. Default: clientSecret.
	// +optional
	// +kubebuilder:default=clientSecret
	Key SecretKey `json:"key,omitempty"`
}

// AmplifyUpstream is the Amplify upstream's setting: whose AWS identity signs the calls.
type AmplifyUpstream struct {
	// roleArn is an IAM role the operator assumes (STS AssumeRole, from its own identity) to
	// sign this client's calls. For a FigmaOAuthClient the operator sends the ExternalId
	// figma.tokenops.dev/<the client's namespace>, so a role's trust policy can admit one
	// namespace; a ClusterFigmaOAuthClient sends none. Without it the operator's own identity
	// signs, which a FigmaOAuthClient may use only when the manager runs with
	// --namespaced-clients-ambient-identity. Example: arn:aws:iam::111122223333:role/figma-web.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$`
	RoleARN string `json:"roleArn,omitempty"`
}

// OAuthClientStatus says whether FigmaTokens may refresh through the client.
type OAuthClientStatus struct {
	// observedGeneration is the generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// upstream is Figma or Amplify.
	// +optional
	Upstream string `json:"upstream,omitempty"`

	// conditions: Ready, True (reason Usable) when FigmaTokens may use the client; False with
	// reason ClientSecretNotFound or AmbientIdentityNotAllowed, and then Stalled True with the
	// same reason (kstatus conventions).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// FigmaOAuthClient is a Figma OAuth app that the FigmaTokens of its own namespace may
// refresh through (spec.clientRef).
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Upstream",type=string,JSONPath=`.status.upstream`
// +kubebuilder:printcolumn:name="Client-ID",type=string,JSONPath=`.spec.clientId`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FigmaOAuthClient struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec OAuthClientSpec `json:"spec"`

	// +optional
	Status OAuthClientStatus `json:"status,omitempty"`
}

// FigmaOAuthClientList is a list of FigmaOAuthClients.
// +kubebuilder:object:root=true
type FigmaOAuthClientList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FigmaOAuthClient `json:"items"`
}

// ClusterOAuthClientSpec is an OAuth client kept by the platform team, and the namespaces
// whose FigmaTokens may use it.
type ClusterOAuthClientSpec struct {
	OAuthClientSpec `json:",inline"`

	// namespaceSelector admits the FigmaTokens of the namespaces whose labels it matches;
	// absent: every namespace. Select on labels tenants cannot set on their own namespaces.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
}

// ClusterFigmaOAuthClient is a Figma OAuth app, kept by the platform team, that the
// FigmaTokens of the namespaces its selector admits may refresh through.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Upstream",type=string,JSONPath=`.status.upstream`
// +kubebuilder:printcolumn:name="Client-ID",type=string,JSONPath=`.spec.clientId`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterFigmaOAuthClient struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ClusterOAuthClientSpec `json:"spec"`

	// +optional
	Status OAuthClientStatus `json:"status,omitempty"`
}

// ClusterFigmaOAuthClientList is a list of ClusterFigmaOAuthClients.
// +kubebuilder:object:root=true
type ClusterFigmaOAuthClientList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterFigmaOAuthClient `json:"items"`
}
