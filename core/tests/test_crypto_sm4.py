"""Field encryption algorithms (issue 23, 密评): SM4-GCM and AES-256-GCM beside Fernet; every
stored form is read whatever the setting; rotation works across algorithms and keys."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from core import crypto

ID_NUMBER = "350602199001011234"
KEY_OLD = Fernet.generate_key().decode()
KEY_NEW = "a passphrase of at least thirty-two characters 2026"


@pytest.mark.parametrize("algorithm", ["sm4-gcm", "aes-gcm"])
def test_gcm_round_trip_hides_the_value_and_is_not_deterministic(settings, algorithm):
    settings.FIELD_ENCRYPTION_ALGORITHM = algorithm
    first, second = crypto.encrypt(ID_NUMBER), crypto.encrypt(ID_NUMBER)
    assert first != second
    assert first.startswith(f"enc2:{crypto.AEAD_TAGS[algorithm]}:")
    assert ID_NUMBER not in first and ID_NUMBER[-4:] not in first
    assert crypto.decrypt(first) == crypto.decrypt(second) == ID_NUMBER
    assert crypto.is_encrypted(first)
    assert crypto.encrypt(first) == first  # already encrypted: kept


def test_sm4_gcm_is_real_sm4_gcm(settings):
    """Decrypt the stored value independently with SM4-GCM from `cryptography` (the derived key:
    SM3 of the configured key, 16 bytes)."""
    import base64
    import hashlib

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    settings.FIELD_ENCRYPTION_ALGORITHM = "sm4-gcm"
    settings.FIELD_ENCRYPTION_KEYS = [KEY_NEW]
    stored = crypto.encrypt(ID_NUMBER)
    _prefix, tag, kid, encoded = stored.split(":", 3)
    data = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    nonce, body, mac = data[:12], data[12:-16], data[-16:]
    key = hashlib.new("sm3", b"gridgov-sm4:" + KEY_NEW.encode()).digest()[:16]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, mac)).decryptor()
    decryptor.authenticate_additional_data(f"gridgov-field:{tag}:{kid}".encode())
    assert (decryptor.update(body) + decryptor.finalize()).decode() == ID_NUMBER


def test_a_tampered_value_is_refused(settings):
    settings.FIELD_ENCRYPTION_ALGORITHM = "sm4-gcm"
    stored = crypto.encrypt(ID_NUMBER)
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(flipped)


def test_rotation_across_keys_and_algorithms(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_OLD]
    settings.FIELD_ENCRYPTION_ALGORITHM = "fernet"
    fernet_value = crypto.encrypt(ID_NUMBER)
    settings.FIELD_ENCRYPTION_ALGORITHM = "aes-gcm"
    aes_value = crypto.encrypt(ID_NUMBER)

    # Switch to SM4 with a new first key: everything old still reads...
    settings.FIELD_ENCRYPTION_ALGORITHM = "sm4-gcm"
    settings.FIELD_ENCRYPTION_KEYS = [KEY_NEW, KEY_OLD]
    assert crypto.decrypt(fernet_value) == crypto.decrypt(aes_value) == ID_NUMBER
    # ...and rotates to SM4 under the new key.
    rotated = [crypto.rotate(fernet_value), crypto.rotate(aes_value), crypto.rotate(ID_NUMBER)]
    assert all(value.startswith("enc2:sm4gcm:" + crypto.key_id(KEY_NEW)) for value in rotated)
    assert crypto.rotate(rotated[0]) == rotated[0]  # already current: kept
    settings.FIELD_ENCRYPTION_KEYS = [KEY_NEW]  # the old key dropped
    assert all(crypto.decrypt(value) == ID_NUMBER for value in rotated)
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(aes_value)

    # And back to Fernet (from SM4) works the same way.
    settings.FIELD_ENCRYPTION_ALGORITHM = "fernet"
    back = crypto.rotate(rotated[0])
    assert back.startswith(crypto.PREFIX) and crypto.decrypt(back) == ID_NUMBER


def test_an_unknown_algorithm_is_refused(settings):
    from governance.settings_checks import check_security_policy

    with pytest.raises(ImproperlyConfigured):
        check_security_policy(
            two_factor_enforced=True, algorithm="des", testing=False, production=False
        )
    settings.FIELD_ENCRYPTION_ALGORITHM = "des"
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt(ID_NUMBER)
