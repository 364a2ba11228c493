package app_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/pkg/crds"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
	"github.com/tokenops/figma-token-operator/pkg/reconciler"

	"example.com/figma-app/app"
)

var (
	k8s  client.Client
	fake *fakeamplify.Server
)

var creds = aws.Credentials{AccessKeyID: "AKIDAPPTEST", SecretAccessKey: "app-test-secret"}

// TestMain runs a real API server (envtest; KUBEBUILDER_ASSETS names its binaries) with the
// FigmaToken CRD, the fake Amplify endpoint, and the FigmaToken reconciler in this suite's
// own manager.
func TestMain(m *testing.M) {
	log.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	env := &envtest.Environment{CRDs: crds.MustAll()}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "envtest:", err)
		os.Exit(1)
	}
	code := run(m, cfg)
	_ = env.Stop()
	os.Exit(code)
}

func run(m *testing.M, cfg *rest.Config) int {
	fake = fakeamplify.New(fakeamplify.Options{Credentials: creds, Region: "us-east-1", Lifetime: time.Hour})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = figmav1alpha1.AddToScheme(scheme)
	mgr, err := ctrl.NewManager(cfg, reconciler.ManagerOptions(ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := reconciler.Register(ctx, mgr, reconciler.Options{Endpoint: srv.URL, Region: "us-east-1", Credentials: creds}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() { _ = mgr.Start(ctx) }()
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// newApp creates a namespace with a Secret holding refreshToken and a FigmaToken for it.
func newApp(t *testing.T, refreshToken string) app.App {
	t.Helper()
	ctx := context.Background()
	ns := "app-" + rand.String(6)
	objects := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "figma-credentials", Namespace: ns},
			StringData: map[string]string{"refreshToken": refreshToken}},
		&figmav1alpha1.FigmaToken{ObjectMeta: metav1.ObjectMeta{Name: "design-system", Namespace: ns},
			Spec: figmav1alpha1.FigmaTokenSpec{SecretRef: figmav1alpha1.SecretRef{Name: "figma-credentials"}}},
	}
	for _, o := range objects {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	return app.App{Client: k8s, Namespace: ns, Secret: "figma-credentials", FigmaToken: "design-system"}
}

// waitFor polls until check holds, for at most a minute: what kubectl wait does.
func waitFor(t *testing.T, what string, check func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, time.Minute, true,
		func(context.Context) (bool, error) { return check(), nil })
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func condition(t *testing.T, a app.App, condType string) *metav1.Condition {
	ft := &figmav1alpha1.FigmaToken{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: a.Namespace, Name: a.FigmaToken}, ft); err != nil {
		t.Fatal(err)
	}
	return meta.FindStatusCondition(ft.Status.Conditions, condType)
}

func TestTheAppReadsTheTokenAndAForcedRefresh(t *testing.T) {
	ctx := context.Background()
	rt := "refresh-" + rand.String(8)
	a := newApp(t, rt)
	waitFor(t, "Ready", func() bool { c := condition(t, a, figmav1alpha1.ConditionReady); return c != nil && c.Status == "True" })

	token, err := a.Token(ctx)
	if err != nil || token != fake.IssuedFor(rt)[0] {
		t.Fatalf("the app read %q, %v; the fake issued %v", token, err, fake.IssuedFor(rt))
	}
	if err := a.Health(ctx); err != nil {
		t.Fatal(err)
	}

	// Force a refresh, as a user would with kubectl annotate.
	ft := &figmav1alpha1.FigmaToken{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: a.Namespace, Name: a.FigmaToken}, ft); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(ft.DeepCopy())
	ft.Annotations = map[string]string{figmav1alpha1.AnnotationRefreshRequestedAt: time.Now().UTC().Format(time.RFC3339)}
	if err := k8s.Patch(ctx, ft, patch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new token", func() bool {
		token, err := a.Token(ctx)
		return err == nil && len(fake.IssuedFor(rt)) == 2 && token == fake.IssuedFor(rt)[1]
	})
}

func TestTheAppReportsARejectedRefreshToken(t *testing.T) {
	ctx := context.Background()
	rt := "revoked-" + rand.String(8)
	fake.SetBehavior(rt, fakeamplify.Behavior{Reject: true})
	a := newApp(t, rt)
	waitFor(t, "Stalled", func() bool {
		c := condition(t, a, figmav1alpha1.ConditionStalled)
		return c != nil && c.Status == "True"
	})

	err := a.Health(ctx)
	if err == nil || !strings.Contains(err.Error(), figmav1alpha1.ReasonRefreshRejected) {
		t.Fatalf("Health = %v, want an error naming %s", err, figmav1alpha1.ReasonRefreshRejected)
	}
	if _, err := a.Token(ctx); err == nil {
		t.Fatal("the app found a token though none was ever issued")
	}
}
