"""The batch tier does its job: the worker and the CloudWatch agent installed at boot, reachable only
from the load balancer, writing only settlement records, with the packages it needs reachable."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest
from pci_platform import host_setup
from platform_tooling.testing.query import name_of, only, resources, statements

GROUP = "pci-platform-batch-apse1-dev"
REFERENCE = re.compile(r"\$\{([a-z0-9_]+\.[A-Za-z0-9_]+\.[a-z_]+)\}")


def boot_script(stack: dict[str, Any]) -> str:
    """The launch template's first-boot script, as Terraform renders it before base64encode."""
    (template,) = resources(stack, "aws_launch_template").values()
    expression = template["user_data"]
    assert expression.startswith('${base64encode("'), expression[:40]
    assert expression.endswith('")}'), expression[-40:]
    return str(json.loads(expression.removeprefix("${base64encode(").removesuffix(")}")))


def unpacked(script: str) -> dict[str, str]:
    """Files the script writes from packed blobs, by path."""
    found = re.findall(r"^echo '([A-Za-z0-9+/=]+)' \| base64 -d \| gunzip > (\S+)$", script, flags=re.M)
    return {path: host_setup.unpack(blob) for blob, path in found}


def environment(script: str) -> dict[str, str]:
    block = script.split("<<'ENV'\n", 1)[1].split("\nENV\n", 1)[0]
    return dict(line.split("=", 1) for line in block.splitlines())


@pytest.mark.requirement("SEC-2")
def test_hosts_run_exactly_the_tested_worker_under_systemd(stack: dict[str, Any]) -> None:
    script = boot_script(stack)
    files = unpacked(script)
    assert files[f"{host_setup.INSTALL_DIR}/worker.py"] == host_setup.WORKER_SOURCE.read_text(encoding="utf-8")
    unit = files["/etc/systemd/system/settlement-worker.service"]
    assert "User=settlement" in unit
    assert f"ExecStart=/usr/bin/python3 {host_setup.INSTALL_DIR}/worker.py" in unit
    assert "Restart=always" in unit
    assert script.startswith("#!/bin/bash\nset -euo pipefail\n")
    assert "dnf install -y amazon-cloudwatch-agent python3-boto3 openssl\n" in script
    assert script.rstrip().endswith("systemctl enable --now settlement-worker.service")


def test_boot_script_is_valid_bash_and_fits_the_user_data_limit(stack: dict[str, Any]) -> None:
    script = boot_script(stack)
    # Terraform resolves each reference to an ARN, URL or name: 200 characters is more than any.
    resolved = REFERENCE.sub("x" * 200, script)
    assert len(resolved.encode()) < 16 * 1024, "EC2 refuses user data over 16 KB"
    bash = shutil.which("bash")
    assert bash is not None
    checked = subprocess.run([bash, "-n"], input=resolved, text=True, capture_output=True, check=False)
    assert checked.returncode == 0, checked.stderr


def test_worker_settings_point_at_the_payment_queue_and_the_processed_bucket(stack: dict[str, Any]) -> None:
    env = environment(boot_script(stack))
    queue = name_of(stack, "aws_sqs_queue", name="pci-platform-payments-apse1-dev")
    bucket = name_of(stack, "aws_s3_bucket", bucket="pci-platform-processed-data-apse1-dev")
    encryption = [
        c
        for c in resources(stack, "aws_s3_bucket_server_side_encryption_configuration").values()
        if c["bucket"] == f"${{aws_s3_bucket.{bucket}.id}}"
    ]
    assert len(encryption) == 1
    key = encryption[0]["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"]
    redrive = json.loads(only(stack, "aws_sqs_queue", name="pci-platform-payments-apse1-dev")["redrive_policy"])
    assert env == {
        "QUEUE_URL": f"${{aws_sqs_queue.{queue}.url}}",
        "OUTPUT_BUCKET": f"${{aws_s3_bucket.{bucket}.id}}",
        "OUTPUT_KEY_ARN": key,
        "OUTPUT_PREFIX": "settlement/",
        "MAX_RECEIVES": str(redrive["maxReceiveCount"]),
        "HEALTH_PORT": "8443",
        "HEALTH_CERT": f"{host_setup.INSTALL_DIR}/health.crt",
        "HEALTH_KEY": f"{host_setup.INSTALL_DIR}/health.key",
        "AWS_REGION": "ap-southeast-1",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
    }


