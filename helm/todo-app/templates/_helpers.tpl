{{/*
Chart name, truncated to 63 characters (the DNS label limit for names and label values).
*/}}
{{- define "todo-app.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, truncated to 63 characters. If the release name already
contains the chart name it is used as is, so `helm install todo-app ./todo-app`
yields `todo-app`, not `todo-app-todo-app`.
*/}}
{{- define "todo-app.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, as used by the helm.sh/chart label.
*/}}
{{- define "todo-app.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels. Call with (dict "ctx" $ "component" "backend").
*/}}
{{- define "todo-app.labels" -}}
helm.sh/chart: {{ include "todo-app.chart" .ctx }}
{{ include "todo-app.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: {{ include "todo-app.name" .ctx }}
{{- end }}

{{/*
Selector labels: immutable on Deployments and StatefulSets, so only name, instance and
component - never the version.
*/}}
{{- define "todo-app.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-app.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Per-component resource names, truncated so the suffix always survives.
*/}}
{{- define "todo-app.backend.fullname" -}}
{{- printf "%s-backend" (include "todo-app.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{- define "todo-app.frontend.fullname" -}}
{{- printf "%s-frontend" (include "todo-app.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}

{{- define "todo-app.postgresql.fullname" -}}
{{- printf "%s-postgresql" (include "todo-app.fullname" . | trunc 52 | trimSuffix "-") }}
{{- end }}

{{- define "todo-app.postgresql.rolesName" -}}
{{- printf "%s-postgresql-roles" (include "todo-app.fullname" . | trunc 46 | trimSuffix "-") }}
{{- end }}

{{/*
Name of the ServiceAccount every pod runs as.
*/}}
{{- define "todo-app.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "todo-app.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Container image reference. The tag defaults to the chart's appVersion, never "latest".
Call with (dict "image" .Values.backend.image "ctx" $).
*/}}
{{- define "todo-app.image" -}}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag | toString) }}
{{- end }}

{{/*
Name of the Secret holding DATABASE_URL, JWT_SECRET and OPENAI_API_KEY.
*/}}
{{- define "todo-app.secretName" -}}
{{- default (include "todo-app.fullname" .) .Values.existingSecret }}
{{- end }}

{{/*
"true" when the chart deploys its own PostgreSQL: an explicit secrets.databaseUrl always
points elsewhere, otherwise postgresql.enabled decides.
*/}}
{{- define "todo-app.postgresql.enabled" -}}
{{- if and .Values.postgresql.enabled (not .Values.secrets.databaseUrl) }}true{{- end }}
{{- end }}

{{/*
Secret and keys holding the embedded PostgreSQL's passwords (role admin: the superuser, owner:
the schema's owner, app: the serving app's role): postgresql.auth.existingSecret when set (the
chart then renders no password at all), else the Secret the chart generates.
Call todo-app.postgresql.secretKey with (dict "ctx" $ "role" "admin").
*/}}
{{- define "todo-app.postgresql.secretName" -}}
{{- default (include "todo-app.postgresql.fullname" .) .Values.postgresql.auth.existingSecret }}
{{- end }}

{{- define "todo-app.postgresql.secretKey" -}}
{{- $keys := .ctx.Values.postgresql.auth.secretKeys }}
{{- if .ctx.Values.postgresql.auth.existingSecret }}
{{- index $keys (printf "%sPasswordKey" .role) }}
{{- else }}
{{- index (dict "admin" "postgres-password" "owner" "owner-password" "app" "app-password") .role }}
{{- end }}
{{- end }}

{{/*
Backend environment, shared by the migration init container and the server so both see
the same database, secrets and limits (a limit the settings refuse then stops the migration,
before any serving pod is replaced). With the embedded database they connect as different
roles: the migration as the schema's owner, the server as the app role that may only read and
write rows (see "Database roles" in README.md). DATABASE_PASSWORD comes before DATABASE_URL
because Kubernetes only expands $(VAR) references to variables defined earlier in the list.
Call with (dict "ctx" $ "role" "owner") or (dict "ctx" $ "role" "app").
*/}}
{{- define "todo-app.backend.env" -}}
{{- $ctx := .ctx }}
{{- $secretName := include "todo-app.secretName" $ctx }}
{{- if include "todo-app.postgresql.enabled" $ctx }}
{{- $auth := $ctx.Values.postgresql.auth }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "todo-app.postgresql.secretName" $ctx }}
      key: {{ include "todo-app.postgresql.secretKey" (dict "ctx" $ctx "role" .role) | quote }}
- name: DATABASE_URL
  value: {{ printf "postgresql://%s:$(DATABASE_PASSWORD)@%s:5432/%s" (ternary $auth.ownerUsername $auth.appUsername (eq .role "owner")) (include "todo-app.postgresql.fullname" $ctx) $auth.database | quote }}
{{- else }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: DATABASE_URL
{{- end }}
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: JWT_SECRET
- name: OPENAI_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: OPENAI_API_KEY
      optional: true
- name: OPENAI_BASE_URL
  valueFrom:
    configMapKeyRef:
      name: {{ include "todo-app.backend.fullname" $ctx }}
      key: OPENAI_BASE_URL
- name: OPENAI_MODEL
  valueFrom:
    configMapKeyRef:
      name: {{ include "todo-app.backend.fullname" $ctx }}
      key: OPENAI_MODEL
- name: ENVIRONMENT
  valueFrom:
    configMapKeyRef:
      name: {{ include "todo-app.backend.fullname" $ctx }}
      key: ENVIRONMENT
{{ include "todo-app.backend.limitsEnv" $ctx | trim }}
{{- with $ctx.Values.backend.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The backend's limits (backend.limits) and the proxies it trusts, one setting each. Integers
go through int64 so that large ones are not printed in exponent form (1.048576e+06), which the
settings would refuse.
*/}}
{{- define "todo-app.backend.limitsEnv" -}}
{{- $limits := .Values.backend.limits }}
- name: TRUSTED_PROXIES
  value: {{ join "," (.Values.backend.trustedProxies | default list) | quote }}
- name: MAX_BODY_BYTES
  value: {{ int64 $limits.maxBodyBytes | quote }}
- name: LOGIN_RATE_LIMIT_PER_CLIENT
  value: {{ $limits.loginRatePerClient | quote }}
- name: LOGIN_RATE_LIMIT_PER_ACCOUNT
  value: {{ $limits.loginRatePerAccount | quote }}
- name: REGISTER_RATE_LIMIT_PER_CLIENT
  value: {{ $limits.registerRatePerClient | quote }}
- name: PASSWORD_HASH_CONCURRENCY
  value: {{ int64 $limits.passwordHashConcurrency | quote }}
- name: CHAT_MAX_CONCURRENT_PER_USER
  value: {{ int64 $limits.chatMaxConcurrentPerUser | quote }}
- name: CHAT_MAX_CONCURRENT_PER_POD
  value: {{ int64 $limits.chatMaxConcurrentPerPod | quote }}
- name: CHAT_HISTORY_MAX_MESSAGES
  value: {{ int64 $limits.chatHistoryMaxMessages | quote }}
- name: CHAT_HISTORY_MAX_CHARS
  value: {{ int64 $limits.chatHistoryMaxChars | quote }}
- name: CHAT_MODEL_CALL_TIMEOUT_SECONDS
  value: {{ $limits.chatModelCallTimeoutSeconds | toString | quote }}
- name: CHAT_TURN_DEADLINE_SECONDS
  value: {{ $limits.chatTurnDeadlineSeconds | toString | quote }}
- name: AGENT_MAX_ITERATIONS
  value: {{ int64 $limits.agentMaxIterations | quote }}
{{- end }}

{{/*
The frontend's limits (frontend.limits) and the proxies it trusts, one setting each.
*/}}
{{- define "todo-app.frontend.limitsEnv" -}}
{{- $limits := .Values.frontend.limits }}
- name: TRUSTED_PROXIES
  value: {{ join "," (.Values.frontend.trustedProxies | default list) | quote }}
- name: MAX_BODY_BYTES
  value: {{ int64 $limits.maxBodyBytes | quote }}
- name: PROXY_CHAT_TIMEOUT_MS
  value: {{ int64 $limits.proxyChatTimeoutMs | quote }}
- name: ALLOWED_ORIGINS
  value: {{ join "," $limits.allowedOrigins | quote }}
{{- end }}

{{/*
Fail rendering with a readable message when values are inconsistent. values.schema.json
catches types and enums; this catches what depends on more than one value.
*/}}
{{- define "todo-app.validateValues" -}}
{{- $messages := list }}
{{- if .Values.existingSecret }}
{{- range $key := list "databaseUrl" "jwtSecret" "openaiApiKey" }}
{{- if index $.Values.secrets $key }}
{{- $messages = append $messages (printf "secrets.%s is set but existingSecret %q is used instead: put the value in that Secret, or unset existingSecret" $key $.Values.existingSecret) }}
{{- end }}
{{- end }}
{{- else }}
{{- if not .Values.secrets.jwtSecret }}
{{- $messages = append $messages "secrets.jwtSecret is required: set secrets.jwtSecret (at least 32 characters, e.g. `openssl rand -hex 32`) or existingSecret (a Secret with a JWT_SECRET key)" }}
{{- else if lt (len .Values.secrets.jwtSecret) 32 }}
{{- $messages = append $messages (printf "secrets.jwtSecret is %d characters long: use at least 32 (e.g. `openssl rand -hex 32`)" (len .Values.secrets.jwtSecret)) }}
{{- end }}
{{- if and .Values.secrets.databaseUrl (not (regexMatch "^postgres(ql)?(\\+[a-z0-9]+)?://" .Values.secrets.databaseUrl)) }}
{{- $messages = append $messages "secrets.databaseUrl must be a PostgreSQL URL starting with postgresql:// (the value is not shown because it holds a password)" }}
{{- end }}
{{- if and (not .Values.secrets.databaseUrl) (not .Values.postgresql.enabled) }}
{{- $messages = append $messages "no database: set secrets.databaseUrl, or existingSecret with a DATABASE_URL key, or postgresql.enabled=true for the embedded PostgreSQL" }}
{{- end }}
{{- end }}
{{- if and .Values.postgresql.auth.existingSecret (not (include "todo-app.postgresql.enabled" .)) }}
{{- $messages = append $messages (printf "postgresql.auth.existingSecret %q is set but the embedded PostgreSQL is off (secrets.databaseUrl is set or postgresql.enabled=false): unset it, or use the embedded database" .Values.postgresql.auth.existingSecret) }}
{{- end }}
{{- $auth := .Values.postgresql.auth }}
{{- if and (include "todo-app.postgresql.enabled" .) (ne (len (uniq (list $auth.username $auth.ownerUsername $auth.appUsername))) 3) }}
{{- $messages = append $messages (printf "postgresql.auth.username (%s), ownerUsername (%s) and appUsername (%s) must be three different roles: the superuser, the schema's owner and the app's role" $auth.username $auth.ownerUsername $auth.appUsername) }}
{{- end }}
{{- range $component := list "backend" "frontend" }}
{{- $image := (index $.Values $component).image }}
{{- if eq (toString $image.tag) "latest" }}
{{- $messages = append $messages (printf "%s.image.tag must not be \"latest\": use an immutable tag (empty means the chart appVersion %s)" $component $.Chart.AppVersion) }}
{{- end }}
{{- $autoscaling := (index $.Values $component).autoscaling }}
{{- if and $autoscaling.enabled (gt (int $autoscaling.minReplicas) (int $autoscaling.maxReplicas)) }}
{{- $messages = append $messages (printf "%s.autoscaling.minReplicas (%d) is greater than %s.autoscaling.maxReplicas (%d)" $component (int $autoscaling.minReplicas) $component (int $autoscaling.maxReplicas)) }}
{{- end }}
{{- end }}
{{- if and .Values.networkPolicy.externalDatabase.host (or .Values.secrets.databaseUrl (include "todo-app.postgresql.enabled" .)) }}
{{- $messages = append $messages (printf "networkPolicy.externalDatabase.host %q is set but %s: unset it (it only says where a database whose URL is in existingSecret lives)" .Values.networkPolicy.externalDatabase.host (ternary "secrets.databaseUrl names the database, and its host is used" "the embedded PostgreSQL is used" (not (empty .Values.secrets.databaseUrl)))) }}
{{- end }}
{{- if and .Values.backend.trustedProxies (not .Values.networkPolicy.enabled) }}
{{- $messages = append $messages (printf "backend.trustedProxies (%s) is set but networkPolicy.enabled is false: any pod in those networks could then name any client address and get fresh login attempts with each. Enable network policies (only the frontend may reach the backend), or empty backend.trustedProxies (--set-json 'backend.trustedProxies=[]'; every user behind a frontend pod then shares its rate limits)" (join ", " .Values.backend.trustedProxies)) }}
{{- end }}
{{- $turnMs := mulf (float64 .Values.backend.limits.chatTurnDeadlineSeconds) 1000 }}
{{- if ge $turnMs (float64 .Values.frontend.limits.proxyChatTimeoutMs) }}
{{- $messages = append $messages (printf "backend.limits.chatTurnDeadlineSeconds (%v s) must stay below frontend.limits.proxyChatTimeoutMs (%v ms): a turn that outlives the proxy gets a 504 while its actions still run, and the user sends it again. Lower the deadline or raise the proxy timeout, leaving a few seconds between them" .Values.backend.limits.chatTurnDeadlineSeconds (int64 .Values.frontend.limits.proxyChatTimeoutMs)) }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.hosts) }}
{{- $messages = append $messages "ingress.enabled is true but ingress.hosts is empty: add at least one host" }}
{{- end }}
{{- if $messages }}
{{- fail (printf "\n\nVALUES VALIDATION:\n  - %s\n" (join "\n  - " $messages)) }}
{{- end }}
{{- end }}

{{/*
True when a component runs more than one pod at a time, so a PodDisruptionBudget can keep
one of them up during node drains. Call with a component's values.
*/}}
{{- define "todo-app.multiReplica" -}}
{{- if .autoscaling.enabled }}
{{- if gt (int .autoscaling.minReplicas) 1 }}true{{- end }}
{{- else if gt (int .replicaCount) 1 }}true{{- end }}
{{- end }}

{{/*
Host and port of an endpoint URL, as JSON: {"host": ..., "port": ...}. Parsed with regular
expressions rather than urlParse, whose error message would print the URL, and a database URL
holds a password. The userinfo ends at the last "@"; the port defaults by scheme (https 443,
http 80, else `defaultPort`). Call with (dict "url" $url "defaultPort" 5432).
*/}}
{{- define "todo-app.endpoint" -}}
{{- $scheme := regexFind "^[A-Za-z][A-Za-z0-9+.-]*://" .url | trimSuffix "://" | lower }}
{{- $authority := regexReplaceAll "^[A-Za-z][A-Za-z0-9+.-]*://" .url "" }}
{{- $authority = regexReplaceAll "^.*@" $authority "" }}
{{- $authority = regexReplaceAll "[/?#].*$" $authority "" }}
{{- $host := $authority }}
{{- $port := "" }}
{{- if hasPrefix "[" $authority }}
{{- $host = regexReplaceAll "^\\[([^\\]]*)\\].*$" $authority "${1}" }}
{{- $port = regexFind ":[0-9]+$" (regexReplaceAll "^\\[[^\\]]*\\]" $authority "") | trimPrefix ":" }}
{{- else if regexMatch ":[0-9]+$" $authority }}
{{- $port = regexFind ":[0-9]+$" $authority | trimPrefix ":" }}
{{- $host = trimSuffix (printf ":%s" $port) $authority }}
{{- end }}
{{- if not $port }}
{{- $port = get (dict "https" "443" "http" "80") $scheme | default (toString .defaultPort) }}
{{- end }}
{{- dict "host" (lower $host) "port" (atoi $port) | toJson }}
{{- end }}

{{/*
The `to` peer of an egress rule to `host` (a NetworkPolicy cannot match DNS names): an IP
literal is itself; `name.namespace.svc[.cluster domain]` is any pod of that namespace and a
bare `name` any pod of the release's; any other name may resolve to any address outside the
cluster, i.e. networkPolicy.externalCIDR minus networkPolicy.externalExcept.
Call with (dict "host" $host "ctx" $).
*/}}
{{- define "todo-app.networkPolicy.peer" -}}
{{- $policy := .ctx.Values.networkPolicy }}
{{- if regexMatch "^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$" .host }}
- ipBlock:
    cidr: {{ printf "%s/32" .host }}
{{- else if contains ":" .host }}
- ipBlock:
    cidr: {{ printf "%s/128" .host }}
{{- else if regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?\\.svc(\\..+)?$" .host }}
- namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: {{ index (splitList "." .host) 1 }}
{{- else if regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" .host }}
- podSelector: {}
{{- else }}
- ipBlock:
    cidr: {{ $policy.externalCIDR }}
    {{- with $policy.externalExcept }}
    except:
      {{- toYaml . | nindent 6 }}
    {{- end }}
{{- end }}
{{- end }}

{{/*
The backend's egress rules besides DNS: the database, the model endpoint, and
networkPolicy.extraEgress. Each endpoint is reached on its own port only.
*/}}
{{- define "todo-app.networkPolicy.backendEgress" -}}
{{- $policy := .Values.networkPolicy }}
# The database: the embedded pod, or the external server on its own port.
{{- if include "todo-app.postgresql.enabled" . }}
- to:
    - podSelector:
        matchLabels:
          {{- include "todo-app.selectorLabels" (dict "ctx" $ "component" "database") | nindent 10 }}
  ports:
    - port: 5432
      protocol: TCP
{{- else }}
{{- $database := dict "host" $policy.externalDatabase.host "port" (int $policy.externalDatabase.port) }}
{{- if .Values.secrets.databaseUrl }}
{{- $database = include "todo-app.endpoint" (dict "url" .Values.secrets.databaseUrl "defaultPort" 5432) | fromJson }}
{{- end }}
- to:
    {{- include "todo-app.networkPolicy.peer" (dict "host" (default "" $database.host) "ctx" $) | trim | nindent 4 }}
  ports:
    - port: {{ int $database.port }}
      protocol: TCP
{{- end }}
# The OpenAI-compatible endpoint of the assistant (backend.config.openaiBaseUrl).
{{- $model := include "todo-app.endpoint" (dict "url" .Values.backend.config.openaiBaseUrl "defaultPort" 443) | fromJson }}
- to:
    {{- include "todo-app.networkPolicy.peer" (dict "host" $model.host "ctx" $) | trim | nindent 4 }}
  ports:
    - port: {{ int $model.port }}
      protocol: TCP
{{- range $policy.extraEgress }}
# networkPolicy.extraEgress
- to:
    {{- if .cidr }}
    - ipBlock:
        cidr: {{ .cidr }}
        {{- with .except }}
        except:
          {{- toYaml . | nindent 10 }}
        {{- end }}
    {{- else }}
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .namespace }}
      {{- with .podLabels }}
      podSelector:
        matchLabels:
          {{- toYaml . | nindent 10 }}
      {{- end }}
    {{- end }}
  ports:
    {{- $protocol := .protocol | default "TCP" }}
    {{- range .ports }}
    - port: {{ int . }}
      protocol: {{ $protocol }}
    {{- end }}
{{- end }}
{{- end }}

{{/*
Egress rule for cluster DNS, which every pod needs to resolve Service names.
*/}}
{{- define "todo-app.networkPolicy.dnsEgress" -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}
