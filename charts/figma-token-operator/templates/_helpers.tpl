{{- define "fto.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "fto.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "fto.labels" -}}
{{ include "fto.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "fto.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "fto.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The metrics Service's port name: https-metrics, or http-metrics with metrics.secure false. */}}
{{- define "fto.metricsPortName" -}}
{{ if .Values.metrics.secure }}https{{ else }}http{{ end }}-metrics
{{- end -}}

{{/* The manager's RBAC rules, generated from the Go markers (files/role.yaml), and with
rolloutRestarts.enabled the patch on workloads (files/rollout_restarts_role.yaml). */}}
{{- define "fto.managerRules" -}}
{{- $rules := (.Files.Get "files/role.yaml" | fromYaml).rules -}}
{{- if .Values.rolloutRestarts.enabled -}}
{{- $rules = concat $rules (.Files.Get "files/rollout_restarts_role.yaml" | fromYaml).rules -}}
{{- end -}}
{{- $rules | toYaml -}}
{{- end -}}

{{/* The instances: the default one (""), then one per shard. */}}
{{- define "fto.instances" -}}
{{- prepend .Values.shards "" | toJson -}}
{{- end -}}

{{/* An instance's Deployment (and PodDisruptionBudget) name. */}}
{{- define "fto.instanceName" -}}
{{- if .shard -}}
{{- printf "%s-shard-%s" (include "fto.fullname" .) .shard | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- include "fto.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* An instance's pod selector: a shard's pods also carry figma.tokenops.dev/shard. */}}
{{- define "fto.instanceSelectorLabels" -}}
{{ include "fto.selectorLabels" . }}
{{- if .shard }}
figma.tokenops.dev/shard: {{ .shard }}
{{- end }}
{{- end -}}

{{/* The FigmaTokens an instance reconciles: a shard's, or all others; "" when unsharded. */}}
{{- define "fto.watchLabelSelector" -}}
{{- if .shard -}}
figma.tokenops.dev/shard={{ .shard }}
{{- else if .Values.shards -}}
figma.tokenops.dev/shard notin ({{ join "," .Values.shards }})
{{- end -}}
{{- end -}}
