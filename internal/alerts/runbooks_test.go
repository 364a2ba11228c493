package alerts

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"sigs.k8s.io/yaml"
)

const (
	root       = "../.."
	alertsFile = "config/prometheus/alerts.yaml"
	chartCopy  = "charts/figma-token-operator/files/alerts.yaml"
	runbooks   = "docs/runbooks.md"
	// runbookBase is where runbook_url points: docs/runbooks.md as GitHub renders it.
	runbookBase = "https://github.com/tokenops/figma-token-operator/blob/main/" + runbooks + "#"
)

type alertRule struct {
	Alert       string            `json:"alert"`
	Annotations map[string]string `json:"annotations"`
}

// shippedAlerts reads the alerting rules of config/prometheus/alerts.yaml, a PrometheusRule.
func shippedAlerts(t *testing.T) []alertRule {
	t.Helper()
	var rule struct {
		Kind string `json:"kind"`
		Spec struct {
			Groups []struct {
				Rules []alertRule `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(read(t, alertsFile), &rule); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	if rule.Kind != "PrometheusRule" {
		t.Fatalf("%s: kind %q, want PrometheusRule", alertsFile, rule.Kind)
	}
	var alerts []alertRule
	for _, group := range rule.Spec.Groups {
		for _, r := range group.Rules {
			if r.Alert != "" {
				alerts = append(alerts, r)
			}
		}
	}
	if len(alerts) == 0 {
		t.Fatalf("%s: no alerting rules", alertsFile)
	}
	return alerts
}

// Every alert links its own section of docs/runbooks.md, a heading named after the alert, so
// that whoever is paged lands on what the alert means and what to do.
func TestEveryAlertHasARunbookSection(t *testing.T) {
	anchors := headingAnchors(read(t, runbooks))
	for _, alert := range shippedAlerts(t) {
		url, ok := alert.Annotations["runbook_url"]
		if !ok {
			t.Errorf("alert %s has no runbook_url annotation", alert.Alert)
			continue
		}
		anchor, found := strings.CutPrefix(url, runbookBase)
		if !found {
			t.Errorf("alert %s: runbook_url %q does not start with %q", alert.Alert, url, runbookBase)
			continue
		}
		if !anchors[anchor] {
			t.Errorf("alert %s: runbook_url anchor #%s is no heading of %s", alert.Alert, anchor, runbooks)
		}
		if want := githubAnchor(alert.Alert); anchor != want {
			t.Errorf("alert %s: runbook_url anchor #%s, want its own section #%s", alert.Alert, anchor, want)
		}
	}
}

// The chart renders its PrometheusRule from its copy of the alerts; hack/sync-chart.sh keeps
// the copy identical.
func TestChartShipsTheSameAlerts(t *testing.T) {
	if !bytes.Equal(read(t, alertsFile), read(t, chartCopy)) {
		t.Errorf("%s differs from %s: run hack/sync-chart.sh", chartCopy, alertsFile)
	}
}

// Links in the runbooks and the OAuth guide (which the runbooks send readers to) reach a file
// of the repository and, when they name one, a heading in it.
func TestDocLinksResolve(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, doc := range []string{runbooks, "docs/figma-oauth.md"} {
		checked := 0
		for _, m := range link.FindAllStringSubmatch(string(stripCode(read(t, doc))), -1) {
			target := m[1]
			if strings.Contains(target, "://") {
				continue
			}
			checked++
			path, anchor, _ := strings.Cut(target, "#")
			file := doc
			if path != "" {
				file = filepath.ToSlash(filepath.Join(filepath.Dir(doc), path))
			}
			content, err := os.ReadFile(filepath.Join(root, file))
			if err != nil {
				t.Errorf("%s: link %q: %v", doc, target, err)
				continue
			}
			if anchor != "" && strings.HasSuffix(file, ".md") && !headingAnchors(content)[anchor] {
				t.Errorf("%s: link %q: no heading #%s in %s", doc, target, anchor, file)
			}
		}
		if checked == 0 {
			t.Errorf("%s: no relative links found; is the link pattern still right?", doc)
		}
	}
}

func TestGithubAnchor(t *testing.T) {
	for heading, want := range map[string]string{
		"FigmaTokenOperatorAbsent":           "figmatokenoperatorabsent",
		"Before you start":                   "before-you-start",
		"5. Check `state`, take the code":    "5-check-state-take-the-code",
		"Whose client ID and secret":         "whose-client-id-and-secret",
		"A separate Secret: `spec.target`":   "a-separate-secret-spectarget",
		"[Linked](https://example.com) text": "linked-text",
		"snake_case and kebab-case":          "snake_case-and-kebab-case",
	} {
		if got := githubAnchor(heading); got != want {
			t.Errorf("githubAnchor(%q) = %q, want %q", heading, got, want)
		}
	}
}

func TestHeadingAnchors(t *testing.T) {
	doc := "# Title\n## Same\n```sh\n# a comment, not a heading\n```\n## Same\n### Same\nplain # text\n"
	got := headingAnchors([]byte(doc))
	want := []string{"title", "same", "same-1", "same-2"}
	if len(got) != len(want) {
		t.Fatalf("headingAnchors = %v, want %v", got, want)
	}
	for _, a := range want {
		if !got[a] {
			t.Errorf("headingAnchors = %v, want %v", got, want)
		}
	}
}

var (
	headingLine = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	mdLink      = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// headingAnchors returns the anchors GitHub gives the headings of a Markdown document,
// outside fenced code blocks, numbering repeated ones as GitHub does (-1, -2, ...).
func headingAnchors(doc []byte) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	scanner := bufio.NewScanner(bytes.NewReader(stripCode(doc)))
	for scanner.Scan() {
		m := headingLine.FindStringSubmatch(scanner.Text())
		if m == nil {
			continue
		}
		anchor := githubAnchor(m[1])
		if n := seen[anchor]; n > 0 {
			seen[anchor]++
			anchor = fmt.Sprintf("%s-%d", anchor, n)
		} else {
			seen[anchor] = 1
		}
		anchors[anchor] = true
	}
	return anchors
}

// githubAnchor is the anchor GitHub renders for a heading: its text lower-cased, spaces to
// hyphens, and every character but letters, digits, hyphens and underscores dropped.
func githubAnchor(heading string) string {
	text := mdLink.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// stripCode blanks the lines of fenced code blocks, where "#" starts a comment, not a heading.
func stripCode(doc []byte) []byte {
	var out bytes.Buffer
	fenced := false
	for _, line := range strings.SplitAfter(string(doc), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			out.WriteString("\n")
			continue
		}
		if fenced {
			out.WriteString("\n")
			continue
		}
		out.WriteString(line)
	}
	return out.Bytes()
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
