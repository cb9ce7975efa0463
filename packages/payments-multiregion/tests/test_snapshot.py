"""One JSON snapshot per stack per environment (config/*.toml) of the deterministic synthesis
(review diffs; never update blindly). The tests are the platform's (platform_tooling.testing.snapshots)."""

from __future__ import annotations

from platform_tooling.testing.snapshots import snapshot_tests

STACKS = ("payments-global", "payments-us-east-1", "payments-eu-west-1", "payments-ap-southeast-1", "payments-links")
test_every_environment_file_is_snapshotted, test_stack_names, test_stack_matches_snapshot = snapshot_tests(
    "payments-multiregion", __name__, __file__, {s: s for s in STACKS}
)
