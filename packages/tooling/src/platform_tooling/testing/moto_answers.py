"""What moto lacks or drops, answered as AWS does, in the emulator's server process
(:func:`register`, called by :mod:`.moto_launcher` before it serves).

- answers for the calls moto lacks that the provider needs (Step Functions
  ValidateStateMachineDefinition and ListStateMachineVersions, Security Hub
  UpdateSecurityHubConfiguration: valid empty answers);
- GuardDuty's UpdateDetector changes only the features it names;
- what moto drops and AWS returns, so that a re-plan after an apply shows nothing where AWS
  would show nothing: a Lambda function's LoggingConfig and DeadLetterConfig, an SQS queue's
  RedrivePolicy as compact JSON, an S3 replication rule's filter, delete-marker replication and
  source selection criteria;
- DeleteNetworkAclEntry of an entry that is not there fails as AWS does
  (``InvalidNetworkAclEntry.NotFound``, which the provider takes as deleted), not with a 500;
- and one that only saves time: a KMS key's key pair is made when first used
  (:func:`defer_kms_key_pairs`, also applied in the test process by :mod:`.plugin`).
"""

from __future__ import annotations

import importlib
import json
from typing import Any


def register() -> None:
    """Patch moto's backends and responses with every answer of this module."""
    _register_missing_calls()
    _merge_guardduty_features()
    _lambda_logging_and_dead_letters()
    _compact_redrive_policies()
    _whole_replication_rules()
    _missing_network_acl_entries()
    defer_kms_key_pairs()


def _missing_network_acl_entries() -> None:
    """DeleteNetworkAclEntry of an entry the ACL does not hold answers AWS's
    ``InvalidNetworkAclEntry.NotFound``. moto raised StopIteration, a 500 that the provider retried
    three times and then failed the destroy with (seen once in a fresh clone's emulator rung)."""
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.models.network_acls import NetworkAclBackend

    delete = NetworkAclBackend.delete_network_acl_entry

    def answered(self: Any, network_acl_id: str, rule_number: int, egress: bool) -> Any:
        held = self.get_network_acl(network_acl_id).network_acl_entries
        if not any(e.egress == egress and e.rule_number == rule_number for e in held):
            direction = "egress" if str(egress).lower() == "true" else "ingress"
            raise EC2ClientError(
                "InvalidNetworkAclEntry.NotFound",
                f"The network acl entry identified by {rule_number} ({direction}) does not exist",
            )
        return delete(self, network_acl_id, rule_number, egress)

    NetworkAclBackend.delete_network_acl_entry = answered  # type: ignore[method-assign]


def defer_kms_key_pairs() -> None:
    """Make a KMS key's key pair when Sign, Verify or GetPublicKey first uses it.

    moto makes one for every key it creates: a 2048-bit RSA pair for a symmetric key too, which
    never uses it (60-100 ms of CPU per key; 2.6 s of pci-platform's handler tests, whose
    fixtures create a key per test). The pair, once made, is the key's for good, as before.
    """
    models: Any = importlib.import_module("moto.kms.models")  # its key maker is not exported
    make = models.generate_private_key
    if getattr(make, "deferred", False):
        return

    def deferred(key_spec: str) -> _DeferredKeyPair:
        return _DeferredKeyPair(make, key_spec)

    deferred.deferred = True  # type: ignore[attr-defined]
    models.generate_private_key = deferred


class _DeferredKeyPair:
    """moto's private key of one key spec (``AbstractPrivateKey``: sign, verify, public_key),
    made on first use."""

    def __init__(self, make: Any, key_spec: str) -> None:
        self._make, self.key_spec, self._made = make, key_spec, None

    def _pair(self) -> Any:
        if self._made is None:
            self._made = self._make(self.key_spec)
        return self._made

    def sign(self, message: bytes, signing_algorithm: str) -> bytes:
        return self._pair().sign(message, signing_algorithm)  # type: ignore[no-any-return]

    def verify(self, message: bytes, signature: bytes, signing_algorithm: str) -> bool:
        return self._pair().verify(message, signature, signing_algorithm)  # type: ignore[no-any-return]

    def public_key(self) -> bytes:
        return self._pair().public_key()  # type: ignore[no-any-return]


def _register_missing_calls() -> None:
    """Answer the calls moto lacks that the provider needs (valid empty answers)."""
    from moto.securityhub.responses import SecurityHubResponse
    from moto.stepfunctions.responses import StepFunctionResponse

    def validate_state_machine_definition(self: Any) -> str:
        return json.dumps({"result": "OK", "diagnostics": [], "truncated": False})

    def list_state_machine_versions(self: Any) -> str:
        return json.dumps({"stateMachineVersions": []})

    def update_security_hub_configuration(self: Any) -> str:
        return "{}"

    StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition  # type: ignore[attr-defined]
    StepFunctionResponse.list_state_machine_versions = list_state_machine_versions  # type: ignore[attr-defined]
    SecurityHubResponse.update_security_hub_configuration = update_security_hub_configuration  # type: ignore[attr-defined]


