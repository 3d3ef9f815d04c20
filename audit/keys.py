"""The keys the audit trail is signed with: settings.AUDIT_HMAC_KEYS ({id: key}) and AUDIT_HMAC_KEY_ID.

The keys live in the environment, never in the database, so that whoever can write the audit table still
cannot produce a hash that verifies (docs/architecture.md "Audit anchoring").
"""

import hashlib
import hmac
from functools import lru_cache

from django.conf import settings

# Rows written before keyed hashing carry key id 0: plain SHA-256, verified as they always were.
LEGACY_KEY_ID = 0


class UnknownKey(LookupError):
    """A row or checkpoint names a key id this server was not given (AUDIT_HMAC_RETIRED_KEYS)."""

    def __init__(self, key_id):
        self.key_id = key_id
        super().__init__(
            f"key id {key_id} is not configured (set AUDIT_HMAC_RETIRED_KEYS to the key that had this id)"
        )


def current_key_id():
    """The id of the key new rows and checkpoints are signed with."""
    return settings.AUDIT_HMAC_KEY_ID


def sign(key_id, message):
    """HMAC-SHA256 of `message` under key `key_id`, as hex. Refuses an unknown id (UnknownKey)."""
    try:
        key = settings.AUDIT_HMAC_KEYS[key_id]
    except KeyError:
        raise UnknownKey(key_id) from None
    signer = _keyed(key).copy()
    signer.update(message.encode())
    return signer.hexdigest()


@lru_cache(maxsize=16)
def _keyed(key):
    # The key's padded inner and outer states, computed once: verify_audit signs millions of rows.
    return hmac.new(key, digestmod=hashlib.sha256)


def same(a, b):
    """Compare two hex digests in constant time."""
    return hmac.compare_digest(a, b)
