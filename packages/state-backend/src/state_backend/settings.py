"""Settings of the state backend: its region and which team may touch which packages' state."""

from __future__ import annotations

from pydantic import Field, model_validator
from shared_constructs.settings import BaseSettings, Region, Strict


class TeamAccess(Strict):
    """One team's access to the state bucket, granted through one IAM policy of its own."""

    packages: list[str] = Field(min_length=1)
    """Packages whose state the team writes (keys ``<package>/...``, lock files included)."""
    reads: list[str] = Field(default_factory=list)
    """Producers whose published outputs the team's packages read (their state, read-only)."""


class Settings(BaseSettings):
    """Settings of the state-backend package."""

    region: Region = "us-east-1"
    """Region of the state bucket and its key (``STATE_REGION`` of every other package)."""
    noncurrent_version_days: int = Field(default=90, ge=1, le=3650)
    """Old versions of each state file are kept this long (a state file can be restored from them)."""
    teams: dict[str, TeamAccess] = Field(min_length=1)
    """Team name -> its access; one IAM policy per team, named after it."""

    @model_validator(mode="after")
    def _one_writer_per_package(self) -> Settings:
        owners: dict[str, str] = {}
        for team, access in sorted(self.teams.items()):
            for package in access.packages:
                if package in owners:
                    raise ValueError(
                        f"teams.{team}.packages: {package!r} is already written by team {owners[package]!r}"
                    )
                owners[package] = team
        return self
