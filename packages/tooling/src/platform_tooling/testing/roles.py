"""Run a deployed Lambda function's handler in the test process, as its deployed role.

:func:`run_handler` reads the function's configuration from the emulator (environment variables,
role, handler), assumes the role, and calls the handler from the package's
``lambdas/<folder>/`` with an event: its boto3 clients reach the emulator with the role's
temporary credentials, and IAM is enforced while integration tests run, so a call the role
may not make fails with AccessDenied as it would in production. Environment values that name an
AWS service endpoint (``https://<service>.<region>.amazonaws.com``) are pointed at the emulator,
as the function's network would resolve them to the service.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from platform_tooling.testing.handlers import load_handler

if TYPE_CHECKING:
    from platform_tooling.testing.deployment import Deployment

_AWS_ENDPOINT = re.compile(r"^https://[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com/?$")
_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@dataclass(frozen=True)
class Invocation:
    """What a handler run as its deployed role returned, and as whom it ran."""

    result: Any
    function: str
    role_arn: str
    environment: dict[str, str]


class _Context:
    """The parts of the Lambda context object the platform's handlers may read."""

    def __init__(self, name: str, arn: str) -> None:
        self.function_name = name
        self.invoked_function_arn = arn
        self.aws_request_id = "emulator-invocation"
        self.memory_limit_in_mb = 128

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Replace the process environment's AWS settings with ``values`` (restored afterwards);
    boto3's default session is reset so that clients read the new credentials and region."""
    saved = dict(os.environ)
    saved_session = boto3.DEFAULT_SESSION
    for name in [n for n in os.environ if n.startswith("AWS_") or n in _CLEARED]:
        del os.environ[name]
    os.environ.update(values)
    boto3.DEFAULT_SESSION = None
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        boto3.DEFAULT_SESSION = saved_session


def run_handler(
    deployment: Deployment,
    function: str,
    event: Any,
    *,
    folder: str,
    region: str | None = None,
    role_arn: str | None = None,
) -> Invocation:
    """Call the handler in ``lambdas/<folder>/`` of ``deployment``'s package with ``event``, as the
    deployed function ``function`` (a name, an ARN, or the name of an output holding either) would.

    ``region`` defaults to the ARN's region, else the package's first region. ``role_arn``: the
    deployment role the function is read through when it lives in another account. Exceptions the
    handler raises (an AccessDenied among them) propagate to the test.
    """
    target = str(deployment.outputs.get(function, function))
    if target.startswith("arn:") and region is None:
        region = target.split(":")[3]
    region = region or deployment.region
    configuration = deployment.client("lambda", region, role_arn).get_function_configuration(FunctionName=target)
    variables = dict(configuration.get("Environment", {}).get("Variables", {}))
    emulator = deployment.emulator
    variables = {k: emulator.endpoint if _AWS_ENDPOINT.match(v) else v for k, v in variables.items()}
    credentials = emulator.credentials(configuration["Role"], region, configuration["FunctionName"])
    module_name, _, entry = configuration["Handler"].rpartition(".")
    values = {
        **variables,
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ENDPOINT_URL": emulator.endpoint,
        "AWS_LAMBDA_FUNCTION_NAME": configuration["FunctionName"],
    }
    with _environment(values):
        module = load_handler(deployment.directory / "lambdas" / folder, module_name)
        context = _Context(configuration["FunctionName"], configuration["FunctionArn"])
        result = getattr(module, entry)(event, context)
    return Invocation(result, configuration["FunctionName"], configuration["Role"], variables)
