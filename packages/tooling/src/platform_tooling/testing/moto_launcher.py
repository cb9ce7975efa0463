"""The emulator's server process: moto on 127.0.0.1, made as strict as AWS on what we send.

``python -m platform_tooling.testing.moto_launcher --port-file FILE`` binds a free port, writes
it to ``FILE`` and serves until terminated. It runs apart from the test process, so the
emulator's request handling never shares an interpreter lock with pytest or the harness.
Before serving it registers what the platform adds to moto:

- answers for the calls moto lacks, and what moto drops and AWS returns (:mod:`.moto_answers`);
- CreateRole validates the trust policy as IAM does (moto's ``IAMTrustPolicyDocumentValidator``,
  which moto itself calls only from UpdateAssumeRolePolicy); identity policies are validated by
  moto on CreatePolicy, CreatePolicyVersion and PutRolePolicy;
- IAM enforcement: moto's own switch (``POST /moto-api/reset-auth`` with ``0`` turns it on,
  ``inf`` off) authorizes every request signed with other credentials than the operator's
  (:data:`OPERATOR_ACCESS_KEY`, which Terraform and the harness use as the account's
  administrator, and sessions it assumes as :data:`OPERATOR_SESSION` to act in another account)
  against the caller's identity policies. Terraform's requests (their User-Agent carries the
  ``platform-call/<id>`` tag of the harness's Terraform calls) act as the operator, in whatever
  account its providers assume a role in, so that packages deploy and are destroyed while
  other packages' tests run as their deployed roles. Where moto does not work out the
  resource a request acts on (most services), a statement is judged by its action alone; an
  Allow with a condition counts as allowing and a Deny with one as not applying, since moto
  passes no request context to evaluate it. Resource and key policies are not evaluated;
- one signed request per service at a time, SQS apart: moto's backends are not thread-safe;
- timings, and the server's log of errors, slow and dropped requests and requests sent again
  (a success sent again gets its first answer again): :mod:`.moto_requests`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

from platform_tooling.testing import moto_answers
from platform_tooling.testing.moto_requests import CALL_TAG, Timings, dropped_line, serialized, timed

OPERATOR_ACCESS_KEY = "testing"
"""The access key of the operator (Terraform, harness set-up and checks): never authorized."""

_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/")
OPERATOR_SESSION = "platform-operator"
"""The role session name of the operator acting in another account (through its deployment role)."""

_IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses"}
"""moto names an action by the request's signing name; IAM by the service prefix where they differ."""
_IAM_ACTION = {"s3:HeadBucket": "s3:ListBucket"}
"""moto's S3 operation names that are not the IAM action authorizing the operation."""
_PUBLIC_ACCESS_BLOCK = {
    "GET": "GetBucketPublicAccessBlock",
    "PUT": "PutBucketPublicAccessBlock",
    "DELETE": "PutBucketPublicAccessBlock",
}
"""IAM's actions for a bucket's public access block (moto misses the ``publicAccessBlock`` query
and authorizes these requests as ListBucket, CreateBucket and DeleteBucket)."""


def _is_operator(access_key: str, account: str) -> bool:
    """The operator's key, or credentials the operator got from AssumeRole (another account)."""
    if access_key == OPERATOR_ACCESS_KEY:
        return True
    from moto.sts.models import sts_backends

    sessions = sts_backends[account]["aws"].assumed_roles
    return any(s.access_key_id == access_key and s.session_name == OPERATOR_SESSION for s in sessions)


def _validate_trust_policies_on_create() -> None:
    """CreateRole refuses a trust policy IAM would refuse (``Resource``, missing ``Principal``...).

    Service-linked roles moto creates for itself (``linked_service``) carry its own documents.
    """
    from moto.iam.exceptions import MalformedPolicyDocument
    from moto.iam.models import IAMBackend
    from moto.iam.policy_validation import IAMTrustPolicyDocumentValidator

    create_role = IAMBackend.create_role

    def validated(self: Any, role_name: str, assume_role_policy_document: str, *args: Any, **kwargs: Any) -> Any:
        linked = kwargs.get("linked_service") or (args[6] if len(args) > 6 else None)
        if not linked:
            IAMTrustPolicyDocumentValidator(assume_role_policy_document).validate()
            # moto's validator lets a statement without a principal through; IAM does not.
            statements = json.loads(assume_role_policy_document).get("Statement", [])
            for statement in statements if isinstance(statements, list) else [statements]:
                if "Principal" not in statement and "NotPrincipal" not in statement:
                    raise MalformedPolicyDocument("Missing required field Principal")
        return create_role(self, role_name, assume_role_policy_document, *args, **kwargs)

    IAMBackend.create_role = validated  # type: ignore[method-assign]


