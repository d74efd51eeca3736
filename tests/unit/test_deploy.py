"""The Kubernetes manifests agree with the server and the image: probes on the gRPC health port,
a headless Service for per-call balancing, a termination grace that covers drain + grace, a
hardened pod (kubernetes-validate --strict and checkov: tests/system/test_manifests.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from newsbrief.service.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def _docs() -> dict[str, dict[str, Any]]:
    text = (REPO / "deploy" / "newsbrief.yaml").read_text(encoding="utf-8")
    return {d["kind"]: d for d in yaml.safe_load_all(text) if d}


def test_probes_use_grpc_health_on_the_served_port() -> None:
    pod = _docs()["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    port = int(env["NEWSBRIEF_PORT"])
    assert container["ports"][0]["containerPort"] == port
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["grpc"]["port"] == port
        assert "service" not in container[probe]["grpc"]  # "" = the whole server
    # every env var is a real setting
    settings = Settings(**{})
    for name in env:
        key = name.removeprefix("NEWSBRIEF_").lower().split("__")
        node: Any = settings
        for part in key:
            assert hasattr(node, part), name
            node = getattr(node, part)


def test_termination_grace_covers_drain_and_grace() -> None:
    pod = _docs()["Deployment"]["spec"]["template"]["spec"]
    env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
    drain = float(env["NEWSBRIEF_DRAIN_SECONDS"])
    grace = float(env["NEWSBRIEF_GRACE_SECONDS"])
    assert pod["terminationGracePeriodSeconds"] > drain + grace


def test_service_is_headless_for_per_call_balancing() -> None:
    assert _docs()["Service"]["spec"]["clusterIP"] == "None"


def test_pod_runs_as_the_images_user() -> None:
    pod = _docs()["Deployment"]["spec"]["template"]["spec"]
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    (user,) = re.findall(r"^USER\s+(\d+)", dockerfile, re.MULTILINE)
    assert pod["securityContext"]["runAsUser"] == int(user)
    assert pod["securityContext"]["runAsNonRoot"]


def test_pod_is_hardened() -> None:
    pod = _docs()["Deployment"]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["topologySpreadConstraints"]
    mounts: dict[str, dict[str, Any]] = {}
    for container in pod["containers"] + pod["initContainers"]:
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"]
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert not container["image"].endswith(":latest")
        mounts[container["name"]] = {m["mountPath"]: m for m in container["volumeMounts"]}
    # the writable places the read-only root needs: /tmp, and the models volume for the init step
    (server,) = pod["containers"]
    assert "/tmp" in mounts[server["name"]] and mounts[server["name"]]["/models"]["readOnly"]
    (init,) = pod["initContainers"]
    assert not mounts[init["name"]]["/models"].get("readOnly", False)
    volumes = {v["name"]: v for v in pod["volumes"]}
    claim = volumes["models"]["persistentVolumeClaim"]["claimName"]
    assert _docs()["PersistentVolumeClaim"]["metadata"]["name"] == claim


def test_readiness_tolerates_a_single_miss_and_hpa_scales_on_in_flight() -> None:
    (container,) = _docs()["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["failureThreshold"] >= 2
    env = {e["name"]: e["value"] for e in container["env"]}
    metrics_port = int(env["NEWSBRIEF_METRICS_PORT"])
    assert any(p["containerPort"] == metrics_port for p in container["ports"])
    hpa = _docs()["HorizontalPodAutoscaler"]["spec"]["metrics"]
    names = {m["pods"]["metric"]["name"] for m in hpa if m["type"] == "Pods"}
    assert names == {"newsbrief_requests_in_flight"}
    adapter = (REPO / "deploy" / "prometheus-adapter-values.yaml").read_text(encoding="utf-8")
    assert "newsbrief_requests_in_flight" in adapter
    assert {"PodDisruptionBudget", "NetworkPolicy"} <= set(_docs())
