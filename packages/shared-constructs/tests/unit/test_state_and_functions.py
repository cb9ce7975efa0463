from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from platform_tooling.testing.synthesis import scratch_app
from shared_constructs.functions import CapacityError, bundle, check_capacity, deterministic_zip, required_concurrency
from shared_constructs.settings import BaseSettings, StateSettings
from shared_constructs.state import local_state_path, state_key

DEPLOYER = "arn:aws:iam::123456789012:role/deployer"


def settings(**state: str) -> BaseSettings:
    return BaseSettings(
        environment="dev",
        environment_suffix="dev",
        cost_center="cc",
        owner="team",
        account_id="123456789012",
        deployer_role_arn=DEPLOYER,
        state=StateSettings.model_validate(state),
    )


def synth_stack(config: BaseSettings) -> dict:
    from cdktf import Testing
    from shared_constructs.contracts import security_baseline
    from shared_constructs.stack import PlatformStack
    from shared_constructs.state import RemoteOutputs

    app = scratch_app()
    stack = PlatformStack(app, "consumer", settings=config, package="pci-platform", region="ap-southeast-1")
    baseline = RemoteOutputs(
        stack, "baseline", settings=config, stack=security_baseline.stack("ap-southeast-1", "123456789012")
    )
    stack.output("topic", baseline.get(security_baseline.SECURITY_TOPIC_ARN), description="t")
    return json.loads(Testing.synth(stack))


def test_local_state_sits_under_the_repository_relative_to_the_stack_folder(reference):
    assert reference["terraform"]["backend"] == {
        "local": {"path": "../../../../../.state/reference/dev/reference.tfstate"}
    }
    assert local_state_path(settings(local_dir="/tmp/s"), "p", "s") == "/tmp/s/p/dev/s.tfstate"


def test_s3_backend_encrypts_and_locks_natively_and_remote_state_reads_the_same_bucket():
    stack = synth_stack(settings(backend="s3", bucket="team-state", region="eu-west-1"))
    assert stack["terraform"]["backend"]["s3"] == {
        "bucket": "team-state",
        "key": "pci-platform/dev/consumer.tfstate",
        "region": "eu-west-1",
        "encrypt": True,
        "use_lockfile": True,
    }
    (remote,) = stack["data"]["terraform_remote_state"].values()
    assert remote["backend"] == "s3"
    assert remote["config"] == {
        "bucket": "team-state",
        "key": "security-baseline/dev/security-baseline-123456789012-ap-southeast-1.tfstate",
        "region": "eu-west-1",
    }


@pytest.mark.requirement("DEP-10")
def test_remote_state_reads_local_state_of_the_producer_by_default():
    stack = synth_stack(settings())
    ((name, remote),) = stack["data"]["terraform_remote_state"].items()
    assert (
        remote["config"]["path"]
        == "../../../../../.state/security-baseline/dev/security-baseline-123456789012-ap-southeast-1.tfstate"
    )
    assert stack["output"]["topic"]["value"] == f"${{data.terraform_remote_state.{name}.outputs.security_topic_arn}}"
    assert state_key("a", "b", "c") == "a/b/c.tfstate"


