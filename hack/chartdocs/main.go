// Command chartdocs writes a chart's README from its values.yaml: a table of every value with
// its type, default and the comment above it, so the README never disagrees with the chart.
// make manifests runs it; make verify fails when the committed README is stale.
//
//	go run ./hack/chartdocs charts/figma-token-operator
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: chartdocs CHART_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "chartdocs:", err)
		os.Exit(1)
	}
}

func run(chart string) error {
	data, err := os.ReadFile(filepath.Join(chart, "values.yaml"))
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	meta, err := os.ReadFile(filepath.Join(chart, "Chart.yaml"))
	if err != nil {
		return err
	}
	var c struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
		Version     string `yaml:"version"`
		AppVersion  string `yaml:"appVersion"`
		KubeVersion string `yaml:"kubeVersion"`
	}
	if err := yaml.Unmarshal(meta, &c); err != nil {
		return err
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "# %s\n\n%s\n\nChart version %s, app version %s, Kubernetes %s. Install, upgrade and uninstall: the\nrepository's README. This file is generated from `values.yaml` by `hack/chartdocs`\n(`make manifests`); edit the comments there.\n\n",
		c.Name, c.Description, c.Version, c.AppVersion, c.KubeVersion)
	out.WriteString("| value | type | default | description |\n|---|---|---|---|\n")
	if len(doc.Content) == 1 {
		walk(&out, "", doc.Content[0], "")
	}
	return os.WriteFile(filepath.Join(chart, "README.md"), out.Bytes(), 0o644)
}

// walk writes a row per leaf value of a mapping; a comment above a mapping key describes the
// rows below it that have none of their own.
func walk(out *bytes.Buffer, prefix string, node *yaml.Node, inherited string) {
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		path := key.Value
		if prefix != "" {
			path = prefix + "." + key.Value
		}
		comment := clean(key.HeadComment)
		if value.Kind == yaml.MappingNode && len(value.Content) > 0 {
			walk(out, path, value, comment)
			continue
		}
		if comment == "" && i == 0 {
			comment = inherited
		}
		fmt.Fprintf(out, "| `%s` | %s | %s | %s |\n", path, kind(value), defaultOf(value), comment)
	}
}

func kind(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.SequenceNode:
		return "list"
	case n.Kind == yaml.MappingNode:
		return "map"
	case n.Tag == "!!bool":
		return "bool"
	case n.Tag == "!!int":
		return "int"
	default:
		return "string"
	}
}

func defaultOf(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		if n.Value == "" {
			return "`\"\"`"
		}
		return "`" + n.Value + "`"
	}
	data, _ := yaml.Marshal(n)
	flat := strings.Join(strings.Fields(strings.ReplaceAll(string(data), "\n", " ")), " ")
	return "`" + strings.ReplaceAll(flat, "|", "\\|") + "`"
}

// clean turns a YAML comment into one line of text.
func clean(comment string) string {
	var words []string
	for _, line := range strings.Split(comment, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		if line != "" {
			words = append(words, line)
		}
	}
	return strings.ReplaceAll(strings.Join(words, " "), "|", "\\|")
}
