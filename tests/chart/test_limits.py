"""The apps' limits are chart values: rendered into each Deployment's env, bounded by the
schema, and the chat deadlines ordered across the two components."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import pytest
from chart_helpers import JWT, REPO_ROOT, Manifest, env_of, one, render, template_error

BACKEND, FRONTEND = "todo-app-backend", "todo-app-frontend"

# Settings the chart leaves to the image's defaults or sets elsewhere, each with the reason.
BACKEND_SETTINGS_NOT_RENDERED = {
    "SQLITE_PATH": "development only: in Kubernetes DATABASE_URL is always set",
    "RUN_MIGRATIONS_ON_STARTUP": "the chart migrates in an init container, never in the server",
    "JWT_EXPIRE_MINUTES": "session lifetime, not a limit on clients; backend.extraEnv sets it",
    "LOG_LEVEL": "backend.extraEnv sets it",
    "OPENAI_TIMEOUT_SECONDS": "every model call passes CHAT_MODEL_CALL_TIMEOUT_SECONDS instead",
}
FRONTEND_SETTINGS_NOT_RENDERED = {
    "NODE_ENV": "set by Next itself",
    "NEXT_RUNTIME": "set by Next itself",
}


def containers(docs: list[Manifest], name: str) -> list[dict[str, Any]]:
    pod = one(docs, "Deployment", name)["spec"]["template"]["spec"]
    return [*pod.get("initContainers", []), *pod["containers"]]


def plain_env(container: dict[str, Any]) -> dict[str, str]:
    return {name: item["value"] for name, item in env_of(container).items() if "value" in item}


def backend_settings() -> set[str]:
    """The fields of backend/app/core/config.py's Settings class."""
    tree = ast.parse((REPO_ROOT / "backend/app/core/config.py").read_text())
    (settings,) = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Settings"]
    return {
        node.target.id
        for node in settings.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id.isupper()
    }


def frontend_settings() -> set[str]:
    """Every `env.NAME` / `process.env.NAME` the frontend's server code reads."""
    names: set[str] = set()
    for folder in ("lib", "app", "instrumentation.ts", "middleware.ts"):
        path = REPO_ROOT / "frontend" / folder
        files = [path] if path.is_file() else [*path.rglob("*.ts"), *path.rglob("*.tsx")]
        for source in files:
            names |= set(re.findall(r"\benv\.([A-Z][A-Z0-9_]*)\b", source.read_text()))
    return names


def test_every_backend_setting_is_rendered_or_named_as_left_out(default_docs: list[Manifest]) -> None:
    settings = backend_settings()
    assert {"MAX_BODY_BYTES", "CHAT_TURN_DEADLINE_SECONDS"} <= settings, (
        "the Settings parser found too little"
    )
    rendered = {name for c in containers(default_docs, BACKEND) for name in env_of(c)}
    assert sorted(settings - rendered - set(BACKEND_SETTINGS_NOT_RENDERED)) == []
    assert sorted(set(BACKEND_SETTINGS_NOT_RENDERED) - settings) == [], "stale exemptions"


def test_every_frontend_setting_is_rendered_or_named_as_left_out(default_docs: list[Manifest]) -> None:
    settings = frontend_settings()
    assert {"MAX_BODY_BYTES", "PROXY_CHAT_TIMEOUT_MS"} <= settings, "the env parser found too little"
    rendered = {name for c in containers(default_docs, FRONTEND) for name in env_of(c)}
    assert sorted(settings - rendered - set(FRONTEND_SETTINGS_NOT_RENDERED)) == []


def test_default_limits_are_the_apps_defaults_as_plain_numbers(default_docs: list[Manifest]) -> None:
    backend = plain_env(containers(default_docs, BACKEND)[-1])
    assert {
        k: backend[k] for k in ("MAX_BODY_BYTES", "CHAT_HISTORY_MAX_CHARS", "CHAT_TURN_DEADLINE_SECONDS")
    } == {
        # 1048576 would print as 1.048576e+06 without the int64 conversion.
        "MAX_BODY_BYTES": "1048576",
        "CHAT_HISTORY_MAX_CHARS": "16000",
        "CHAT_TURN_DEADLINE_SECONDS": "45",
    }
    frontend = plain_env(containers(default_docs, FRONTEND)[-1])
    assert (frontend["MAX_BODY_BYTES"], frontend["PROXY_CHAT_TIMEOUT_MS"], frontend["ALLOWED_ORIGINS"]) == (
        "1048576",
        "60000",
        "",
    )