def make_tree(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "handler.py").write_text("def handler(e, c):\n    return e\n")
    (root / "pkg" / "util.py").write_text("X = 1\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"junk")
    return root


def test_bundles_are_byte_identical_whatever_the_file_times(tmp_path):
    first = deterministic_zip(make_tree(tmp_path / "a"))
    second_root = make_tree(tmp_path / "b")
    (second_root / "handler.py").touch()
    import os

    os.utime(second_root / "handler.py", (1_000_000_000, 1_000_000_000))
    assert deterministic_zip(second_root) == first
    names = zipfile.ZipFile(BytesIO(first)).namelist()
    assert names == ["handler.py", "pkg/util.py"]
    assert {i.date_time for i in zipfile.ZipFile(BytesIO(first)).infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_bundle_reports_the_lambda_code_hash(tmp_path):
    path, code_hash = bundle(make_tree(tmp_path / "src"), tmp_path / "build", "fn")
    assert code_hash == base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def test_vendored_distributions_are_bundled(tmp_path):
    names = zipfile.ZipFile(BytesIO(deterministic_zip(make_tree(tmp_path / "src"), vendor=["pg8000"]))).namelist()
    assert "pg8000/__init__.py" in names
    assert not any(".dist-info/" in n for n in names)


@pytest.mark.requirement("PAY-C2")
@pytest.mark.parametrize(
    ("tps", "duration", "headroom", "expected"), [(3334, 0.25, 1.2, 1001), (10, 1.0, 1.0, 10), (1, 0.01, 1.2, 1)]
)
def test_required_concurrency_is_littles_law_with_headroom(tps, duration, headroom, expected):
    assert required_concurrency(tps, duration, headroom) == expected


def test_fails_with_the_numbers_when_concurrency_cannot_carry_the_target():
    with pytest.raises(CapacityError, match=r"reserved concurrency 5 cannot carry 100 TPS at 0.5 s .* = 60"):
        check_capacity("payments-transactions", 5, 100, 0.5)
    check_capacity("payments-transactions", 60, 100, 0.5)


def test_function_defaults(reference):
    from platform_tooling.testing.query import only

    fn = only(reference, "aws_lambda_function")
    assert (fn["runtime"], fn["tracing_config"], fn["reserved_concurrent_executions"]) == (
        "python3.12",
        {"mode": "Active"},
        2,
    )
    assert "kms_key_arn" not in fn  # no environment variables: a key would be a perpetual diff
    assert fn["filename"].startswith("assets/")
    assert fn["filename"].endswith("/ref-echo-use1-dev.zip")


def test_the_function_declares_the_services_its_handler_calls(reference):
    from platform_tooling.testing.handlers import boto3_clients
    from platform_tooling.testing.query import only

    fn = only(reference, "aws_lambda_function")
    handler = Path(__file__).parents[2] / "examples" / "reference" / "lambdas" / "echo"
    assert fn["//"]["services"] == boto3_clients(handler) == []


def test_account_id_follows_the_provider_of_each_construct():
    from cdktf import Testing
    from shared_constructs.context import account_id
    from shared_constructs.stack import PlatformStack

    stack = PlatformStack(scratch_app(), "x", settings=settings(), package="p", region="us-east-1")
    other = stack.provider_for("us-east-2", account="analytics", assume_role_arn="arn:aws:iam::210987654321:role/a")
    for _ in range(2):
        stack.output(f"here{_}", account_id(stack), description="d")
        stack.output(f"there{_}", account_id(stack, other), description="d")
    document = json.loads(Testing.synth(stack))
    identities = document["data"]["aws_caller_identity"]
    assert sorted((name, i.get("provider")) for name, i in identities.items()) == [
        ("caller_identity", None),
        ("caller_identity_use2analytics", "aws.use2analytics"),
    ]
    assert (
        document["output"]["there1"]["value"] == "${data.aws_caller_identity.caller_identity_use2analytics.account_id}"
    )


def test_every_provider_is_limited_to_its_account():
    from cdktf import Testing
    from shared_constructs.stack import PlatformStack

    stack = PlatformStack(scratch_app(), "x", settings=settings(), package="p", region="us-east-1")
    stack.provider_for("eu-west-1")
    stack.provider_for("us-east-2", account="analytics", assume_role_arn="arn:aws:iam::210987654321:role/a")
    stack.provider_for("us-east-2", account="named", account_id="333333333333")
    providers = json.loads(Testing.synth(stack))["provider"]["aws"]
    allowed = {p.get("alias", "default"): p.get("allowed_account_ids") for p in providers}
    assert allowed == {
        "default": ["123456789012"],  # settings.account_id
        "euw1": ["123456789012"],  # another region of the same account
        "use2analytics": ["210987654321"],  # the account of the role it assumes
        "use2named": ["333333333333"],
    }


@pytest.mark.parametrize("account", ["12345678901", "1234567890123", "abcdefghijkl"])
def test_fails_on_a_provider_account_that_is_not_12_digits(account):
    from shared_constructs.stack import PlatformStack

    stack = PlatformStack(scratch_app(), "x", settings=settings(), package="p", region="us-east-1")
    with pytest.raises(ValueError, match=f"provider 'aws_use2': expected a 12-digit AWS account id, got '{account}'"):
        stack.provider_for("us-east-2", account_id=account)


def _function(stack, tmp_path, *, asynchronous, dead_letters: bool):
    from shared_constructs.functions import FunctionProps, PythonFunction
    from shared_constructs.kms import Key, KeyProps
    from shared_constructs.messaging import EncryptedQueue, QueueProps

    ctx = stack.context
    key = Key(stack, "k", KeyProps(context=ctx, name="k", description="k", regional_name=False))
    queue = (
        EncryptedQueue(stack, "dlq", QueueProps(context=ctx, name="fn-dlq", key=key, dead_letter=False))
        if dead_letters
        else None
    )
    source = Path(__file__).parents[2] / "examples" / "reference" / "lambdas" / "echo"
    props = FunctionProps(
        context=ctx,
        name="fn",
        description="d",
        source=source,
        handler="handler.handler",
        key=key,
        reserved_concurrency=1,
        services=(),
        build_dir=tmp_path,
        dead_letter_queue=queue,
        asynchronous=asynchronous,
    )
    return PythonFunction(stack, "fn", props), queue


def test_asynchronous_failures_go_to_the_queue_as_on_failure_destination_only(stack, synthesized, tmp_path):
    from platform_tooling.testing.query import only, resources, statements
    from shared_constructs.functions import AsyncInvocation

    _function(stack, tmp_path, asynchronous=AsyncInvocation(max_retries=1, max_event_age_s=600), dead_letters=True)
    document = synthesized(stack)
    (queue_name,) = resources(document, "aws_sqs_queue")
    (config,) = resources(document, "aws_lambda_function_event_invoke_config").values()
    assert (config["maximum_retry_attempts"], config["maximum_event_age_in_seconds"]) == (1, 600)
    assert config["destination_config"] == {"on_failure": {"destination": f"${{aws_sqs_queue.{queue_name}.arn}}"}}
    # Not also the dead-letter configuration: a failed event would arrive twice.
    assert "dead_letter_config" not in only(document, "aws_lambda_function")
    sends = [s for s in statements(only(document, "aws_iam_policy")) if s["Action"] == "sqs:SendMessage"]
    assert [s["Resource"] for s in sends] == [f"${{aws_sqs_queue.{queue_name}.arn}}"]


def test_asynchronous_invocation_needs_a_destination_and_lambda_limits(stack, tmp_path):
    from shared_constructs.functions import AsyncInvocation

    with pytest.raises(ValueError, match="fn: asynchronous invocation needs a dead_letter_queue"):
        _function(stack, tmp_path, asynchronous=AsyncInvocation(), dead_letters=False)
    for bad in ({"max_retries": 3}, {"max_event_age_s": 59}, {"max_event_age_s": 21601}):
        with pytest.raises(ValueError, match="max_retries 0-2 and max_event_age_s 60-21600"):
            AsyncInvocation(**bad)


def test_a_service_may_invoke_the_function_once_it_exists_and_only_for_its_source(stack, synthesized, tmp_path):
    from platform_tooling.testing.query import only, resources

    function, _ = _function(stack, tmp_path, asynchronous=None, dead_letters=False)
    function.allow_service_invoke(
        stack, "from_rule", principal="events.amazonaws.com", source_arn="arn:aws:events:::rule/r", statement_id="Rule"
    )
    document = synthesized(stack)
    (name,) = resources(document, "aws_lambda_function")
    permission = only(document, "aws_lambda_permission")
    # A reference, not the name: Terraform creates the permission after the function.
    assert permission["function_name"] == f"${{aws_lambda_function.{name}.function_name}}"
    assert (permission["principal"], permission["source_arn"]) == ("events.amazonaws.com", "arn:aws:events:::rule/r")
    assert (permission["action"], permission["statement_id"]) == ("lambda:InvokeFunction", "Rule")
    with pytest.raises(ValueError, match="Open needs source_arn or source_account"):
        function.allow_service_invoke(stack, "open", principal="s3.amazonaws.com", statement_id="Open")
