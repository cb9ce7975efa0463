"""What a batch host does at first boot: install the CloudWatch agent and the settlement worker.

The hosts have no internet path. The packages (``amazon-cloudwatch-agent``, ``python3-boto3``,
``openssl``) come from the image's own repositories, which are S3 buckets reached through the VPC's
S3 gateway endpoint (``application.os_repository_buckets``, readable through the endpoint policy).
The worker is ``batch/worker.py`` itself, carried in the user data compressed, so the hosts run
exactly the code its tests run. It runs as an unprivileged ``settlement`` user under systemd
(restarted if it exits), serves its health check on ``application.batch_port`` with a certificate
made at boot (the load balancer does not verify target certificates), and reads its settings from
an environment file. The agent publishes memory and disk use per Auto Scaling group, which the
memory alarm reads.

The script stops at the first failing command (``set -euo pipefail``): a host that could not
install what it needs never passes its health check, and the group replaces it.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, replace
from pathlib import Path

from shared_constructs.cdk import Fn

WORKER_SOURCE = Path(__file__).resolve().parents[2] / "batch" / "worker.py"
"""The worker the hosts run (tested in ``tests/handlers/test_batch_worker.py``)."""
INSTALL_DIR = "/opt/settlement"
"""Where the worker lives on each batch host (Amazon Linux; ``/opt/<package>`` per the FHS): a path
of the deployed instances, written into their user data, never read on the machine that synthesizes."""
SERVICE = "settlement-worker"
ENVIRONMENT_FILE = f"/etc/{SERVICE}.env"
AGENT_CONFIG_PATH = "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json"
PACKAGES = ("amazon-cloudwatch-agent", "python3-boto3", "openssl")
AGENT_NAMESPACE = "CWAgent"
AGENT_CONFIG = {
    "metrics": {
        "namespace": AGENT_NAMESPACE,
        "append_dimensions": {"AutoScalingGroupName": "${aws:AutoScalingGroupName}"},
        "aggregation_dimensions": [["AutoScalingGroupName"]],
        "metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}, "disk": {"measurement": ["used_percent"]}},
    }
}
"""Memory and disk use per Auto Scaling group (the agent reads the group's name from the instance's
tags, hence ``ec2:DescribeTags`` on the host role)."""
UNIT = f"""[Unit]
Description=Settlement worker: payment queue to the settlement bucket
After=network-online.target
Wants=network-online.target

[Service]
User=settlement
EnvironmentFile={ENVIRONMENT_FILE}
ExecStart=/usr/bin/python3 {INSTALL_DIR}/worker.py
Restart=always
RestartSec=5
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=true
PrivateTmp=true

[Install]
WantedBy=multi-user.target
"""


@dataclass(frozen=True, kw_only=True)
class WorkerEnvironment:
    """The worker's settings (``batch/worker.py``, "Environment"); values may be Terraform references."""

    queue_url: str
    output_bucket: str
    output_key_arn: str
    output_prefix: str
    max_receives: int
    health_port: int
    region: str

    def lines(self) -> list[str]:
        return [
            f"QUEUE_URL={self.queue_url}",
            f"OUTPUT_BUCKET={self.output_bucket}",
            f"OUTPUT_KEY_ARN={self.output_key_arn}",
            f"OUTPUT_PREFIX={self.output_prefix}",
            f"MAX_RECEIVES={self.max_receives}",
            f"HEALTH_PORT={self.health_port}",
            f"HEALTH_CERT={INSTALL_DIR}/health.crt",
            f"HEALTH_KEY={INSTALL_DIR}/health.key",
            f"AWS_REGION={self.region}",
            f"AWS_DEFAULT_REGION={self.region}",
        ]


def packed(text: str) -> str:
    """``text`` gzip-compressed and base64-encoded: one line the script unpacks with ``base64 -d | gunzip``."""
    return base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()


def unpack(blob: str) -> str:
    """The inverse of :func:`packed` (tests read the files back out of the user data)."""
    return gzip.decompress(base64.b64decode(blob)).decode()


def script(environment: WorkerEnvironment) -> str:
    """The first-boot script (before Terraform resolves the references in ``environment``)."""
    files = {
        f"{INSTALL_DIR}/worker.py": WORKER_SOURCE.read_text(encoding="utf-8"),
        AGENT_CONFIG_PATH: json.dumps(AGENT_CONFIG, indent=2) + "\n",
        f"/etc/systemd/system/{SERVICE}.service": UNIT,
    }
    writes = [f"echo '{packed(content)}' | base64 -d | gunzip > {path}" for path, content in files.items()]
    body = "\n".join(
        [
            "#!/bin/bash",
            "set -euo pipefail",
            "# Packages from the image's repositories, through the S3 gateway endpoint (no internet path).",
            f"dnf install -y {' '.join(PACKAGES)}",
            f"useradd --system --home-dir {INSTALL_DIR} --shell /sbin/nologin settlement",
            f"install -d -m 0750 -o root -g settlement {INSTALL_DIR}",
            *writes,
            f"cat > {ENVIRONMENT_FILE} <<'ENV'",
            *environment.lines(),
            "ENV",
            f"chmod 0640 {ENVIRONMENT_FILE}",
            "# The health endpoint's certificate: the load balancer encrypts to targets but does not verify them.",
            "openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj /CN=settlement-worker "
            f"-keyout {INSTALL_DIR}/health.key -out {INSTALL_DIR}/health.crt",
            f"chown settlement:settlement {INSTALL_DIR}/health.key {INSTALL_DIR}/health.crt",
            f"chmod 0600 {INSTALL_DIR}/health.key",
            "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s "
            f"-c file:{AGENT_CONFIG_PATH}",
            "systemctl daemon-reload",
            f"systemctl enable --now {SERVICE}.service",
            "",
        ]
    )
    return body


def user_data(environment: WorkerEnvironment) -> str:
    """The launch template's ``user_data``: the script, base64-encoded by Terraform once the
    references in ``environment`` are resolved."""
    text = script(environment)
    static = script(
        replace(environment, queue_url="x", output_bucket="x", output_key_arn="x", output_prefix="x", region="x")
    )
    # Terraform reads "${" and "%{" in a string as template syntax: only the references may carry them.
    if "${" in static or "%{" in static:
        raise ValueError("the batch hosts' first-boot script may not contain '${' or '%{' outside references")
    return str(Fn.base64encode(text))
