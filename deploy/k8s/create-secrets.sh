#!/usr/bin/env bash
# Create (or update) the Secret `c2p-secrets` from this shell's environment:
# nothing secret is written to a file or kept in version control.
#
#   export C2P_TOKEN_SECRET=$(openssl rand -base64 48)
#   export C2P_AMQP_URI=amqp://c2p:...@c2p-rabbitmq.c2p.svc:5672/c2p
#   export C2P_CHECKLIST_DATABASE_URL=postgresql://c2p:...@c2p-pg-rw.c2p.svc:5432/c2p_checklist?sslmode=require
#   ... (C2P_PLANNER_, _EVIDENCE_, _NOTIFY_, _HMIS_, _GATEWAY_DATABASE_URL, C2P_S3_ACCESS_KEY, C2P_S3_SECRET_KEY)
#   optional, for the DHIS2 export: C2P_DHIS2_URL and C2P_DHIS2_TOKEN (or _USERNAME, _PASSWORD)
#   bash deploy/k8s/create-secrets.sh
set -euo pipefail
required=(C2P_TOKEN_SECRET C2P_AMQP_URI C2P_CHECKLIST_DATABASE_URL C2P_PLANNER_DATABASE_URL
          C2P_EVIDENCE_DATABASE_URL C2P_NOTIFY_DATABASE_URL C2P_HMIS_DATABASE_URL
          C2P_GATEWAY_DATABASE_URL
          C2P_S3_ACCESS_KEY C2P_S3_SECRET_KEY)
args=()
for name in "${required[@]}"; do
  if [ -z "${!name:-}" ]; then echo "create-secrets: $name is not set" >&2; exit 2; fi
  args+=("--from-literal=$name=${!name}")
done
# Optional: outbound e-mail and SMS provider credentials; DHIS2 (no URL: no export).
for name in C2P_SMTP_USER C2P_SMTP_PASSWORD C2P_SMS_PROVIDER_TOKEN C2P_DHIS2_URL \
            C2P_DHIS2_TOKEN C2P_DHIS2_USERNAME C2P_DHIS2_PASSWORD; do
  [ -n "${!name:-}" ] && args+=("--from-literal=$name=${!name}")
done
kubectl create secret generic c2p-secrets --namespace c2p "${args[@]}" \
  --dry-run=client -o yaml | kubectl apply -f -
# KEDA reads the broker address from the same value (TriggerAuthentication).
kubectl create secret generic c2p-keda-rabbitmq --namespace c2p \
  "--from-literal=host=$C2P_AMQP_URI" --dry-run=client -o yaml | kubectl apply -f -
