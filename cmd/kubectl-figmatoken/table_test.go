package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

func named(ns, name string, ft *figmav1alpha1.FigmaToken, expiresIn time.Duration) figmav1alpha1.FigmaToken {
	ft.Namespace, ft.Name = ns, name
	if expiresIn != 0 {
		ft.Status.ExpiresAt = at(expiresIn)
		ft.Status.NextRefreshTime = at(expiresIn * 2 / 3)
	}
	return *ft
}

func names(items []figmav1alpha1.FigmaToken) []string {
	var out []string
	for _, ft := range items {
		out = append(out, ft.Namespace+"/"+ft.Name)
	}
	return out
}

func TestByUrgencyPutsNotReadyFirstThenLeastTimeLeft(t *testing.T) {
	day := 24 * time.Hour
	items := []figmav1alpha1.FigmaToken{
		named("web", "far", figmaToken("Ready=True/Refreshed"), 59*day),
		named("web", "soon", figmaToken("Ready=True/Refreshed"), time.Hour),
		named("api", "rejected", figmaToken("Ready=False/RefreshRejected", "Stalled=True/RefreshRejected"), 0),
		named("web", "expired", figmaToken("Ready=False/Expired"), -time.Minute),
		named("api", "far", figmaToken("Ready=True/Refreshed"), 59*day),
		named("web", "unreconciled", figmaToken(), 0),
	}
	byUrgency(items)
	want := []string{"api/rejected", "web/unreconciled", "web/expired", "web/soon", "api/far", "web/far"}
	if got := names(items); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

func TestPrintTableLikeKubectlGet(t *testing.T) {
	day := 24 * time.Hour
	items := []figmav1alpha1.FigmaToken{
		named("web", "design-system", figmaToken("Ready=True/Refreshed"), 59*day+time.Hour),
		named("api", "rejected-but-working", figmaToken("Ready=True/Refreshed", "Stalled=True/RefreshRejected"), 3*day+time.Hour),
		named("api", "new", figmaToken(), 0),
	}
	items[2].Spec.ClientRef = &figmav1alpha1.ClientRef{Kind: figmav1alpha1.KindClusterFigmaOAuthClient, Name: "design-app"}
	var out bytes.Buffer
	if err := printTable(&out, items, true, now); err != nil {
		t.Fatal(err)
	}
	want := `NAMESPACE   NAME                   READY    REASON            EXPIRES   NEXT-REFRESH   CLIENT                               AGE
web         design-system          True     Refreshed         59d       39d            -                                    60m
api         rejected-but-working   True     RefreshRejected   3d1h      2d             -                                    60m
api         new                    <none>   <none>            <none>    <none>         ClusterFigmaOAuthClient/design-app   60m
`
	if out.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", out.String(), want)
	}

	out.Reset()
	expired := named("web", "lapsed", figmaToken("Ready=False/Expired"), -3*time.Minute)
	expired.CreationTimestamp = metav1.NewTime(now.Add(-40 * day))
	if err := printTable(&out, []figmav1alpha1.FigmaToken{expired}, false, now); err != nil {
		t.Fatal(err)
	}
	want = `NAME     READY   REASON    EXPIRES   NEXT-REFRESH   CLIENT   AGE
lapsed   False   Expired   expired   due            -        40d
`
	if out.String() != want {
		t.Fatalf("table without namespaces:\n%s\nwant:\n%s", out.String(), want)
	}
}
