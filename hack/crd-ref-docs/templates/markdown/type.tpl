{{- define "type" -}}
{{- $type := . -}}
{{- if markdownShouldRenderType $type -}}

#### {{ $type.Name }}

{{ if $type.IsAlias }}_Underlying type:_ _{{ markdownRenderTypeLink $type.UnderlyingType  }}_{{ end }}

{{ $type.Doc }}

{{ with index $type.Markers "kubebuilder:resource" -}}
{{ with index . 0 -}}
Scope: {{ .Scope | default "Namespaced" }}.{{ with .ShortName }} Short names: {{ range $i, $n := . }}{{ if $i }}, {{ end }}`{{ $n }}`{{ end }}.{{ end }}
{{- end }}
{{- end }}

{{ if or $type.Validation (index $type.Markers "kubebuilder:validation:XValidation") -}}
_Validation:_
{{- range $type.Validation }}
- {{ . }}
{{- end }}
{{- range index $type.Markers "kubebuilder:validation:XValidation" }}
- {{ .Message }}
{{- end }}
{{- end }}

{{ if $type.References -}}
_Appears in:_
{{- range $type.SortedReferences }}
- {{ markdownRenderTypeLink . }}
{{- end }}
{{- end }}

{{ if $type.Members -}}
| Field | Description | Default | Validation |
| --- | --- | --- | --- |
{{ if $type.GVK -}}
| `apiVersion` _string_ | `{{ $type.GVK.Group }}/{{ $type.GVK.Version }}` | | |
| `kind` _string_ | `{{ $type.GVK.Kind }}` | | |
{{ end -}}

{{ range $type.Members -}}
| `{{ .Name  }}` _{{ markdownRenderType .Type }}_ | {{ template "type_members" . }} | {{ markdownRenderDefault .Default }} | {{ range .Validation -}} {{ markdownRenderFieldDoc (trimSuffix ": {}" .) }} <br />{{ end }}{{ range index .Markers "kubebuilder:validation:XValidation" -}} {{ markdownRenderFieldDoc .Message }} <br />{{ end }} |
{{ end -}}

{{ end -}}

{{ with index $type.Markers "kubebuilder:printcolumn" }}
`kubectl get` columns:

| Column | From |
| --- | --- |
{{ range . -}}
| {{ upper .Name }} | `{{ .JSONPath }}` |
{{ end -}}
{{ end -}}

{{ if $type.EnumValues -}} 
| Field | Description |
| --- | --- |
{{ range $type.EnumValues -}}
| `{{ .Name }}` | {{ markdownRenderFieldDoc .Doc }} |
{{ end -}}
{{ end -}}


{{- end -}}
{{- end -}}