def _merge_guardduty_features() -> None:
    """GuardDuty's UpdateDetector changes only the features it names, as AWS does; moto replaces
    the detector's whole feature list, so each ``aws_guardduty_detector_feature`` erased the others."""
    from moto.guardduty.models import Detector

    update = Detector.update

    def merged(self: Any, enable: Any, frequency: Any, data_sources: Any, features: Any) -> None:
        if features is not None:
            named = {f.get("name"): f for f in [*self.features, *features]}
            features = list(named.values())
        update(self, enable, frequency, data_sources, features)

    Detector.update = merged  # type: ignore[method-assign,assignment]


def _lambda_logging_and_dead_letters() -> None:
    """Lambda keeps and returns a function's LoggingConfig and DeadLetterConfig, as AWS does;
    moto drops both, so every re-plan of a function with them planned to set them again.

    As AWS: the log group defaults to ``/aws/lambda/<name>``, and the JSON format brings the
    INFO application and system log levels; the dead-letter target is returned only when set.
    """
    from moto.awslambda.models import LambdaFunction

    init, configuration, update = (
        LambdaFunction.__init__,
        LambdaFunction.get_configuration,
        LambdaFunction.update_configuration,
    )

    def logging(function: Any, given: dict[str, Any] | None, kept: dict[str, Any] | None = None) -> dict[str, Any]:
        """The function's logging configuration: ``given`` over what it ``kept`` (an update
        changes the fields it names) over the defaults."""
        defaults = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.function_name}"}
        found = {**defaults, **(kept or {}), **(given or {})}
        if found["LogFormat"] == "JSON":
            found = {"ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO", **found}
        else:  # levels belong to the JSON format only
            found.pop("ApplicationLogLevel", None)
            found.pop("SystemLogLevel", None)
        return found

    def kept(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        spec = kwargs["spec"] if "spec" in kwargs else args[1]  # (account_id, spec, region, version)
        self.logging_config = logging(self, spec.get("LoggingConfig"))
        self.dead_letter_config = spec.get("DeadLetterConfig") or {}

    def returned(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        found: dict[str, Any] = configuration(self, *args, **kwargs)
        found["LoggingConfig"] = self.logging_config
        if self.dead_letter_config.get("TargetArn"):
            found["DeadLetterConfig"] = self.dead_letter_config
        return found

    def updated(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "LoggingConfig" in config_updates:
            self.logging_config = logging(self, config_updates["LoggingConfig"], self.logging_config)
        if "DeadLetterConfig" in config_updates:
            self.dead_letter_config = config_updates["DeadLetterConfig"] or {}
        return update(self, config_updates)  # type: ignore[no-any-return]

    LambdaFunction.__init__ = kept  # type: ignore[method-assign]
    LambdaFunction.get_configuration = returned  # type: ignore[method-assign]
    LambdaFunction.update_configuration = updated  # type: ignore[method-assign]


def _compact_redrive_policies() -> None:
    """SQS returns a queue's RedrivePolicy as compact JSON, as AWS does; moto's has spaces after
    separators, which the provider planned to change back on every re-plan."""
    from moto.sqs.models import Queue

    attributes = Queue.attributes.fget  # type: ignore[attr-defined]

    def compact(self: Any) -> dict[str, Any]:
        found: dict[str, Any] = attributes(self)
        if "RedrivePolicy" in found:
            found["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return found

    Queue.attributes = property(compact)  # type: ignore[method-assign,assignment]


def _whole_replication_rules() -> None:
    """GetBucketReplication returns each rule's filter, delete-marker replication and source
    selection criteria as they were put, as AWS does; moto answered a blank filter, disabled
    delete-marker replication and no source selection criteria, whatever the rule said."""
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError
    from moto.s3.responses import S3Response

    def returned(self: Any) -> Any:
        self.data["Action"] = "GetBucketReplication"
        replication = self.backend.get_bucket_replication(self.bucket_name)
        if not replication:
            raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
        rules = []
        for rule in replication["Rule"]:
            found = {key: rule[key] for key in ("ID", "Priority", "Status", "Destination")}
            found["Filter"] = rule.get("Filter") or {"Prefix": ""}
            if found["Filter"].get("Prefix", "") is None:  # an empty <Prefix/> as parsed
                found["Filter"] = {**found["Filter"], "Prefix": ""}
            found["DeleteMarkerReplication"] = rule.get("DeleteMarkerReplication") or {"Status": "Disabled"}
            if rule.get("SourceSelectionCriteria"):
                found["SourceSelectionCriteria"] = rule["SourceSelectionCriteria"]
            rules.append(found)
        configuration = {"Role": replication["Role"], "Rules": rules}
        return self.serialized(ActionResult({"ReplicationConfiguration": configuration}))

    S3Response.get_bucket_replication = returned  # type: ignore[method-assign]
