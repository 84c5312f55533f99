"""Operations on secrets at rest."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm.attributes import flag_modified

from powerpact.extensions import db
from powerpact.models import PartnerStore, RetailStore


def reencrypt_tokens() -> int:
    """Re-encrypt every stored token with the first key of ``TOKEN_ENCRYPTION_KEYS``.

    Rotation: put the new key first and keep the old one after it, run this,
    then drop the old key. Returns how many shops were re-encrypted.
    """
    count = 0
    for model in (RetailStore, PartnerStore):
        stores = db.session.scalars(
            select(model).where(
                or_(model.access_token.is_not(None), model.refresh_token.is_not(None))
            )
        )
        for store in stores:
            flag_modified(store, "access_token")
            flag_modified(store, "refresh_token")
            count += 1
    db.session.commit()
    return count
