{{/* Labels every object of the chart carries. */}}
{{- define "kubeop.labels" -}}
app.kubernetes.io/part-of: kubeop
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
{{- end -}}

{{/* Selector labels of one component: include "kubeop.selector" (list $ "operator"). */}}
{{- define "kubeop.selector" -}}
app.kubernetes.io/name: kubeop
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "kubeop.componentLabels" -}}
{{ include "kubeop.labels" (index . 0) }}
{{ include "kubeop.selector" . }}
{{- end -}}

{{- define "kubeop.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ $tag }}
{{- end -}}
{{- end -}}

{{/* The operator's Kubernetes username, which admission trusts. */}}
{{- define "kubeop.operatorUsername" -}}
system:serviceaccount:{{ .Release.Namespace }}:{{ .Values.operator.serviceAccount.name }}
{{- end -}}

{{/* Pod Security `restricted`: pod level. */}}
{{- define "kubeop.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Pod Security `restricted`: container level. */}}
{{- define "kubeop.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* Settings every component shares. */}}
{{- define "kubeop.commonEnv" -}}
- name: KUBEOP_HTTP_ADDR
  value: 0.0.0.0:8080
- name: KUBEOP_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: KUBEOP_SHUTDOWN_TIMEOUT_SECONDS
  value: '25'
# git, helm and kubectl write caches under HOME; the root filesystem is read-only.
- name: HOME
  value: /tmp
{{- end -}}

{{/* Probes on the component's HTTP port: liveness /healthz, readiness /readyz. */}}
{{- define "kubeop.probes" -}}
livenessProbe:
  httpGet: { path: /healthz, port: http }
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /readyz, port: http }
  periodSeconds: 5
  failureThreshold: 3
startupProbe:
  httpGet: { path: /healthz, port: http }
  periodSeconds: 2
  failureThreshold: 60
{{- end -}}

{{/* Scheduling of one component: include "kubeop.scheduling" (list $ .Values.operator "operator"). */}}
{{- define "kubeop.scheduling" -}}
{{- $v := index . 1 -}}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
affinity:
{{- if $v.affinity }}
  {{- toYaml $v.affinity | nindent 2 }}
{{- else }}
  # Replicas prefer different nodes, so one node going away leaves the others serving.
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "kubeop.selector" (list (index . 0) (index . 2)) | nindent 14 }}
{{- end }}
{{- end -}}