BACKEND_VALUES = {
    "maxBodyBytes": ("MAX_BODY_BYTES", "4194304", "4194304"),
    "loginRatePerClient": ("LOGIN_RATE_LIMIT_PER_CLIENT", "7/minute", "7/minute"),
    "loginRatePerAccount": ("LOGIN_RATE_LIMIT_PER_ACCOUNT", "3 per 15 minutes", "3 per 15 minutes"),
    "registerRatePerClient": ("REGISTER_RATE_LIMIT_PER_CLIENT", "2/hour", "2/hour"),
    "passwordHashConcurrency": ("PASSWORD_HASH_CONCURRENCY", "3", "3"),
    "chatMaxConcurrentPerUser": ("CHAT_MAX_CONCURRENT_PER_USER", "1", "1"),
    "chatMaxConcurrentPerPod": ("CHAT_MAX_CONCURRENT_PER_POD", "35", "35"),
    "chatHistoryMaxMessages": ("CHAT_HISTORY_MAX_MESSAGES", "1000", "1000"),
    "chatHistoryMaxChars": ("CHAT_HISTORY_MAX_CHARS", "1000000", "1000000"),
    "chatModelCallTimeoutSeconds": ("CHAT_MODEL_CALL_TIMEOUT_SECONDS", "12.5", "12.5"),
    "chatTurnDeadlineSeconds": ("CHAT_TURN_DEADLINE_SECONDS", "20", "20"),
    "agentMaxIterations": ("AGENT_MAX_ITERATIONS", "50", "50"),
}


def test_backend_limits_reach_the_server_and_its_migration() -> None:
    # --set-json: `--set` reads 12.5 as a string (it only converts integers and booleans).
    args = ["--set", JWT]
    for key, (_, given, _) in BACKEND_VALUES.items():
        number = given.replace(".", "", 1).isdigit()
        args += ["--set-json", f"backend.limits.{key}={given if number else json.dumps(given)}"]
    docs = render(*args)
    expected = {env: rendered for env, _, rendered in BACKEND_VALUES.values()}
    for container in containers(docs, BACKEND):
        env = plain_env(container)
        assert {name: env.get(name) for name in expected} == expected, container["name"]


def test_frontend_limits_reach_the_server() -> None:
    docs = render(
        "--set",
        JWT,
        "--set",
        "frontend.limits.maxBodyBytes=2048",
        "--set",
        "frontend.limits.proxyChatTimeoutMs=90000",
        "--set",
        "frontend.limits.allowedOrigins={https://todo.example.com,http://localhost:3000}",
    )
    env = plain_env(containers(docs, FRONTEND)[-1])
    assert (env["MAX_BODY_BYTES"], env["PROXY_CHAT_TIMEOUT_MS"], env["ALLOWED_ORIGINS"]) == (
        "2048",
        "90000",
        "https://todo.example.com,http://localhost:3000",
    )


def test_extra_env_comes_after_the_limits_so_it_can_override_them() -> None:
    docs = render(
        "--set",
        JWT,
        "--set",
        "backend.extraEnv[0].name=MAX_BODY_BYTES",
        "--set-string",
        "backend.extraEnv[0].value=2048",
    )
    names = [item["name"] for item in containers(docs, BACKEND)[-1]["env"]]
    assert names.count("MAX_BODY_BYTES") == 2
    assert containers(docs, BACKEND)[-1]["env"][-1] == {"name": "MAX_BODY_BYTES", "value": "2048"}


# --- the chat deadlines across the two components ----------------------------------------------


@pytest.mark.parametrize(
    ("deadline", "timeout"),
    [("60", "60000"), ("61", "60000"), ("45", "30000"), ("9.5", "9500")],
)
def test_a_turn_deadline_not_below_the_proxy_timeout_is_refused(
    helm: str, deadline: str, timeout: str
) -> None:
    stderr = template_error(
        "--set",
        JWT,
        "--set-json",
        f"backend.limits.chatTurnDeadlineSeconds={deadline}",
        "--set",
        f"frontend.limits.proxyChatTimeoutMs={timeout}",
    )
    assert (
        f"backend.limits.chatTurnDeadlineSeconds ({deadline} s) must stay below "
        f"frontend.limits.proxyChatTimeoutMs ({timeout} ms)"
    ) in stderr
    assert "Lower the deadline or raise the proxy timeout" in stderr


def test_a_turn_deadline_just_below_the_proxy_timeout_is_accepted(helm: str) -> None:
    docs = render(
        "--set",
        JWT,
        "--set-json",
        "backend.limits.chatTurnDeadlineSeconds=59.5",
        "--set",
        "frontend.limits.proxyChatTimeoutMs=60000",
    )
    assert plain_env(containers(docs, BACKEND)[-1])["CHAT_TURN_DEADLINE_SECONDS"] == "59.5"


