"""Lambda functions: deterministic code bundles, Python 3.12, tracing, encryption, sized concurrency."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import math
import os
import stat
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import (
    LambdaFunctionEventInvokeConfig,
    LambdaFunctionEventInvokeConfigDestinationConfig,
    LambdaFunctionEventInvokeConfigDestinationConfigOnFailure,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission

from shared_constructs.cdk import AssetType, Construct, TerraformAsset
from shared_constructs.context import AppContext
from shared_constructs.iam import Grantee, LeastPrivilegeRole, RoleProps, Statement, assume_role_policy
from shared_constructs.kms import DECRYPT, Key
from shared_constructs.logging import EncryptedLogGroup, LogGroupProps
from shared_constructs.messaging import EncryptedQueue
from shared_constructs.monitoring import Metric, Statistic
from shared_constructs.naming import Kind
from shared_constructs.policy.declare import declare_services
from shared_constructs.settings import BaseSettings

RUNTIME = "python3.12"
_EPOCH = (1980, 1, 1, 0, 0, 0)
_SKIP = {"__pycache__", ".pytest_cache", ".mypy_cache"}


class CapacityError(ValueError):
    """Configured concurrency cannot carry the declared load."""


def required_concurrency(target_tps: float, duration_s: float, headroom: float = 1.2) -> int:
    """Concurrent executions needed for ``target_tps`` at ``duration_s`` each (Little's law) with headroom."""
    if target_tps <= 0 or duration_s <= 0 or headroom < 1:
        raise ValueError(
            f"need target_tps > 0, duration_s > 0, headroom >= 1; got {target_tps}, {duration_s}, {headroom}"
        )
    return math.ceil(target_tps * duration_s * headroom)


def check_capacity(name: str, configured: int, target_tps: float, duration_s: float, headroom: float = 1.2) -> None:
    """Raise :class:`CapacityError` when ``configured`` concurrency cannot carry ``target_tps``."""
    needed = required_concurrency(target_tps, duration_s, headroom)
    if configured < needed:
        raise CapacityError(
            f"{name}: reserved concurrency {configured} cannot carry {target_tps:g} TPS at "
            f"{duration_s:g} s per request with headroom {headroom:g}: needs ceil({target_tps:g} x "
            f"{duration_s:g} x {headroom:g}) = {needed}"
        )


def _files(root: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP)
        for filename in sorted(filenames):
            if filename.endswith((".pyc", ".pyo")):
                continue
            found.append(Path(dirpath) / filename)
    return found


def _add(archive: zipfile.ZipFile, path: Path, arcname: str) -> None:
    info = zipfile.ZipInfo(arcname, date_time=_EPOCH)
    executable = path.stat().st_mode & stat.S_IXUSR
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, path.read_bytes(), compresslevel=9)


