"""The deployment files, checked offline (no cluster, no Docker engine here).

- deploy/k8s: every built-in resource validates against the Kubernetes schemas
  that kubernetes-validate ships (strict: an unknown field is an error); the
  operator resources (KEDA, RabbitMQ, CloudNativePG, MinIO) are checked for
  what C2P relies on. And against the code: a Deployment for every service,
  with probes on the ops port, requests and limits, a PDB, the settings from
  the ConfigMap and the Secret; every queue a scaler watches exists.
- docker-compose.yml: its structure (services, dependencies, environment,
  healthchecks, volumes), since `docker compose config` cannot run here.
"""
import glob
import os
import re

import kubernetes_validate
import pytest
import yaml

from c2p import topology
from c2p.config import SERVICES, load_settings
from c2p.run import SERVICE_CLASSES
from c2p.sandbox import ROOT

K8S = os.path.join(ROOT, "deploy", "k8s")
# The oldest and newest Kubernetes minor versions the manifests are meant for.
KUBERNETES_VERSIONS = ("1.29", "1.37")
OPERATOR_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"), ("keda.sh/v1alpha1", "TriggerAuthentication"),
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"), ("rabbitmq.com/v1beta1", "Vhost"),
    ("postgresql.cnpg.io/v1", "Cluster"), ("minio.min.io/v2", "Tenant"),
}


def documents():
    found = []
    for path in sorted(glob.glob(os.path.join(K8S, "**", "*.yaml"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    found.append((os.path.relpath(path, ROOT), doc))
    return found


DOCS = documents()


def of_kind(kind):
    return [doc for _, doc in DOCS if doc["kind"] == kind]


def test_there_are_manifests():
    kinds = {doc["kind"] for _, doc in DOCS}
    assert {"Namespace", "ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "Job",
            "HorizontalPodAutoscaler", "ScaledObject", "RabbitmqCluster", "Cluster",
            "Tenant"} <= kinds


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path,doc", [(p, d) for p, d in DOCS
                                      if (d["apiVersion"], d["kind"]) not in OPERATOR_KINDS],
                         ids=lambda v: v if isinstance(v, str) else v["kind"] + "/"
                         + v["metadata"]["name"])
def test_builtin_resources_validate_against_the_kubernetes_schemas(path, doc, version):
    kubernetes_validate.validate(doc, version, strict=True)


def test_the_validator_is_not_a_rubber_stamp():
    deployment = dict(of_kind("Deployment")[0])
    deployment["spec"] = {**deployment["spec"], "replicas": "two"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**of_kind("Job")[0], "spce": {}}, KUBERNETES_VERSIONS[0],
                                     strict=True)


def test_only_known_operator_resources():
    for path, doc in DOCS:
        key = (doc["apiVersion"], doc["kind"])
        if "." in doc["apiVersion"].split("/")[0]:  # a CRD's group has a dot
            assert key in OPERATOR_KINDS, (path, key)
        assert doc["metadata"]["name"] and doc["metadata"].get("namespace") or \
            doc["kind"] == "Namespace", path


def test_a_deployment_per_service_with_probes_resources_and_settings():
    deployments = {d["metadata"]["name"]: d for d in of_kind("Deployment")}
    assert set(deployments) == {f"c2p-{s}" for s in SERVICE_CLASSES}
    ops_port = load_settings({}).metrics_port
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        service = name.removeprefix("c2p-")
        assert container["args"] == ["python", "-m", "c2p.run", service]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["ops"] == ops_port
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "ops"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}
        for kind in ("requests", "limits"):
            assert set(container["resources"][kind]) == {"cpu", "memory"}, name
        sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
        assert sources == {"c2p-config", "c2p-secrets"}
        assert deployment["spec"]["replicas"] >= 2
        assert deployment["spec"]["selector"]["matchLabels"].items() <= \
            deployment["spec"]["template"]["metadata"]["labels"].items()