def _elements(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _enforce_for_callers_only() -> None:
    """Authorize requests of other credentials than the operator's, statement by statement."""
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import IAMPolicyStatement, IAMRequestBase, PermissionResult
    from moto.s3.responses import S3Response

    authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def operator_exempt(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if CALL_TAG.search(str(self.headers.get("User-Agent", ""))):
            return  # Terraform, run by the harness as the operator (in any account it assumes a role in)
        match = _CREDENTIAL.search(str(self.headers.get("Authorization", "")))
        if match and _is_operator(match.group(1), str(self.current_account)):
            return
        authorize(self, iam_request_cls, resource)

    statement_permits = IAMPolicyStatement.is_action_permitted

    def judged(
        self: Any,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> Any:
        if principal is not None:  # a trust policy judging sts:AssumeRole: moto's own evaluation
            return statement_permits(self, action, resource, principal, incoming_condition_values)
        statement = self._statement
        if "NotAction" in statement:
            concerned = not self._check_element_matches("NotAction", action)
        else:
            concerned = self._check_element_matches("Action", action)
        allow = statement.get("Effect") == "Allow"
        if not concerned or ("Condition" in statement and not allow):
            return PermissionResult.NEUTRAL
        if resource == "*":  # moto did not work out the resource of this request
            covers = allow or "*" in _elements(statement.get("Resource"))
        elif "NotResource" in statement:
            covers = not self._check_element_matches("NotResource", resource)
        else:
            covers = self._check_element_matches("Resource", resource)
        if not covers:
            return PermissionResult.NEUTRAL
        return PermissionResult.PERMITTED if allow else PermissionResult.DENIED

    request_init = IAMRequestBase.__init__

    def iam_action(self: Any, *args: Any, **kwargs: Any) -> None:
        request_init(self, *args, **kwargs)
        prefix, _, name = self._action.partition(":")
        action = f"{_IAM_PREFIX.get(prefix, prefix)}:{name}"
        self._action = _IAM_ACTION.get(action, action)

    IAMRequestBase.__init__ = iam_action  # type: ignore[method-assign]
    set_action = S3Response._set_action

    def s3_action(self: Any, action_resource_type: str, method: str, querystring: dict[str, Any]) -> None:
        set_action(self, action_resource_type, method, querystring)
        if action_resource_type == "BUCKET" and "publicAccessBlock" in querystring and method in _PUBLIC_ACCESS_BLOCK:
            self.data["Action"] = _PUBLIC_ACCESS_BLOCK[method]

    S3Response._set_action = s3_action  # type: ignore[method-assign]
    ActionAuthenticatorMixin._authenticate_and_authorize_action = operator_exempt  # type: ignore[method-assign]
    IAMPolicyStatement.is_action_permitted = judged  # type: ignore[method-assign]


def serve(port_file: Path) -> None:
    """Register the platform's additions, bind a free port, write it to ``port_file``, serve."""
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "1")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise here
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    moto_answers.register()
    _validate_trust_policies_on_create()
    _enforce_for_callers_only()
    app = serialized(timed(DomainDispatcherApplication(create_backend_app), Timings()))

    class Handler(MotoRequestHandler):
        def connection_dropped(self, error: BaseException, environ: dict[str, Any] | None = None) -> None:
            print(dropped_line(error, environ), file=sys.stderr, flush=True)

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Handler)
    staging = port_file.with_suffix(".tmp")
    staging.write_text(str(server.server_address[1]))
    staging.replace(port_file)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m platform_tooling.testing.moto_launcher")
    parser.add_argument("--port-file", type=Path, required=True, help="where to write the bound port")
    serve(parser.parse_args().port_file)


if __name__ == "__main__":
    main()
