"""One JSON snapshot per stack per environment (config/*.toml) of the deterministic synthesis
(review diffs; never update blindly). The tests are the platform's (platform_tooling.testing.snapshots)."""

from __future__ import annotations

from platform_tooling.testing.snapshots import snapshot_tests

test_every_environment_file_is_snapshotted, test_stack_names, test_stack_matches_snapshot = snapshot_tests(
    "state-backend", __name__, __file__, {"state-backend": "state-backend"}
)