def test_every_deployment_has_a_disruption_budget_selecting_it():
    budgets = of_kind("PodDisruptionBudget")
    for deployment in of_kind("Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [b for b in budgets
                    if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(matching) == 1, deployment["metadata"]["name"]
        assert matching[0]["spec"]["minAvailable"] < deployment["spec"]["replicas"]


def test_settings_are_real_settings_and_secrets_are_not_in_the_configmap():
    (config,) = of_kind("ConfigMap")
    settings = load_settings(config["data"] | {"C2P_TOKEN_SECRET": "x" * 40})
    assert settings.queue_type == "quorum"
    assert settings.s3_secure and settings.evidence_bucket == config["data"]["C2P_EVIDENCE_BUCKET"]
    for key in config["data"]:
        assert not re.search(r"SECRET|PASSWORD|TOKEN|_URL$|AMQP_URI", key), key
    with open(os.path.join(K8S, "create-secrets.sh"), encoding="utf-8") as f:
        script = f.read()
    for name in ["C2P_TOKEN_SECRET", "C2P_AMQP_URI", "C2P_S3_ACCESS_KEY", "C2P_S3_SECRET_KEY"] + [
            f"C2P_{s.upper()}_DATABASE_URL" for s in SERVICES]:
        assert name in script, name


def test_the_migrate_job_migrates_and_seeds():
    (job,) = of_kind("Job")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert "python -m c2p.migrate" in " ".join(container["args"])
    assert "python -m c2p.seed" in " ".join(container["args"])


def test_scalers_watch_queues_that_exist_and_deployments_that_exist():
    queues = set(topology.SUBSCRIPTIONS) | {f"rpc-{s}" for s in SERVICES}
    deployments = {d["metadata"]["name"] for d in of_kind("Deployment")}
    scaled = of_kind("ScaledObject")
    assert scaled
    for item in scaled:
        assert item["spec"]["scaleTargetRef"]["name"] in deployments
        for trigger in item["spec"]["triggers"]:
            assert trigger["type"] == "rabbitmq"
            assert trigger["metadata"]["queueName"] in queues, trigger
            assert trigger["metadata"]["queueName"].split(".")[0].removeprefix("rpc-") == \
                item["spec"]["scaleTargetRef"]["name"].removeprefix("c2p-")
    for hpa in of_kind("HorizontalPodAutoscaler"):
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
    targets = [i["spec"]["scaleTargetRef"]["name"] for i in scaled + of_kind(
        "HorizontalPodAutoscaler")]
    assert len(targets) == len(set(targets))  # never two autoscalers on one Deployment


def test_reference_rabbitmq_has_three_nodes_and_quorum_vhost():
    (cluster,) = of_kind("RabbitmqCluster")
    assert cluster["spec"]["replicas"] == 3
    (vhost,) = of_kind("Vhost")
    assert vhost["spec"]["defaultQueueType"] == "quorum"
    (pg,) = of_kind("Cluster")
    assert pg["spec"]["instances"] >= 3
    (tenant,) = of_kind("Tenant")
    assert tenant["spec"]["pools"][0]["servers"] >= 4


# --- docker-compose.yml ------------------------------------------------------

@pytest.fixture(scope="module")
def compose():
    with open(os.path.join(ROOT, "docker-compose.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)  # merge keys (<<: *anchor) resolved


def test_compose_runs_every_service_after_the_migrate_job(compose):
    services = compose["services"]
    assert {"rabbitmq", "postgres", "minio", "migrate", *SERVICE_CLASSES} <= set(services)
    for name in SERVICE_CLASSES:
        service = services[name]
        assert service["command"] == ["python", "-m", "c2p.run", name]
        assert service["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"}
        assert service["restart"] == "unless-stopped"
        env = service["environment"]
        assert {"C2P_AMQP_URI", *(f"C2P_{s.upper()}_DATABASE_URL" for s in SERVICES)} <= set(env)
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["evidence"]["depends_on"]["minio"]["condition"] == "service_healthy"


def test_compose_dependencies_exist_and_have_healthchecks_where_waited_on(compose):
    services = compose["services"]
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services, (name, dependency)
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], dependency


def test_compose_volumes_are_declared_and_settings_parse(compose):
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, (name, source)
    # The environment given to the C2P containers is one C2P accepts
    # (compose's ${VAR:-default} resolved to its default).
    env = {k: re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", str(v))
           for k, v in compose["services"]["planner"]["environment"].items()}
    settings = load_settings(env)
    assert settings.amqp_uri.startswith("amqp://")
    assert settings.metrics_port  # each container serves /metrics and /readyz
