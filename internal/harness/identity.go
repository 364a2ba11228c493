package harness

import (
	"context"
	"os"
	"path/filepath"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// OperatorServiceAccount makes the ServiceAccount namespace/name with the manager's
// generated role (config/rbac/role.yaml, bound cluster-wide) and returns a config that acts
// as it, with a TokenRequest token, as a Pod's would. Not the admin: the API server's
// Priority and Fairness exempts system:masters, so a manager measured as the admin meets a
// server no real cluster gives it.
func (cp *ControlPlane) OperatorServiceAccount(ctx context.Context, root, namespace, name string) (*rest.Config, error) {
	data, err := os.ReadFile(filepath.Join(root, "config", "rbac", "role.yaml"))
	if err != nil {
		return nil, err
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(data, role); err != nil {
		return nil, err
	}
	role.Name = name
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}},
	}
	for _, create := range []func() error{
		func() error {
			return cp.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})
		},
		func() error {
			return cp.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}})
		},
		func() error { return cp.Client.Create(ctx, role) },
		func() error { return cp.Client.Create(ctx, binding) },
	} {
		if err := create(); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, err
		}
	}
	clientset, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		return nil, err
	}
	day := int64(24 * 60 * 60)
	token, err := clientset.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &day}}, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	return &rest.Config{Host: cp.Config.Host, BearerToken: token.Status.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.Config.CAData, CAFile: cp.Config.CAFile}}, nil
}
