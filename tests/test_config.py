import pytest
from cryptography.fernet import Fernet

from powerpact.config import ConfigError, Settings, normalise_database_url

GOOD_PRODUCTION = {
    "POWERPACT_ENV": "production",
    "DATABASE_URL": "postgres://u:p@db.internal:5432/powerpact",
    "REDIS_URL": "redis://kv.internal:6379",
    "SECRET_KEY": "s" * 48,
    "SHOPIFY_API_KEY": "key",
    "SHOPIFY_API_SECRET": "shpss_" + "x" * 32,
    "SHOPIFY_ADMIN_ORIGIN": "https://{shop}",
    "APP_URL": "https://powerpact.onrender.com",
    "RETAIL_SHOP": "bubbly.myshopify.com",
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}


def test_production_settings_are_read_and_normalised():
    settings = Settings.from_env(GOOD_PRODUCTION)
    assert settings.is_production
    assert settings.database_url == "postgresql+psycopg://u:p@db.internal:5432/powerpact"
    assert settings.flask_config()["SESSION_COOKIE_SECURE"] is True


def test_production_names_every_missing_setting_in_one_message():
    env = {k: v for k, v in GOOD_PRODUCTION.items() if k not in {"SHOPIFY_API_SECRET", "REDIS_URL"}}
    with pytest.raises(ConfigError) as excinfo:
        Settings.from_env(env)
    message = str(excinfo.value)
    assert "SHOPIFY_API_SECRET is not set" in message
    assert "REDIS_URL is not set" in message
    assert "DATABASE_URL" not in message


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("SECRET_KEY", "short", "SECRET_KEY is weak"),
        ("SHOPIFY_API_SECRET", "abc", "SHOPIFY_API_SECRET looks truncated"),
        ("DATABASE_URL", "sqlite:///x.db", "must point at PostgreSQL"),
        ("APP_URL", "http://powerpact.example", "https://"),
        ("RETAIL_SHOP", "evil.com", "*.myshopify.com"),
        ("TOKEN_ENCRYPTION_KEYS", "not-a-key", "not a Fernet key"),
    ],
)
def test_production_refuses_weak_settings(name, value, complaint):
    with pytest.raises(ConfigError, match="cannot start in production") as excinfo:
        Settings.from_env({**GOOD_PRODUCTION, name: value})
    assert complaint in str(excinfo.value)


def test_development_generates_and_keeps_its_own_secrets(tmp_path):
    env = {"POWERPACT_INSTANCE_DIR": str(tmp_path)}
    first = Settings.from_env(env)
    second = Settings.from_env(env)
    assert not first.is_production
    assert first.database_url == f"sqlite:///{tmp_path / 'powerpact.db'}"
    assert first.redis_url is None
    assert first.secret_key and first.secret_key == second.secret_key
    assert first.token_encryption_keys == second.token_encryption_keys
    Fernet(first.token_encryption_keys[0])
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0


def test_several_encryption_keys_are_split_in_order(tmp_path):
    k1, k2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    env = {"POWERPACT_INSTANCE_DIR": str(tmp_path), "TOKEN_ENCRYPTION_KEYS": f"{k1}, {k2}"}
    assert Settings.from_env(env).token_encryption_keys == (k1, k2)


def test_other_database_urls_are_left_alone():
    assert normalise_database_url("sqlite:///a.db") == "sqlite:///a.db"
    assert normalise_database_url("postgresql://h/db") == "postgresql+psycopg://h/db"


def test_the_delivery_sweep_age_defaults_to_three_minutes_and_can_be_set():
    assert Settings.from_env(GOOD_PRODUCTION).delivery_sweep_after_seconds == 180
    env = {**GOOD_PRODUCTION, "DELIVERY_SWEEP_AFTER_SECONDS": "20"}
    assert Settings.from_env(env).delivery_sweep_after_seconds == 20


def test_the_partner_search_lag_defaults_to_ten_seconds_and_can_be_set():
    assert Settings.from_env(GOOD_PRODUCTION).partner_search_lag_seconds == 10.0
    env = {**GOOD_PRODUCTION, "PARTNER_SEARCH_LAG_SECONDS": "2.5"}
    assert Settings.from_env(env).partner_search_lag_seconds == 2.5