# --- bounds and formats -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "where", "why"),
    [
        ("backend.limits.maxBodyBytes=100", "/backend/limits/maxBodyBytes", "minimum"),
        ("frontend.limits.maxBodyBytes=1e9", "/frontend/limits/maxBodyBytes", "maximum"),
        ("backend.limits.passwordHashConcurrency=0", "/backend/limits/passwordHashConcurrency", "minimum"),
        ("backend.limits.chatMaxConcurrentPerPod=36", "/backend/limits/chatMaxConcurrentPerPod", "maximum"),
        ("backend.limits.chatHistoryMaxMessages=2.5", "/backend/limits/chatHistoryMaxMessages", "integer"),
        (
            "backend.limits.chatTurnDeadlineSeconds=0",
            "/backend/limits/chatTurnDeadlineSeconds",
            "exclusiveMinimum",
        ),
        (
            "backend.limits.chatModelCallTimeoutSeconds=601",
            "/backend/limits/chatModelCallTimeoutSeconds",
            "maximum",
        ),
        ("backend.limits.agentMaxIterations=51", "/backend/limits/agentMaxIterations", "maximum"),
        ("frontend.limits.proxyChatTimeoutMs=60", "/frontend/limits/proxyChatTimeoutMs", "minimum"),
    ],
)
def test_out_of_bounds_limits_are_refused_by_the_schema(helm: str, value: str, where: str, why: str) -> None:
    stderr = template_error("--set", JWT, "--set-json", value)
    assert where in stderr
    assert why in stderr


def test_a_fraction_given_with_set_is_refused_as_a_string(helm: str) -> None:
    """`--set` makes 12.5 a string; the schema says so rather than the backend failing later."""
    stderr = template_error("--set", JWT, "--set", "backend.limits.chatTurnDeadlineSeconds=12.5")
    assert "/backend/limits/chatTurnDeadlineSeconds': got string, want number" in stderr


@pytest.mark.parametrize("rate", ["30", "30/fortnight", "0/minute", "30/minute,5/second", "lots"])
def test_a_rate_limit_that_is_not_one_count_per_period_is_refused(helm: str, rate: str) -> None:
    stderr = template_error(
        "--set", JWT, "--set-json", f"backend.limits.loginRatePerClient={json.dumps(rate)}"
    )
    assert "/backend/limits/loginRatePerClient" in stderr
    assert "does not match pattern" in stderr


@pytest.mark.parametrize(
    "origin", ["todo.example.com", "https://todo.example.com/app", "https://a.com,https://b.com"]
)
def test_an_allowed_origin_that_is_not_scheme_host_port_is_refused(helm: str, origin: str) -> None:
    stderr = template_error("--set", JWT, "--set-json", f'frontend.limits.allowedOrigins=["{origin}"]')
    assert "/frontend/limits/allowedOrigins/0" in stderr


def test_a_misspelt_limit_is_refused(helm: str) -> None:
    stderr = template_error("--set", JWT, "--set", "backend.limits.maxBodySize=2048")
    assert "additional properties 'maxBodySize' not allowed" in stderr


# --- whose X-Forwarded-For each component believes ---------------------------------------------


def test_the_backend_trusts_the_pod_network_and_the_frontend_trusts_no_one_by_default(
    default_docs: list[Manifest],
) -> None:
    for container in containers(default_docs, BACKEND):
        assert plain_env(container)["TRUSTED_PROXIES"] == "10.244.0.0/16"
    assert plain_env(containers(default_docs, FRONTEND)[-1])["TRUSTED_PROXIES"] == ""


def test_trusted_proxies_are_rendered_comma_separated() -> None:
    docs = render(
        "--set",
        JWT,
        "--set",
        "backend.trustedProxies={10.42.0.0/16,fd00::/8}",
        "--set",
        "frontend.trustedProxies={10.43.1.5}",
    )
    assert plain_env(containers(docs, BACKEND)[-1])["TRUSTED_PROXIES"] == "10.42.0.0/16,fd00::/8"
    assert plain_env(containers(docs, FRONTEND)[-1])["TRUSTED_PROXIES"] == "10.43.1.5"


def test_trusting_proxies_without_network_policies_is_refused(helm: str) -> None:
    stderr = template_error("--set", JWT, "--set", "networkPolicy.enabled=false")
    assert "backend.trustedProxies (10.244.0.0/16) is set but networkPolicy.enabled is false" in stderr
    assert "--set-json 'backend.trustedProxies=[]'" in stderr


@pytest.mark.parametrize("entry", ["*", "0.0.0.0/33", "frontend", "10.244.0.0/16,10.0.0.0/8", "256.1.1.1"])
def test_a_trusted_proxy_that_is_not_an_address_or_network_is_refused(helm: str, entry: str) -> None:
    stderr = template_error("--set", JWT, "--set-json", f'backend.trustedProxies=["{entry}"]')
    assert "/backend/trustedProxies/0" in stderr


def test_the_frontend_service_can_keep_the_browsers_address(default_docs: list[Manifest]) -> None:
    assert one(default_docs, "Service", FRONTEND)["spec"]["externalTrafficPolicy"] == "Cluster"
    local = render("--set", JWT, "--set", "frontend.service.externalTrafficPolicy=Local")
    assert one(local, "Service", FRONTEND)["spec"]["externalTrafficPolicy"] == "Local"
    cluster_ip = render(
        "--set", JWT, "--set", "frontend.service.type=ClusterIP", "--set", "frontend.service.nodePort=null"
    )
    assert "externalTrafficPolicy" not in one(cluster_ip, "Service", FRONTEND)["spec"]
