package gitops

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// customizations is laid out as in Argo CD's resource_customizations, so it can be offered
// upstream: a directory per kind.
const customizations = "../../config/argocd/resource_customizations/figma.tokenops.dev"

// kinds are the kinds with a health check, and an empty object of each to decode fixtures into.
var kinds = map[string]func() any{
	"FigmaToken":              func() any { return &figmav1alpha1.FigmaToken{} },
	"FigmaOAuthClient":        func() any { return &figmav1alpha1.FigmaOAuthClient{} },
	"ClusterFigmaOAuthClient": func() any { return &figmav1alpha1.ClusterFigmaOAuthClient{} },
}

// forEachKind runs test once per kind, with the kind's directory.
func forEachKind(t *testing.T, test func(t *testing.T, kind, healthDir string)) {
	for kind := range kinds {
		t.Run(kind, func(t *testing.T) { test(t, kind, filepath.Join(customizations, kind)) })
	}
}

// healthCase is one entry of health_test.yaml, in Argo CD's format.
type healthCase struct {
	HealthStatus struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"healthStatus"`
	InputPath string `json:"inputPath"`
}

func TestArgoCDHealthCheck(t *testing.T) {
	forEachKind(t, func(t *testing.T, _, healthDir string) {
		script := readFile(t, filepath.Join(healthDir, "health.lua"))
		for _, tc := range healthCases(t, healthDir) {
			t.Run(tc.InputPath, func(t *testing.T) {
				var obj map[string]any
				if err := yaml.Unmarshal(readFile(t, filepath.Join(healthDir, tc.InputPath)), &obj); err != nil {
					t.Fatal(err)
				}
				gotStatus, gotMessage := runHealthLua(t, string(script), obj)
				if gotStatus != tc.HealthStatus.Status || gotMessage != tc.HealthStatus.Message {
					t.Errorf("health.lua says\n  %s: %q\nhealth_test.yaml expects\n  %s: %q",
						gotStatus, gotMessage, tc.HealthStatus.Status, tc.HealthStatus.Message)
				}
			})
		}
	})
}

// kstatusExceptions are the cases where kstatus has no word for the state, with what it says
// instead. Every other case must read Healthy as Current, Degraded as Failed and Progressing as
// InProgress, so that Argo CD and Flux never disagree.
var kstatusExceptions = map[string]status.Status{
	// kstatus reads an object without observedGeneration or conditions as Current: it cannot
	// tell a controller that has not looked yet from one that never writes status.
	"FigmaToken/testdata/progressing_noStatus.yaml":              status.CurrentStatus,
	"FigmaOAuthClient/testdata/progressing_noStatus.yaml":        status.CurrentStatus,
	"ClusterFigmaOAuthClient/testdata/progressing_noStatus.yaml": status.CurrentStatus,
	// Suspended is Argo CD's alone; kstatus reads the Ready condition as it stands.
	"FigmaToken/testdata/suspended_withToken.yaml": status.CurrentStatus,
	"FigmaToken/testdata/suspended_noToken.yaml":   status.InProgressStatus,
}

var kstatusFor = map[string]status.Status{
	"Healthy":     status.CurrentStatus,
	"Degraded":    status.FailedStatus,
	"Progressing": status.InProgressStatus,
}

func TestArgoCDAndKstatusAgree(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind, healthDir string) {
		for _, tc := range healthCases(t, healthDir) {
			t.Run(tc.InputPath, func(t *testing.T) {
				want, ok := kstatusExceptions[kind+"/"+tc.InputPath]
				if !ok {
					if want, ok = kstatusFor[tc.HealthStatus.Status]; !ok {
						t.Fatalf("no kstatus verdict is set for Argo CD's %s: add this case to kstatusExceptions", tc.HealthStatus.Status)
					}
				}
				data, err := yaml.YAMLToJSON(readFile(t, filepath.Join(healthDir, tc.InputPath)))
				if err != nil {
					t.Fatal(err)
				}
				u := &unstructured.Unstructured{} // numbers as int64, as kstatus reads them from the API
				if err := u.UnmarshalJSON(data); err != nil {
					t.Fatal(err)
				}
				got, err := status.Compute(u)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != want {
					t.Errorf("Argo CD says %s, kstatus says %s (%s); want %s", tc.HealthStatus.Status, got.Status, got.Message, want)
				}
			})
		}
	})
}

// Every fixture is an object of its kind the API would accept field by field, and every one
// is tested.
func TestEveryFixtureIsOfItsKindAndTested(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind, healthDir string) {
		tested := map[string]bool{}
		for _, tc := range healthCases(t, healthDir) {
			tested[tc.InputPath] = true
		}
		files, err := filepath.Glob(filepath.Join(healthDir, "testdata", "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixtures in %s: %v", healthDir, err)
		}
		for _, file := range files {
			rel := "testdata/" + filepath.Base(file)
			if !tested[rel] {
				t.Errorf("%s is not in health_test.yaml", rel)
			}
			if err := yaml.UnmarshalStrict(readFile(t, file), kinds[kind]()); err != nil {
				t.Errorf("%s is not a %s: %v", rel, kind, err)
			}
		}
	})
}

// runHealthLua runs a health script as Argo CD runs one from argocd-cm: without Lua's standard
// libraries (only base, table and package are opened), with the object as the global obj, and a
// deadline. It returns hs.status and hs.message.
func runHealthLua(t *testing.T, script string, obj map[string]any) (string, string) {
	t.Helper()
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), Protect: true}, lua.LString(lib.name)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		t.Fatalf("health.lua failed: %v", err)
	}
	hs, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("health.lua returned %s, not a table", l.Get(-1).Type())
	}
	message := ""
	if m, ok := hs.RawGetString("message").(lua.LString); ok {
		message = string(m)
	}
	return lua.LVAsString(hs.RawGetString("status")), message
}

// toLua converts a decoded object into Lua values as Argo CD's decodeValue does: maps become
// tables keyed by string, lists become arrays, numbers become Lua numbers.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case map[string]any:
		table := l.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetString(key, toLua(l, item))
		}
		return table
	case []any:
		array := l.CreateTable(len(v), 0)
		for _, item := range v {
			array.Append(toLua(l, item))
		}
		return array
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	default:
		return lua.LNil
	}
}

func healthCases(t *testing.T, healthDir string) []healthCase {
	t.Helper()
	var file struct {
		Tests []healthCase `json:"tests"`
	}
	if err := yaml.UnmarshalStrict(readFile(t, filepath.Join(healthDir, "health_test.yaml")), &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Tests) == 0 {
		t.Fatal("health_test.yaml has no tests")
	}
	return file.Tests
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
