"""moto's KMS keys make their key pair when first used (``moto_answers.defer_kms_key_pairs``, applied
by the plugin): creating a symmetric key makes none, and an asymmetric key signs, verifies and
gives out its public key with one pair, as before."""

from __future__ import annotations

from typing import Any

import boto3
import moto.kms.utils
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from moto import mock_aws
from platform_tooling.testing import moto_answers

REGION = "eu-west-1"


@pytest.fixture
def pairs_made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the RSA key pairs moto makes."""
    made: list[int] = []
    generate = moto.kms.utils.rsa.generate_private_key

    def counted(*args: Any, **kwargs: Any) -> Any:
        made.append(kwargs.get("key_size", 0))
        return generate(*args, **kwargs)

    monkeypatch.setattr(moto.kms.utils.rsa, "generate_private_key", counted)
    return made


def test_a_symmetric_key_makes_no_key_pair(pairs_made: list[int]) -> None:
    moto_answers.defer_kms_key_pairs()  # done by the plugin already; a second call changes nothing
    with mock_aws():
        kms = boto3.client("kms", region_name=REGION)
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key, Plaintext=b"card")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"card"
    assert pairs_made == []


def test_an_asymmetric_key_makes_its_pair_once_and_keeps_it(pairs_made: list[int]) -> None:
    with mock_aws():
        kms = boto3.client("kms", region_name=REGION)
        key = kms.create_key(KeySpec="RSA_3072", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        assert pairs_made == []
        signed = kms.sign(KeyId=key, Message=b"settlement", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
        public = kms.get_public_key(KeyId=key)["PublicKey"]
        assert kms.verify(KeyId=key, Message=b"settlement", Signature=signed, SigningAlgorithm="RSASSA_PSS_SHA_256")[
            "SignatureValid"
        ]
    assert pairs_made == [3072]
    loaded = serialization.load_der_public_key(public)
    assert isinstance(loaded, rsa.RSAPublicKey)
    assert loaded.key_size == 3072
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
    loaded.verify(signed, b"settlement", pss, hashes.SHA256())  # raises when the pair changed
