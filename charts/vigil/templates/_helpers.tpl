{{/* The chart's name, shortened to fit a label. */}}
{{- define "vigil.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's objects' name: the release name, with the chart's name
unless the release name already holds it. */}}
{{- define "vigil.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "vigil.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vigil.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "vigil.labels" -}}
{{ include "vigil.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: agent
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "vigil.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "vigil.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is needed when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "vigil.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* vigil.yaml: the chart's keys, then .Values.config merged over them. */}}
{{- define "vigil.config" -}}
{{- $dirs := list -}}
{{- if .Values.defaultRules -}}
{{- $dirs = append $dirs "/etc/vigil/rules" -}}
{{- end -}}
{{- $dirs = append $dirs "/etc/vigil/rules.d" -}}
{{- $rt := .Values.runtime | default (dict) -}}
{{- $base := dict
  "rules_dirs" $dirs
  "proc_root" "/host/proc"
  "runtime" (dict "enabled" (ne $rt.enabled false)
                  "containerd_roots" ($rt.containerdRoots | default (list))
                  "crio_roots" ($rt.crioRoots | default (list))
                  "runc_roots" ($rt.runcRoots | default (list)))
  "metrics" (dict "enabled" true "listen" (printf "0.0.0.0:%d" (int .Values.metrics.port))) -}}
{{- toYaml (mustMergeOverwrite $base (deepCopy (default (dict) .Values.config))) -}}
{{- end -}}

{{/* The runtime roots to mount: [{name, path}], when runtime.enabled. */}}
{{- define "vigil.runtimeRoots" -}}
{{- $out := list -}}
{{- $rt := .Values.runtime | default (dict) -}}
{{- if ne $rt.enabled false -}}
{{- range $kind, $key := dict "containerd" "containerdRoots" "crio" "crioRoots" "runc" "runcRoots" -}}
{{- range $i, $p := (index $rt $key | default (list)) -}}
{{- $out = append $out (dict "name" (printf "rt-%s-%d" $kind $i) "path" $p) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* The audit receiver's pods: a name of their own, so that neither the
DaemonSet's selector nor the metrics Service's takes them. */}}
{{- define "vigil.audit.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vigil.name" . }}-audit
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "vigil.audit.labels" -}}
{{ include "vigil.audit.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: audit
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The audit receiver's vigil.yaml: audit-only mode (no eBPF), the
receiver's files from the Secrets mounted under /etc/vigil/audit, then
.Values.config and .Values.audit.config merged over them. */}}
{{- define "vigil.audit.config" -}}
{{- $a := .Values.audit -}}
{{- $rx := dict
  "enabled" true
  "listen" (printf "0.0.0.0:%d" (int $a.port))
  "path" $a.path
  "tls_cert" "/etc/vigil/audit/tls/tls.crt"
  "tls_key" "/etc/vigil/audit/tls/tls.key" -}}
{{- if $a.clientCA.secretName -}}
{{- $_ := set $rx "client_ca" (printf "/etc/vigil/audit/client-ca/%s" $a.clientCA.key) -}}
{{- end -}}
{{- if $a.token.secretName -}}
{{- $_ := set $rx "token_file" (printf "/etc/vigil/audit/token/%s" $a.token.key) -}}
{{- end -}}
{{- $base := dict
  "rules_dirs" (list "/etc/vigil/audit/rules.d")
  "capture" (dict "enabled" false)
  "metrics" (dict "enabled" true "listen" (printf "0.0.0.0:%d" (int .Values.metrics.port)))
  "audit" $rx -}}
{{- $user := deepCopy (default (dict) .Values.config) -}}
{{- $_ := unset $user "rules_dirs" -}}
{{- $_ := unset $user "capture" -}}
{{- $_ := unset $user "proc_root" -}}
{{- $merged := mustMergeOverwrite $base $user -}}
{{- $_ := set $merged "audit" (mustMergeOverwrite (deepCopy $rx) (deepCopy (default (dict) $a.config))) -}}
{{- toYaml $merged -}}
{{- end -}}