@pytest.mark.requirement("SEC-5")
def test_agent_publishes_the_memory_metric_the_alarm_reads(stack: dict[str, Any]) -> None:
    agent = json.loads(unpacked(boot_script(stack))[host_setup.AGENT_CONFIG_PATH])["metrics"]
    alarm = only(stack, "aws_cloudwatch_metric_alarm", metric_name="mem_used_percent")
    assert agent["namespace"] == alarm["namespace"]
    assert agent["metrics_collected"]["mem"]["measurement"] == ["mem_used_percent"]
    assert agent["append_dimensions"] == {"AutoScalingGroupName": "${aws:AutoScalingGroupName}"}
    assert list(alarm["dimensions"]) == ["AutoScalingGroupName"]
    assert only(stack, "aws_autoscaling_group", name=GROUP)


def test_only_the_load_balancer_reaches_the_hosts_on_the_worker_port(stack: dict[str, Any]) -> None:
    hosts = only(stack, "aws_security_group", name="pci-platform-batch-host-apse1-dev")
    alb = name_of(stack, "aws_security_group", name="pci-platform-payment-alb-apse1-dev")
    assert [(r["protocol"], r["from_port"], r["to_port"], r["security_groups"]) for r in hosts["ingress"]] == [
        ("tcp", 8443, 8443, [f"${{aws_security_group.{alb}.id}}"])
    ]
    assert not any(r.get("cidr_blocks") for r in hosts["ingress"])
    target = only(stack, "aws_lb_target_group", port=8443)
    assert (target["health_check"]["path"], target["health_check"]["protocol"]) == ("/health", "HTTPS")


def test_host_role_writes_only_settlement_records(stack: dict[str, Any]) -> None:
    policy = only(stack, "aws_iam_policy", name="pci-platform-batch-host-apse1-dev")
    bucket = name_of(stack, "aws_s3_bucket", bucket="pci-platform-processed-data-apse1-dev")
    writes = [s for s in statements(policy) if any(str(a).startswith("s3:") for a in _actions(s))]
    assert [(sorted(_actions(s)), s["Resource"]) for s in writes] == [
        (["s3:AbortMultipartUpload", "s3:PutObject"], f"${{aws_s3_bucket.{bucket}.arn}}/settlement/*")
    ]


def test_s3_endpoint_lets_the_hosts_read_the_image_repositories(stack: dict[str, Any]) -> None:
    (endpoint,) = [e for e in resources(stack, "aws_vpc_endpoint").values() if e["service_name"].endswith(".s3")]
    read = [s for s in statements(endpoint) if s["Sid"] == "ReadNamedBuckets"]
    assert [(s["Action"], s["Resource"]) for s in read] == [
        ("s3:GetObject", "arn:aws:s3:::al2023-repos-ap-southeast-1-de612dc2/*")
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_boot_script_refuses_template_syntax_outside_references(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = host_setup.WorkerEnvironment(
        queue_url="${aws_sqs_queue.q.url}",
        output_bucket="b",
        output_key_arn="k",
        output_prefix="settlement/",
        max_receives=5,
        health_port=8443,
        region="ap-southeast-1",
    )
    assert host_setup.user_data(environment)
    monkeypatch.setattr(host_setup, "UNIT", host_setup.UNIT + "Environment=HOME=${HOME}\n")
    # The unit is packed, so it cannot leak template syntax; a plain line of the script can.
    assert host_setup.user_data(environment)
    monkeypatch.setattr(host_setup, "ENVIRONMENT_FILE", "/etc/${x}.env")
    with pytest.raises(ValueError, match=r"may not contain '\$\{' or '%\{' outside references"):
        host_setup.user_data(environment)
