"""What `helm template` produces for each branch of the values."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
import yaml
from chart_helpers import (
    CASES,
    CHART_DIR,
    EXTERNAL_DB,
    JWT,
    JWT_SECRET,
    Case,
    Manifest,
    env_of,
    find,
    one,
    pod_specs,
    render,
    template_text,
)

APP_VERSION = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["appVersion"]
BACKEND, FRONTEND, DB = "todo-app-backend", "todo-app-frontend", "todo-app-postgresql"


def container(docs: list[Manifest], kind: str, name: str, index: int = 0) -> dict[str, Any]:
    containers: list[dict[str, Any]] = one(docs, kind, name)["spec"]["template"]["spec"]["containers"]
    return containers[index]


def secret_data(secret: Manifest) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}


# --- database: embedded vs external -----------------------------------------------------


def test_embedded_database_is_deployed_by_default(default_docs: list[Manifest]) -> None:
    sts = one(default_docs, "StatefulSet", DB)
    assert sts["spec"]["replicas"] == 1
    assert sts["spec"]["serviceName"] == DB
    claim = sts["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert "storageClassName" not in claim["spec"]
    pg = sts["spec"]["template"]["spec"]["containers"][0]
    assert pg["image"] == "postgres:16-bookworm"
    env = env_of(pg)
    assert env["POSTGRES_USER"]["value"] == "todo"
    assert env["POSTGRES_DB"]["value"] == "todo"
    assert env["PGDATA"]["value"] == "/var/lib/postgresql/data/pgdata"
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": DB,
        "key": "postgres-password",
    }
    assert {m["mountPath"] for m in pg["volumeMounts"]} == {
        "/var/lib/postgresql/data",
        "/var/run/postgresql",
        "/tmp",
    }
    assert pg["readinessProbe"]["exec"]["command"][0] == "pg_isready"
    assert one(default_docs, "Service", DB)["spec"]["clusterIP"] == "None"


def test_embedded_database_storage_class_is_configurable() -> None:
    docs = render(
        "--set",
        JWT,
        "--set",
        "postgresql.persistence.storageClass=fast",
        "--set",
        "postgresql.persistence.size=5Gi",
    )
    claim = one(docs, "StatefulSet", DB)["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["storageClassName"] == "fast"
    assert claim["resources"]["requests"]["storage"] == "5Gi"


def test_embedded_database_password_is_generated_once_and_kept(
    default_docs: list[Manifest],
) -> None:
    secret = one(default_docs, "Secret", DB)
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    password = secret_data(secret)["postgres-password"]
    # Alphanumeric, because it is embedded unescaped in DATABASE_URL.
    assert re.fullmatch(r"[A-Za-z0-9]{32}", password)
    source = (CHART_DIR / "templates/postgresql/secret.yaml").read_text()
    assert 'lookup "v1" "Secret"' in source, "the password must be reused from the cluster"


def test_backend_database_url_is_composed_from_the_generated_password(
    default_docs: list[Manifest],
) -> None:
    backend = container(default_docs, "Deployment", BACKEND)
    names = [item["name"] for item in backend["env"]]
    # $(VAR) only expands variables defined earlier in the list.
    assert names.index("DATABASE_PASSWORD") < names.index("DATABASE_URL")
    env = env_of(backend)
    assert env["DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": DB, "key": "app-password"}
    assert env["DATABASE_URL"]["value"] == (f"postgresql://todo_app:$(DATABASE_PASSWORD)@{DB}:5432/todo")


def test_existing_database_secret_feeds_the_database_and_the_backend() -> None:
    docs = render("--set", JWT, "--set", "postgresql.auth.existingSecret=todo-db")
    pg = container(docs, "StatefulSet", DB)
    assert env_of(pg)["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "todo-db",
        "key": "postgres-password",
    }
    pod = one(docs, "Deployment", BACKEND)["spec"]["template"]["spec"]
    for c, role, key in (
        (pod["containers"][0], "todo_app", "app-password"),
        (pod["initContainers"][0], "todo_owner", "owner-password"),
    ):
        env = env_of(c)
        assert env["DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "todo-db", "key": key}, c[
            "name"
        ]
        assert env["DATABASE_URL"]["value"] == f"postgresql://{role}:$(DATABASE_PASSWORD)@{DB}:5432/todo"
    # The rest of the embedded database is unchanged; only its password Secret is gone.
    assert find(docs, "Service", DB)
    assert not find(docs, "Secret", DB)


def test_existing_database_secret_key_is_configurable() -> None:
    docs = render(
        "--set",
        JWT,
        "--set",
        "postgresql.auth.existingSecret=todo-env",
        "--set",
        "postgresql.auth.secretKeys.adminPasswordKey=DB_PASSWORD",
        "--set",
        "postgresql.auth.secretKeys.appPasswordKey=APP_PASSWORD",
    )
    assert env_of(container(docs, "StatefulSet", DB))["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "todo-env",
        "key": "DB_PASSWORD",
    }
    assert env_of(container(docs, "Deployment", BACKEND))["DATABASE_PASSWORD"]["valueFrom"][
        "secretKeyRef"
    ] == {
        "name": "todo-env",
        "key": "APP_PASSWORD",
    }


def test_password_key_only_applies_to_an_existing_database_secret() -> None:
    docs = render("--set", JWT, "--set", "postgresql.auth.secretKeys.adminPasswordKey=DB_PASSWORD")
    assert env_of(container(docs, "StatefulSet", DB))["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": DB,
        "key": "postgres-password",
    }
    assert "postgres-password" in secret_data(one(docs, "Secret", DB))


def test_existing_database_secret_renders_no_password_anywhere() -> None:
    args = (
        "--set",
        "existingSecret=todo-env",
        "--set",
        "postgresql.auth.existingSecret=todo-env",
    )
    docs = render(*args)
    assert not find(docs, "Secret"), "no Secret at all: every value comes from todo-env"
    text = template_text(*args)
    assert "postgres-password:" not in text
    assert "randAlphaNum" not in text
    # The chart generates a fresh random password on every render it makes one; two separate
    # helm runs (the second bypasses the render cache) come out identical, so it made none.
    assert template_text(*args, "--set", "nameOverride=") == text
    # ...whereas without the existing Secret a password is generated and rendered.
    generated = template_text("--set", "existingSecret=todo-env")
    assert generated != template_text("--set", "existingSecret=todo-env", "--set", "nameOverride=")
    assert "postgres-password:" in generated


def test_external_database_url_deploys_no_database() -> None:
    docs = render("--set", JWT, "--set", EXTERNAL_DB)
    assert not find(docs, "StatefulSet")
    assert not find(docs, "Secret", DB)
    assert not find(docs, "Service", DB)
    assert secret_data(one(docs, "Secret", "todo-app"))["DATABASE_URL"].startswith(
        "postgresql://todo:pw@db.example.com"
    )
    env = env_of(container(docs, "Deployment", BACKEND))
    assert "POSTGRES_PASSWORD" not in env
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "todo-app",
        "key": "DATABASE_URL",
    }


# --- secrets: chart Secret vs existingSecret --------------------------------------------


def test_chart_secret_holds_the_given_values() -> None:
    docs = render("--set", JWT, "--set", "secrets.openaiApiKey=sk-test")
    data = secret_data(one(docs, "Secret", "todo-app"))
    assert data == {"JWT_SECRET": JWT_SECRET, "OPENAI_API_KEY": "sk-test"}


def test_openai_key_is_optional(default_docs: list[Manifest]) -> None:
    assert "OPENAI_API_KEY" not in secret_data(one(default_docs, "Secret", "todo-app"))
    env = env_of(container(default_docs, "Deployment", BACKEND))
    assert env["OPENAI_API_KEY"]["valueFrom"]["secretKeyRef"]["optional"] is True
    assert "optional" not in env["JWT_SECRET"]["valueFrom"]["secretKeyRef"]


def test_existing_secret_replaces_the_chart_secret() -> None:
    docs = render(
        "--set",
        "existingSecret=todo-env",
        "--set",
        "backend.podAnnotations.checksum/existing-secret=abc",
    )
    assert not find(docs, "Secret", "todo-app")
    deployment = one(docs, "Deployment", BACKEND)
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert "checksum/secret" not in annotations
    assert annotations["checksum/existing-secret"] == "abc"
    env = env_of(deployment["spec"]["template"]["spec"]["containers"][0])
    assert env["JWT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "todo-env"
    assert env["OPENAI_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "todo-env"
    # The embedded database still provides DATABASE_URL unless it is switched off.
    assert "$(DATABASE_PASSWORD)" in env["DATABASE_URL"]["value"]
    assert find(docs, "StatefulSet", DB)


def test_existing_secret_without_embedded_database_provides_database_url() -> None:
    docs = render("--set", "existingSecret=todo-env", "--set", "postgresql.enabled=false")
    assert not find(docs, "StatefulSet")
    assert not find(docs, "Secret")
    env = env_of(container(docs, "Deployment", BACKEND))
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "todo-env",
        "key": "DATABASE_URL",
    }


def test_backend_settings_come_from_values() -> None:
    docs = render(
        "--set",
        JWT,
        "--set",
        "backend.config.openaiModel=gpt-x",
        "--set",
        "backend.config.openaiBaseUrl=http://llm.local/v1",
    )
    config = one(docs, "ConfigMap", BACKEND)["data"]
    assert config == {
        "ENVIRONMENT": "production",
        "OPENAI_MODEL": "gpt-x",
        "OPENAI_BASE_URL": "http://llm.local/v1",
    }
    env = env_of(container(docs, "Deployment", BACKEND))
    for key in config:
        assert env[key]["valueFrom"]["configMapKeyRef"] == {"name": BACKEND, "key": key}


# --- checksums and stable re-renders -----------------------------------------------------


def pod_annotations(*args: str) -> dict[str, str]:
    docs = render(*args)
    template: Manifest = one(docs, "Deployment", BACKEND)["spec"]["template"]
    return dict(template["metadata"]["annotations"])


def test_changing_a_secret_value_changes_the_secret_checksum() -> None:
    before = pod_annotations("--set", JWT)
    after = pod_annotations("--set", "secrets.jwtSecret=" + "z" * 32)
    assert before["checksum/secret"] != after["checksum/secret"]
    assert before["checksum/config"] == after["checksum/config"]


def test_changing_backend_config_changes_the_config_checksum() -> None:
    before = pod_annotations("--set", JWT)
    after = pod_annotations("--set", JWT, "--set", "backend.config.openaiModel=other")
    assert before["checksum/config"] != after["checksum/config"]
    assert before["checksum/secret"] == after["checksum/secret"]


def test_rerendering_the_same_values_leaves_workloads_unchanged() -> None:
    def workloads(docs: list[Manifest]) -> list[Manifest]:
        return [d for d in docs if d["kind"] in {"Deployment", "StatefulSet", "Service"}]

    # Bypass the render cache: two real helm runs.
    first = workloads(render("--set", JWT, "--set", "nameOverride="))
    second = workloads(render("--set", JWT))
    assert first == second


# --- names, labels and selectors ---------------------------------------------------------


def test_selectors_are_name_instance_component_only(case: Case) -> None:
    docs = render(*case.args())
    for doc in docs:
        if doc["kind"] in {"Deployment", "StatefulSet"}:
            selector = doc["spec"]["selector"]["matchLabels"]
            assert set(selector) == {
                "app.kubernetes.io/name",
                "app.kubernetes.io/instance",
                "app.kubernetes.io/component",
            }
            template_labels = doc["spec"]["template"]["metadata"]["labels"]
            assert selector.items() <= template_labels.items()
        if doc["kind"] == "Service":
            workload_labels = [
                w["spec"]["template"]["metadata"]["labels"]
                for w in docs
                if w["kind"] in {"Deployment", "StatefulSet"}
            ]
            matched = [lab for lab in workload_labels if doc["spec"]["selector"].items() <= lab.items()]
            assert len(matched) == 1, f"Service {doc['metadata']['name']} must select one workload"


def test_selectors_do_not_change_with_version_or_image() -> None:
    def selectors(*args: str) -> dict[str, Any]:
        return {
            d["metadata"]["name"]: d["spec"]["selector"]
            for d in render(*args)
            if d["kind"] in {"Deployment", "StatefulSet"}
        }

    assert selectors("--set", JWT) == selectors(
        "--set",
        JWT,
        "--set",
        "backend.image.tag=9.9.9",
        "--set",
        "frontend.image.tag=9.9.9",
    )


def test_every_resource_carries_the_recommended_labels(case: Case) -> None:
    for doc in render(*case.args()):
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "todo-app"
        assert labels["app.kubernetes.io/instance"] == "todo-app"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/version"] == APP_VERSION
        assert "app.kubernetes.io/component" in labels
        assert doc["metadata"]["namespace"] == "todo-app"


def test_names_follow_the_release_and_are_truncated_to_63() -> None:
    names = {d["metadata"]["name"] for d in render("--set", JWT, release="prod")}
    assert {
        "prod-todo-app-backend",
        "prod-todo-app-frontend",
        "prod-todo-app-postgresql",
    } <= names
    long_release = "r" * 53
    docs = render("--set", JWT, release=long_release)
    for doc in docs:
        assert len(doc["metadata"]["name"]) <= 63, doc["metadata"]["name"]
        for value in doc["metadata"]["labels"].values():
            assert len(value) <= 63
    assert any(d["metadata"]["name"].endswith("-backend") for d in docs)
    assert any(d["metadata"]["name"].endswith("-postgresql") for d in docs)


# --- images -----------------------------------------------------------------------------


def test_image_tags_default_to_app_version(default_docs: list[Manifest]) -> None:
    assert container(default_docs, "Deployment", BACKEND)["image"] == f"todo-app/backend:{APP_VERSION}"
    assert container(default_docs, "Deployment", FRONTEND)["image"] == f"todo-app/frontend:{APP_VERSION}"
    for name in (BACKEND, FRONTEND):
        assert container(default_docs, "Deployment", name)["imagePullPolicy"] == "IfNotPresent"


def test_no_image_is_ever_latest(case: Case) -> None:
    specs = pod_specs(render(*case.args()))
    assert specs
    for _, spec in specs:
        for c in spec["containers"] + spec.get("initContainers", []):
            assert ":" in c["image"].rsplit("/", 1)[-1], f"{c['image']} has no tag"
            assert not c["image"].endswith(":latest")


def test_reference_quickstart_values_are_honoured() -> None:
    docs = render(*next(c for c in CASES if c.name == "reference-quickstart").args())
    backend = container(docs, "Deployment", BACKEND)
    assert backend["imagePullPolicy"] == "Never"
    assert container(docs, "Deployment", FRONTEND)["imagePullPolicy"] == "Never"
    assert secret_data(one(docs, "Secret", "todo-app"))["OPENAI_API_KEY"] == "sk-test"
    assert not find(docs, "StatefulSet")


# --- backend and frontend wiring -----------------------------------------------------------


def test_frontend_finds_the_backend_through_its_service(
    default_docs: list[Manifest],
) -> None:
    env = env_of(container(default_docs, "Deployment", FRONTEND))
    assert env["BACKEND_URL"]["value"] == f"http://{BACKEND}:8000"
    service = one(default_docs, "Service", BACKEND)
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"][0]["port"] == 8000


def test_migrations_run_in_an_init_container_with_the_backend_env(
    default_docs: list[Manifest],
) -> None:
    pod = one(default_docs, "Deployment", BACKEND)["spec"]["template"]["spec"]
    (migrate,) = pod["initContainers"]
    backend = pod["containers"][0]
    assert migrate["command"] == ["python", "-m", "app.migrate"]
    assert migrate["image"] == backend["image"]
    # The same environment but the database role: the migration owns the schema, the server
    # only reads and writes rows.
    database = {"DATABASE_PASSWORD", "DATABASE_URL"}
    migrate_env = [e for e in migrate["env"] if e["name"] not in database | {"MIGRATE_WAIT_SECONDS"}]
    assert migrate_env == [e for e in backend["env"] if e["name"] not in database]
    assert env_of(migrate)["DATABASE_URL"]["value"].startswith("postgresql://todo_owner:")
    assert env_of(migrate)["DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "owner-password"
    assert env_of(migrate)["MIGRATE_WAIT_SECONDS"]["value"] == "120"


def test_migrations_and_prestop_can_be_switched_off() -> None:
    docs = render(
        "--set",
        JWT,
        "--set",
        "backend.migrations.enabled=false",
        "--set",
        "backend.lifecycle.preStopSleepSeconds=0",
    )
    pod = one(docs, "Deployment", BACKEND)["spec"]["template"]["spec"]
    assert "initContainers" not in pod
    assert "lifecycle" not in pod["containers"][0]


def test_probes_point_at_the_health_endpoints(default_docs: list[Manifest]) -> None:
    backend = container(default_docs, "Deployment", BACKEND)
    frontend = container(default_docs, "Deployment", FRONTEND)
    assert backend["startupProbe"]["httpGet"]["path"] == "/readyz"
    assert backend["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert backend["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert frontend[probe]["httpGet"]["path"] == "/api/health"
    for c in (backend, frontend):
        assert c["startupProbe"]["periodSeconds"] <= 5
        assert c["readinessProbe"]["periodSeconds"] <= 5
        assert c["startupProbe"].get("initialDelaySeconds", 0) <= 5
        # A slow first start gets at least a minute before the kubelet restarts it.
        assert c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"] >= 60
        # Liveness restarts only a wedged process: a pod slowed past its readiness timeout for a
        # while (a host building and loading images, measured at 2.3 s on kind) is not killed.
        live, ready = c["livenessProbe"], c["readinessProbe"]
        assert live["timeoutSeconds"] > ready["timeoutSeconds"]
        assert live["periodSeconds"] * live["failureThreshold"] >= 60


def test_rollouts_keep_capacity_and_drain(default_docs: list[Manifest]) -> None:
    # The frontend runtime has no sleep binary: node waits instead.
    pre_stop = {
        BACKEND: ["sleep", "5"],
        FRONTEND: ["node", "-e", "setTimeout(() => {}, 5000)"],
    }
    for name in (BACKEND, FRONTEND):
        deployment = one(default_docs, "Deployment", name)
        assert deployment["spec"]["strategy"] == {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        }
        pod = deployment["spec"]["template"]["spec"]
        assert pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"] == pre_stop[name]
        assert pod["terminationGracePeriodSeconds"] > 5


# --- frontend Service types, NOTES ----------------------------------------------------------


def test_frontend_is_a_nodeport_on_30000_by_default(
    default_docs: list[Manifest],
) -> None:
    spec = one(default_docs, "Service", FRONTEND)["spec"]
    assert spec["type"] == "NodePort"
    assert spec["ports"][0]["port"] == 3000
    assert spec["ports"][0]["nodePort"] == 30000


@pytest.mark.parametrize("service_type", ["ClusterIP", "LoadBalancer"])
def test_frontend_service_type_is_configurable(service_type: str) -> None:
    docs = render("--set", JWT, "--set", f"frontend.service.type={service_type}")
    spec = one(docs, "Service", FRONTEND)["spec"]
    assert spec["type"] == service_type
    assert ("nodePort" in spec["ports"][0]) is (service_type == "LoadBalancer")


# --- PDB, HPA, NetworkPolicy, Ingress ---------------------------------------------------


def test_single_replicas_get_no_disruption_budget(default_docs: list[Manifest]) -> None:
    assert not find(default_docs, "PodDisruptionBudget")
    assert not find(default_docs, "HorizontalPodAutoscaler")


def test_multiple_replicas_get_a_disruption_budget_per_component() -> None:
    docs = render("--set", JWT, "--set", "backend.replicaCount=2")
    (pdb,) = find(docs, "PodDisruptionBudget")
    assert pdb["metadata"]["name"] == BACKEND
    assert pdb["spec"]["maxUnavailable"] == 1
    assert (
        pdb["spec"]["selector"]["matchLabels"]
        == (one(docs, "Deployment", BACKEND)["spec"]["selector"]["matchLabels"])
    )
    assert one(docs, "Deployment", BACKEND)["spec"]["replicas"] == 2


def test_autoscaling_creates_hpa_and_budget_and_drops_fixed_replicas() -> None:
    docs = render(
        "--set",
        JWT,
        "--set",
        "frontend.autoscaling.enabled=true",
        "--set",
        "frontend.autoscaling.maxReplicas=7",
    )
    (hpa,) = find(docs, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": FRONTEND,
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 7)
    assert "replicas" not in one(docs, "Deployment", FRONTEND)["spec"]
    assert [p["metadata"]["name"] for p in find(docs, "PodDisruptionBudget")] == [FRONTEND]


def policy(docs: list[Manifest], name: str) -> dict[str, Any]:
    return dict(one(docs, "NetworkPolicy", name)["spec"])


def components(peers: list[dict[str, Any]]) -> set[str]:
    return {p["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for p in peers}


def test_network_policies_isolate_backend_and_database(
    default_docs: list[Manifest],
) -> None:
    backend = policy(default_docs, BACKEND)
    assert components(backend["ingress"][0]["from"]) == {"frontend", "test"}
    assert backend["ingress"][0]["ports"] == [{"port": "http", "protocol": "TCP"}]
    database = policy(default_docs, DB)
    assert components(database["ingress"][0]["from"]) == {"backend"}
    assert database["egress"] == []
    frontend = policy(default_docs, FRONTEND)
    assert "from" not in frontend["ingress"][0], "the frontend is public"


def test_egress_is_limited_to_dns_database_backend_https(
    default_docs: list[Manifest],
) -> None:
    def ports(spec: dict[str, Any]) -> set[int]:
        return {p["port"] for rule in spec["egress"] for p in rule["ports"]}

    backend = policy(default_docs, BACKEND)
    assert set(backend["policyTypes"]) == {"Ingress", "Egress"}
    assert ports(backend) == {53, 5432, 443}
    db_rule = next(r for r in backend["egress"] if r["ports"][0]["port"] == 5432)
    assert components(db_rule["to"]) == {"database"}
    assert ports(policy(default_docs, FRONTEND)) == {53, 8000}
    assert ports(policy(default_docs, "todo-app-test")) == {53, 3000, 8000}


def test_external_database_egress_is_not_pinned_to_a_pod() -> None:
    docs = render("--set", JWT, "--set", EXTERNAL_DB)
    db_rule = next(r for r in policy(docs, BACKEND)["egress"] if r["ports"][0]["port"] == 5432)
    assert [set(peer) for peer in db_rule["to"]] == [{"ipBlock"}]
    assert not find(docs, "NetworkPolicy", DB)


def test_egress_restriction_can_be_lifted() -> None:
    docs = render("--set", JWT, "--set", "networkPolicy.restrictEgress=false")
    for name in (BACKEND, FRONTEND, DB):
        spec = policy(docs, name)
        assert spec["policyTypes"] == ["Ingress"]
        assert "egress" not in spec


def test_network_policies_can_be_disabled() -> None:
    docs = render(
        "--set", JWT, "--set", "networkPolicy.enabled=false", "--set", "backend.trustedProxies=null"
    )
    assert not find(docs, "NetworkPolicy")


def test_test_pod_carries_the_label_the_backend_policy_admits(
    default_docs: list[Manifest],
) -> None:
    (pod,) = find(default_docs, "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    admitted = policy(default_docs, BACKEND)["ingress"][0]["from"]
    assert any(p["podSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items() for p in admitted)
    (c,) = pod["spec"]["containers"]
    assert c["image"] == container(default_docs, "Deployment", BACKEND)["image"]
    assert c["command"][0] == "python3"
    assert f"http://{FRONTEND}:3000/api/health" in c["command"]
    assert f"http://{BACKEND}:8000/readyz" in c["command"]


def test_ingress_routes_hosts_to_the_frontend() -> None:
    docs = render(
        "--set",
        JWT,
        "--set",
        "ingress.enabled=true",
        "--set",
        "ingress.className=nginx",
        "--set",
        "ingress.hosts[0].host=todo.example.com",
        "--set",
        "ingress.hosts[0].paths[0].path=/",
        "--set",
        "ingress.hosts[0].paths[0].pathType=Prefix",
        "--set",
        "ingress.tls[0].secretName=todo-tls",
        "--set",
        "ingress.tls[0].hosts[0]=todo.example.com",
    )
    spec = one(docs, "Ingress", FRONTEND)["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"hosts": ["todo.example.com"], "secretName": "todo-tls"}]
    (rule,) = spec["rules"]
    assert rule["host"] == "todo.example.com"
    assert rule["http"]["paths"][0]["backend"]["service"] == {
        "name": FRONTEND,
        "port": {"name": "http"},
    }


def test_ingress_is_off_by_default(default_docs: list[Manifest]) -> None:
    assert not find(default_docs, "Ingress")
