"""The backend's egress follows its endpoints: the database and the model endpoint, each on its
own port and to its own peer, plus the explicit extra rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chart_helpers import JWT, Manifest, one, render, template_error

BACKEND = "todo-app-backend"
PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]
INTERNET = {"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE}}
DNS = {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}


def egress(docs: list[Manifest]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = one(docs, "NetworkPolicy", BACKEND)["spec"]["egress"]
    return rules


def rule_for(docs: list[Manifest], port: int) -> dict[str, Any]:
    (rule,) = [r for r in egress(docs) if any(p["port"] == port for p in r["ports"])]
    return rule


def tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"port": port, "protocol": "TCP"} for port in ports]


def test_default_egress_is_dns_the_embedded_database_and_https_to_the_internet(
    default_docs: list[Manifest],
) -> None:
    rules = egress(default_docs)
    assert rules[0] == DNS
    database, model = rules[1:]
    assert database["ports"] == tcp(5432)
    assert database["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "database"
    # api.openai.com: a DNS name, so any public address, but on 443 only and never a private range.
    assert model == {"to": [INTERNET], "ports": tcp(443)}


@pytest.mark.parametrize(
    ("url", "peer", "port"),
    [
        (
            "http://llm.models.svc:8000/v1",
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "models"}}},
            8000,
        ),
        (
            "http://vllm.gpu.svc.cluster.local/v1",
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gpu"}}},
            80,
        ),
        ("http://llm:9000/v1", {"podSelector": {}}, 9000),
        ("http://10.1.2.3:8080/v1", {"ipBlock": {"cidr": "10.1.2.3/32"}}, 8080),
        ("https://[2001:db8::5]:8443/v1", {"ipBlock": {"cidr": "2001:db8::5/128"}}, 8443),
        ("https://models.example.com/v1", INTERNET, 443),
        ("https://Models.Example.com:9443", INTERNET, 9443),
    ],
)
def test_model_endpoint_egress_follows_the_base_url(url: str, peer: dict[str, Any], port: int) -> None:
    docs = render("--set", JWT, "--set", f"backend.config.openaiBaseUrl={url}")
    model = egress(docs)[2]
    assert model == {"to": [peer], "ports": tcp(port)}
    if port != 443:
        assert 443 not in {p["port"] for rule in egress(docs) for p in rule["ports"]}, "443 stays closed"


def test_external_database_egress_follows_its_url_without_printing_it() -> None:
    url = "postgresql://todo:p@ss/w?rd@db.example.com:6543/todo?sslmode=require"
    docs = render("--set", JWT, "--set", f"secrets.databaseUrl={url}")
    database = egress(docs)[1]
    assert database == {"to": [INTERNET], "ports": tcp(6543)}
    policy_text = json.dumps(one(docs, "NetworkPolicy", BACKEND))
    assert "p@ss" not in policy_text


@pytest.mark.parametrize(
    ("url", "peer", "port"),
    [
        ("postgresql://u:p@10.0.9.4/todo", {"ipBlock": {"cidr": "10.0.9.4/32"}}, 5432),
        (
            "postgres://u:p@pg.data.svc.cluster.local:5433/todo",
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "data"}}},
            5433,
        ),
    ],
)
def test_external_database_in_the_cluster_or_at_an_address(url: str, peer: dict[str, Any], port: int) -> None:
    docs = render("--set", JWT, "--set", f"secrets.databaseUrl={url}")
    assert egress(docs)[1] == {"to": [peer], "ports": tcp(port)}


def test_database_behind_an_existing_secret_is_found_through_its_values() -> None:
    base = ("--set", "existingSecret=todo-env", "--set", "postgresql.enabled=false")
    # Nothing said: any address outside the cluster, on PostgreSQL's port.
    assert egress(render(*base))[1] == {"to": [INTERNET], "ports": tcp(5432)}
    docs = render(
        *base,
        "--set",
        "networkPolicy.externalDatabase.host=10.20.30.40",
        "--set",
        "networkPolicy.externalDatabase.port=6543",
    )
    assert egress(docs)[1] == {"to": [{"ipBlock": {"cidr": "10.20.30.40/32"}}], "ports": tcp(6543)}


def test_external_addresses_are_configurable() -> None:
    docs = render(
        "--set",
        JWT,
        "--set",
        "networkPolicy.externalCIDR=203.0.113.0/24",
        "--set-json",
        "networkPolicy.externalExcept=[]",
    )
    assert egress(docs)[2] == {"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}], "ports": tcp(443)}


def test_extra_egress_rules_reach_a_network_or_a_namespace_on_their_ports() -> None:
    extra = [
        {"cidr": "10.0.5.0/24", "except": ["10.0.5.128/25"], "ports": [6543, 6544]},
        {"namespace": "llm", "podLabels": {"app": "vllm"}, "ports": [8080], "protocol": "UDP"},
    ]
    docs = render("--set", JWT, "--set-json", f"networkPolicy.extraEgress={json.dumps(extra)}")
    assert egress(docs)[3:] == [
        {"to": [{"ipBlock": {"cidr": "10.0.5.0/24", "except": ["10.0.5.128/25"]}}], "ports": tcp(6543, 6544)},
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "llm"}},
                    "podSelector": {"matchLabels": {"app": "vllm"}},
                }
            ],
            "ports": [{"port": 8080, "protocol": "UDP"}],
        },
    ]


def test_no_rule_opens_a_port_to_every_address(default_docs: list[Manifest]) -> None:
    """Only DNS goes anywhere; every other rule names its peers."""
    for rule in egress(default_docs)[1:]:
        assert rule.get("to"), rule


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ([{"cidr": "10.0.5.0/24"}], "/networkPolicy/extraEgress/0"),
        ([{"cidr": "10.0.5.7", "ports": [6543]}], "/networkPolicy/extraEgress/0"),
        ([{"cidr": "10.0.5.0/24", "namespace": "llm", "ports": [1]}], "/networkPolicy/extraEgress/0"),
        ([{"namespace": "llm", "ports": [70000]}], "/networkPolicy/extraEgress/0"),
        ([{"namespace": "Not_A_Namespace", "ports": [80]}], "/networkPolicy/extraEgress/0"),
    ],
)
def test_malformed_extra_egress_is_refused(helm: str, extra: list[dict[str, Any]], where: str) -> None:
    stderr = template_error("--set", JWT, "--set-json", f"networkPolicy.extraEgress={json.dumps(extra)}")
    assert where in stderr


def test_an_external_database_host_that_nothing_uses_is_refused(helm: str) -> None:
    stderr = template_error("--set", JWT, "--set", "networkPolicy.externalDatabase.host=db.example.com")
    assert (
        'networkPolicy.externalDatabase.host "db.example.com" is set but the embedded PostgreSQL is used'
        in stderr
    )
    stderr = template_error(
        "--set",
        JWT,
        "--set",
        "secrets.databaseUrl=postgresql://u:p@a.example.com/db",
        "--set",
        "networkPolicy.externalDatabase.host=db.example.com",
    )
    assert "secrets.databaseUrl names the database, and its host is used" in stderr
