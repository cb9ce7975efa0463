"""One JSON snapshot per stack per environment (config/*.toml) of the deterministic synthesis
(review diffs; never update blindly). The tests are the platform's (platform_tooling.testing.snapshots).
The stacks are one per configured account and region, so each environment names its own."""

from __future__ import annotations

from platform_tooling.testing.snapshots import snapshot_tests

PLACES = {
    "dev": {
        "123456789012": ("us-east-1", "us-east-2", "eu-west-1", "ap-southeast-1"),
        "210987654321": ("us-east-2",),
    },
    "prod": {
        "111122223333": ("us-east-1", "eu-west-1", "ap-southeast-1"),
        "111111111111": ("us-east-1",),
        "222222222222": ("us-east-2",),
    },
}


def _stacks(environment: str) -> dict[str, str]:
    """Test id (the snapshot file's name) -> stack name, for every account and region, and the
    data-events stack of the environment's first (``account_id``) account."""
    places = PLACES[environment]
    return {
        **{
            f"{account}-{region}": f"security-baseline-{account}-{region}"
            for account, regions in places.items()
            for region in regions
        },
        "data-events": f"security-baseline-{next(iter(places))}-data-events",
    }


test_every_environment_file_is_snapshotted, test_stack_names, test_stack_matches_snapshot = snapshot_tests(
    "security-baseline",
    __name__,
    __file__,
    _stacks,
    # The sandbox deploys without pci-platform, whose buckets the data-events trail reads (dev.toml).
    only_in={"data-events": ("prod",)},
)
