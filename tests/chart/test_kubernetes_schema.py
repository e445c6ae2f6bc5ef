"""Every rendered manifest is valid against the Kubernetes 1.33 OpenAPI schemas (offline)."""

from __future__ import annotations

import kubernetes_validate
import pytest
from chart_helpers import KUBE_VERSION, Case, render


def test_schemas_for_the_target_release_are_available() -> None:
    # Fails loudly instead of silently validating against another release.
    kubernetes_validate.validate(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe"}},
        KUBE_VERSION,
        strict=True,
    )


def test_manifests_validate_strictly(case: Case) -> None:
    docs = render(*case.args())
    assert docs
    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {error.message} at {list(error.path)}")
    assert not errors, "\n".join(errors)


def test_validation_catches_a_broken_manifest() -> None:
    """The check above has teeth: a typo'd field fails strict validation."""
    deployment = next(
        d for d in render(*Case("d", ("secrets.jwtSecret=" + "x" * 32,)).args()) if d["kind"] == "Deployment"
    )
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Never"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBE_VERSION, strict=True)
