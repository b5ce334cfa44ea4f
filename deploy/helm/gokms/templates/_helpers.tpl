{{- define "gokms.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "gokms.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gokms.labels" -}}
{{ include "gokms.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "gokms.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gokms.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- /* Refusals: configurations that would lose funds or cannot start. */ -}}
{{- define "gokms.check" -}}
{{- if not .Values.existingSecret -}}
{{- fail "existingSecret: name the Secret holding gokms.env (TATUM_API_KEY=...) and, for the file store, password; see values.yaml" -}}
{{- end -}}
{{- if and (not .Values.daemon.testnet) (not .Values.daemon.externalUrl) -}}
{{- fail "daemon.externalUrl: mainnet needs the four-eye endpoint (or set daemon.testnet: true)" -}}
{{- end -}}
{{- if gt (int .Values.replicaCount) 1 -}}
{{- if not .Values.store.backend -}}
{{- fail "replicaCount > 1 with the file store: a file store has one writer; use replicaCount: 1, or a remote store.backend with sharedState" -}}
{{- end -}}
{{- if not .Values.sharedState.enabled -}}
{{- fail "replicaCount > 1 without sharedState.enabled: several daemons without shared state could sign one pending transaction twice" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.azureWorkloadIdentity.enabled (not .Values.azureWorkloadIdentity.clientId) -}}
{{- fail "azureWorkloadIdentity.clientId: the client id of the managed identity or app registration is required" -}}
{{- end -}}
{{- if and .Values.vaultKubernetesAuth.enabled (not .Values.vaultKubernetesAuth.role) -}}
{{- fail "vaultKubernetesAuth.role: the Vault role bound to this service account is required" -}}
{{- end -}}
{{- end -}}
