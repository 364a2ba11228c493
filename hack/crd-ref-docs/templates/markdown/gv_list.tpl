{{- define "gvList" -}}
{{- $groupVersions := . -}}

# API reference

<!-- Generated from the Go types in api/ by crd-ref-docs (make manifests). Do not edit. -->

## Packages
{{- range $groupVersions }}
- {{ markdownRenderGVLink . }}
{{- end }}

{{ range $groupVersions }}
{{ template "gvDetails" . }}
{{ end }}

{{- end -}}
