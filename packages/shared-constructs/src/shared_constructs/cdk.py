"""The one place the platform imports the CDKTF core.

Apps import these names from here, so that moving to a successor of CDKTF (for example CDK
Terrain) is a change of this module, not of every app.
"""

from __future__ import annotations

from cdktf import (
    App,
    DataTerraformRemoteStateLocal,
    DataTerraformRemoteStateS3,
    Fn,
    IResolvable,
    ITerraformDependable,
    LocalBackend,
    Op,
    Postcondition,
    Precondition,
    S3Backend,
    TerraformAsset,
    TerraformLocal,
    TerraformOutput,
    TerraformResource,
    TerraformResourceLifecycle,
    TerraformSelf,
    TerraformStack,
    TerraformVariable,
    TerraformVariableValidationConfig,
    Token,
)
from cdktf import (
    AssetType as AssetType,
)
from constructs import Construct, Node

__all__ = [
    "App",
    "AssetType",
    "Construct",
    "DataTerraformRemoteStateLocal",
    "DataTerraformRemoteStateS3",
    "Fn",
    "IResolvable",
    "ITerraformDependable",
    "LocalBackend",
    "Node",
    "Op",
    "Postcondition",
    "Precondition",
    "S3Backend",
    "TerraformAsset",
    "TerraformLocal",
    "TerraformOutput",
    "TerraformResource",
    "TerraformResourceLifecycle",
    "TerraformSelf",
    "TerraformStack",
    "TerraformVariable",
    "TerraformVariableValidationConfig",
    "Token",
]