def deterministic_zip(source: Path, *, vendor: Sequence[str] = ()) -> bytes:
    """Zip ``source`` (and the installed distributions named in ``vendor``) reproducibly.

    Entries are sorted, timestamps fixed at 1980-01-01, permissions normalised, caches left out:
    the same tree gives the same bytes on every machine and run.
    """
    if not source.is_dir():
        raise FileNotFoundError(f"handler folder {source} does not exist")
    entries: dict[str, Path] = {p.relative_to(source).as_posix(): p for p in _files(source)}
    for dist_name in vendor:
        dist = importlib.metadata.distribution(dist_name)
        for file in dist.files or []:
            rel = file.as_posix()
            if (
                ".dist-info/" in rel
                or rel.endswith((".pyc", ".pyo"))
                or rel.startswith(("..", "/"))
                or "__pycache__" in rel
            ):
                continue
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                entries.setdefault(rel, path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for arcname in sorted(entries):
            _add(archive, entries[arcname], arcname)
    return buffer.getvalue()


def bundle(source: Path, build_dir: Path, name: str, *, vendor: Sequence[str] = ()) -> tuple[Path, str]:
    """Write the zip of ``source`` to ``build_dir/<name>.zip``; return it and its base64 SHA-256."""
    data = deterministic_zip(source, vendor=vendor)
    build_dir.mkdir(parents=True, exist_ok=True)
    target = build_dir / f"{name}.zip"
    if not target.exists() or target.read_bytes() != data:
        target.write_bytes(data)
    return target, base64.b64encode(hashlib.sha256(data).digest()).decode()


@dataclass(frozen=True, kw_only=True)
class AsyncInvocation:
    """How Lambda handles asynchronous invocations of a function (S3, SNS, EventBridge callers).

    ``max_retries``: 0-2 retries after the first attempt fails (Lambda's limit). Default 2.
    ``max_event_age_s``: 60-21600 s an event may wait for a (re)try before it is given up. Default 3600.
    Events that fail every attempt or grow too old go to the function's ``dead_letter_queue`` as
    the on-failure destination (a record with the request, the error and the attempt count).
    """

    max_retries: int = 2
    max_event_age_s: int = 3600

    def __post_init__(self) -> None:
        if not 0 <= self.max_retries <= 2 or not 60 <= self.max_event_age_s <= 21600:
            raise ValueError(
                f"asynchronous invocation: max_retries 0-2 and max_event_age_s 60-21600, "
                f"got {self.max_retries}, {self.max_event_age_s}"
            )


@dataclass(frozen=True, kw_only=True)
class FunctionProps:
    """Props of :class:`PythonFunction`.

    ``source``: the handler folder (``lambdas/<function>``); ``handler``: ``module.function``.
    ``reserved_concurrency``: required; size it with :func:`required_concurrency`.
    ``services``: required; the AWS services the handler calls, as boto3 client names (``"sqs"``,
    ``"events"``...; empty when it calls none). Recorded on the function for the reachability rule;
    each app's tests compare it with the clients its handler's source creates
    (:func:`platform_tooling.testing.handlers.boto3_clients`).
    ``key``: encrypts environment variables and the log group.
    ``vpc_subnet_ids``/``security_group_ids``: run in a VPC. Default: no VPC.
    ``vendor``: installed distributions copied into the bundle (for example ``pg8000``).
    ``dead_letter_queue``: where asynchronous invocations that keep failing go (the role may send
    to it). Default: none, right only for functions invoked synchronously or through an event-source
    mapping with its own failure destination.
    ``asynchronous``: retries, event age and on-failure destination (the ``dead_letter_queue``,
    required with it) for asynchronous invocations. The queue is then the on-failure destination
    instead of the function's dead-letter configuration, so a failed event arrives once, with its
    error. Default: Lambda's (two retries, six hours, the dead-letter configuration).
    ``build_dir``: where bundles are written. Default: ``<source>/../../.build``.
    """

    context: AppContext[BaseSettings]
    name: str
    description: str
    source: Path
    handler: str
    key: Key
    reserved_concurrency: int
    services: Sequence[str]
    memory_mb: int = 256
    timeout_s: int = 30
    environment: Mapping[str, str] = field(default_factory=dict)
    vpc_subnet_ids: Sequence[str] = ()
    security_group_ids: Sequence[str] = ()
    vendor: Sequence[str] = ()
    build_dir: Path | None = None
    dead_letter_queue: EncryptedQueue | None = None
    asynchronous: AsyncInvocation | None = None


class PythonFunction(Construct):
    """A Python 3.12 Lambda function with its role, KMS-encrypted log group and X-Ray tracing."""

    def __init__(self, scope: Construct, id: str, props: FunctionProps) -> None:
        super().__init__(scope, id)
        if props.reserved_concurrency < 1:
            raise CapacityError(
                f"{props.name}: reserved concurrency must be at least 1, got {props.reserved_concurrency}"
            )
        if not 128 <= props.memory_mb <= 10240 or not 1 <= props.timeout_s <= 900:
            raise ValueError(
                f"{props.name}: memory 128-10240 MB and timeout 1-900 s, got {props.memory_mb}, {props.timeout_s}"
            )
        if props.asynchronous is not None and props.dead_letter_queue is None:
            raise ValueError(
                f"{props.name}: asynchronous invocation needs a dead_letter_queue as its on-failure destination"
            )
        ctx = props.context
        self.function_name = ctx.name(Kind.LAMBDA, props.name)
        build_dir = props.build_dir or props.source.parent.parent / ".build"
        zip_path, code_hash = bundle(props.source, build_dir, self.function_name, vendor=props.vendor)
        asset = TerraformAsset(self, "code", path=str(zip_path), type=AssetType.FILE)
        self.log_group = EncryptedLogGroup(
            self,
            "logs",
            LogGroupProps(
                context=ctx,
                name=f"/aws/lambda/{self.function_name}",
                key=props.key,
            ),
        )
        self.role = self._role(props)
        self.function = LambdaFunction(
            self,
            "function",
            function_name=self.function_name,
            description=props.description,
            role=self.role.role_arn,
            runtime=RUNTIME,
            handler=props.handler,
            filename=asset.path,
            source_code_hash=code_hash,
            memory_size=props.memory_mb,
            timeout=props.timeout_s,
            reserved_concurrent_executions=props.reserved_concurrency,
            # A key without environment variables makes a perpetual diff (the API drops it).
            kms_key_arn=props.key.key_arn if props.environment else None,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=self.log_group.log_group_name),
            environment=LambdaFunctionEnvironment(variables=dict(sorted(props.environment.items())))
            if props.environment
            else None,
            vpc_config=LambdaFunctionVpcConfig(
                subnet_ids=list(props.vpc_subnet_ids), security_group_ids=list(props.security_group_ids)
            )
            if props.vpc_subnet_ids
            else None,
            dead_letter_config={"target_arn": props.dead_letter_queue.queue_arn}
            if props.dead_letter_queue and not props.asynchronous
            else None,
            depends_on=[self.log_group.log_group],
            provider=ctx.provider,
        )
        declare_services(self.function, props.services)
        if props.asynchronous is not None and props.dead_letter_queue is not None:
            self._async_invocation(props, props.asynchronous, props.dead_letter_queue)
        self.services = tuple(sorted(set(props.services)))
        self._provider = ctx.provider
        self.function_arn = self.function.arn
        self.invoke_arn = self.function.invoke_arn

    def _role(self, props: FunctionProps) -> LeastPrivilegeRole:
        """The execution role: its own log streams, tracing, network interfaces in a VPC, the
        environment key and the dead-letter queue."""
        ctx = props.context
        role = LeastPrivilegeRole(
            self,
            "role",
            RoleProps(
                context=ctx,
                name=f"{props.name}-fn",
                description=f"Execution role of Lambda function {self.function_name}",
                trust_policy=assume_role_policy(services=["lambda.amazonaws.com"]),
                statements=[
                    Statement(
                        sid="WriteOwnLogs",
                        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                        resources=[f"{self.log_group.log_group_arn}:*"],
                    ),
                    # X-Ray has no resource-level permissions: AWS requires "*" here.
                    Statement(
                        sid="Tracing", actions=["xray:PutTelemetryRecords", "xray:PutTraceSegments"], resources=["*"]
                    ),
                ],
            ),
        )
        if props.vpc_subnet_ids:
            # ENI management has no resource-level scoping for Create/Describe (AWS requires "*").
            role.add_statements(
                Statement(
                    sid="VpcNetworkInterfaces",
                    actions=[
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:CreateNetworkInterface",
                        "ec2:DeleteNetworkInterface",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeSubnets",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    resources=["*"],
                )
            )
        props.key.grant(role, DECRYPT)
        if props.dead_letter_queue is not None:
            props.dead_letter_queue.grant_send(role)
        return role

    def _async_invocation(self, props: FunctionProps, config: AsyncInvocation, destination: EncryptedQueue) -> None:
        """Retries, event age and the on-failure destination of asynchronous invocations.

        Lambda checks, when the configuration is written, that the execution role may send to the
        destination: it waits for the role's policy attachments, which hold that permission."""
        self.event_invoke_config = LambdaFunctionEventInvokeConfig(
            self,
            "async",
            function_name=self.function.function_name,
            maximum_retry_attempts=config.max_retries,
            maximum_event_age_in_seconds=config.max_event_age_s,
            destination_config=LambdaFunctionEventInvokeConfigDestinationConfig(
                on_failure=LambdaFunctionEventInvokeConfigDestinationConfigOnFailure(destination=destination.queue_arn)
            ),
            depends_on=list(self.role.attachments),
            provider=props.context.provider,
        )

    def grant_invoke(self, grantee: Grantee, *, sid: str = "", read_configuration: bool = False) -> None:
        """Let ``grantee`` (a role) invoke this function, any version or alias of it.

        ``read_configuration``: also ``lambda:GetFunctionConfiguration``, which callers such as
        Kinesis Data Firehose read before invoking. Default False.
        """
        actions = ["lambda:InvokeFunction", *(["lambda:GetFunctionConfiguration"] if read_configuration else [])]
        grantee.add_statements(
            Statement(sid=sid, actions=actions, resources=[self.function_arn, f"{self.function_arn}:*"])
        )

    def allow_service_invoke(
        self,
        scope: Construct,
        id: str,
        *,
        principal: str,
        statement_id: str,
        source_arn: str | None = None,
        source_account: str | None = None,
    ) -> LambdaPermission:
        """Let the AWS service ``principal`` invoke this function on behalf of ``source_arn`` only
        (and of ``source_account``, which a source ARN without an account, an S3 bucket's, needs;
        ``source_account`` alone where the source cannot be named before it exists, such as an
        AWS Config rule, which checks this permission when it is created): a statement
        ``statement_id`` of the function's resource policy, created in ``scope`` as ``id``. It
        refers to the function resource, so Terraform adds it once the function exists and
        removes it first (given only the function's name, the provider retries AddPermission for
        as long as the function is being created). Raises ``ValueError`` without either source:
        any resource of the service in any account could then invoke the function."""
        if source_arn is None and source_account is None:
            raise ValueError(f"{self.function_name}: {statement_id} needs source_arn or source_account ({principal})")
        return LambdaPermission(
            scope,
            id,
            statement_id=statement_id,
            action="lambda:InvokeFunction",
            function_name=self.function.function_name,
            principal=principal,
            source_arn=source_arn,
            source_account=source_account,
            provider=self._provider,
        )

    def metric(self, name: str, *, statistic: Statistic = "Sum", period_s: int = 300) -> Metric:
        """The function's metric ``name`` in ``AWS/Lambda`` (``Errors``, ``Duration``...)."""
        return Metric(
            namespace="AWS/Lambda",
            name=name,
            dimensions={"FunctionName": self.function_name},
            statistic=statistic,
            period_s=period_s,
        )

    def metric_errors(self, *, period_s: int = 300) -> Metric:
        """Invocations that ended in an error (sum)."""
        return self.metric("Errors", period_s=period_s)

    def metric_invocations(self, *, period_s: int = 300) -> Metric:
        """Invocations (sum)."""
        return self.metric("Invocations", period_s=period_s)

    def metric_throttles(self, *, period_s: int = 300) -> Metric:
        """Invocations refused for lack of concurrency (sum)."""
        return self.metric("Throttles", period_s=period_s)
