{{- define "tacefusion.name" -}}{{ .Release.Name }}-tacefusion{{- end -}}
{{- define "tacefusion.coordinator" -}}{{ include "tacefusion.name" . }}-coordinator{{- end -}}
{{- define "tacefusion.url" -}}{{ if .Values.tlsSecret }}https{{ else }}http{{ end }}://{{ include "tacefusion.coordinator" . }}:7070{{- end -}}
{{- define "tacefusion.labels" -}}
app.kubernetes.io/name: tacefusion
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
{{/* Environment of every pod: the store's credentials. */}}
{{- define "tacefusion.env" -}}
{{- if .Values.storeCredentialsSecret }}
envFrom:
  - secretRef:
      name: {{ .Values.storeCredentialsSecret }}
{{- end }}
{{- end -}}
{{/* Secrets and the shared volume, mounted in every pod. */}}
{{- define "tacefusion.volumes" -}}
volumes:
  - name: token
    secret:
      secretName: {{ .Values.tokenSecret }}
{{- if .Values.tlsSecret }}
  - name: tls
    secret:
      secretName: {{ .Values.tlsSecret }}
{{- end }}
{{- if .Values.sharedVolume.enabled }}
  - name: data
    persistentVolumeClaim:
      claimName: {{ .Values.sharedVolume.claimName }}
{{- end }}
{{- end -}}
{{- define "tacefusion.mounts" -}}
volumeMounts:
  - name: token
    mountPath: /etc/tacefusion/token
    readOnly: true
{{- if .Values.tlsSecret }}
  - name: tls
    mountPath: /etc/tacefusion/tls
    readOnly: true
{{- end }}
{{- if .Values.sharedVolume.enabled }}
  - name: data
    mountPath: /data
{{- end }}
{{- end -}}
{{/* Arguments of a client or worker: where the coordinator is and how to prove who it is. */}}
{{- define "tacefusion.clientArgs" -}}
- --coordinator={{ include "tacefusion.url" . }}
- --token-file=/etc/tacefusion/token/token
{{- if .Values.tlsSecret }}
- --ca=/etc/tacefusion/tls/ca.crt
{{- end }}
{{- end -}}
{{/* A worker container. */}}
{{- define "tacefusion.worker" -}}
- name: worker
  image: {{ if .gpu }}{{ .root.Values.image.cuda }}{{ else }}{{ .root.Values.image.cpu }}{{ end }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  args:
    - worker
    {{- include "tacefusion.clientArgs" .root | nindent 4 }}
    - --slots={{ .slots }}
    - --drain-s={{ .root.Values.workers.drainS }}
  {{- include "tacefusion.env" .root | nindent 2 }}
  resources:
    requests:
      {{- toYaml .resources.requests | nindent 6 }}
    limits:
      {{- with .resources.limits }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
      {{- if .gpu }}
      nvidia.com/gpu: {{ .gpus }}
      {{- end }}
  {{- include "tacefusion.mounts" .root | nindent 2 }}
  securityContext:
    runAsNonRoot: true
    allowPrivilegeEscalation: false
{{- end -}}
