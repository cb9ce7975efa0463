"""One JSON snapshot per stack per environment (config/*.toml) of the deterministic synthesis
(review diffs; never update blindly). The tests are the platform's (platform_tooling.testing.snapshots)."""

from __future__ import annotations

from platform_tooling.testing.snapshots import snapshot_tests

REGIONS = ("us-east-1", "us-east-2", "eu-west-1", "ap-southeast-1")
test_every_environment_file_is_snapshotted, test_stack_names, test_stack_matches_snapshot = snapshot_tests(
    "security-baseline", __name__, __file__, {region: f"security-baseline-{region}" for region in REGIONS}
)
