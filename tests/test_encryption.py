"""Access tokens are encrypted at rest and the keys can be rotated."""

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import text

from powerpact.db_types import EXTENSION_KEY, build_cipher
from powerpact.models import PartnerStore
from powerpact.security import reencrypt_tokens
from tests.factories import PartnerStoreFactory, RetailStoreFactory

TOKEN = "shpat_0123456789abcdef0123456789abcdef"


def raw_columns(db_session, partner_id):
    return db_session.execute(
        text("SELECT access_token, refresh_token FROM partner_stores WHERE id = :id"),
        {"id": partner_id},
    ).one()


def reload(db_session, partner_id):
    db_session.expire_all()
    return db_session.get(PartnerStore, partner_id)


def test_the_column_holds_ciphertext_and_the_model_plaintext(db_session):
    partner = PartnerStoreFactory(access_token=TOKEN, refresh_token="shprt_refreshrefresh")
    access, refresh = raw_columns(db_session, partner.id)
    assert "0123456789abcdef" not in access
    assert "refreshrefresh" not in refresh
    assert reload(db_session, partner.id).access_token == TOKEN


@pytest.fixture
def swap_keys(app):
    original = app.extensions[EXTENSION_KEY]

    def use(*keys):
        app.extensions[EXTENSION_KEY] = build_cipher(list(keys))

    yield use
    app.extensions[EXTENSION_KEY] = original


def test_rotation_new_key_first_then_old_key_dropped(app, db_session, swap_keys):
    old_key = app.config["POWERPACT"].token_encryption_keys[0]
    new_key = Fernet.generate_key().decode()
    RetailStoreFactory()
    partner = PartnerStoreFactory(access_token=TOKEN)
    before = raw_columns(db_session, partner.id).access_token

    swap_keys(new_key, old_key)
    assert reload(db_session, partner.id).access_token == TOKEN
    assert reencrypt_tokens() == 2
    assert raw_columns(db_session, partner.id).access_token != before

    swap_keys(new_key)
    assert reload(db_session, partner.id).access_token == TOKEN

    swap_keys(old_key)
    with pytest.raises(InvalidToken, match="cannot be decrypted"):
        reload(db_session, partner.id).access_token  # noqa: B018


def test_no_keys_is_refused():
    with pytest.raises(ValueError, match="TOKEN_ENCRYPTION_KEYS is empty"):
        build_cipher([])


def test_rotate_command_reports_how_many_shops(app, db_session):
    PartnerStoreFactory()
    result = app.test_cli_runner().invoke(args=["rotate-token-keys"])
    assert result.exit_code == 0
    assert "re-encrypted the tokens of 1 shops" in result.output
