"""Settings, read from the environment (docs/design.md, "Stable interfaces").

Local use needs none of them: the embedded default keeps its database, its
queue and a generated development key under ``instance/``. In production
(``POWERPACT_ENV=production``) a missing or weak required setting stops
start-up with one message naming every offender.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHOP_DOMAIN_RE = re.compile(r"\A[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com\Z")
DEFAULT_SCOPES = (
    "read_products,write_products,read_inventory,write_inventory,read_locations,"
    "read_orders,write_orders,read_all_orders,read_fulfillments,write_fulfillments,"
    "read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders,"
    "read_assigned_fulfillment_orders,write_assigned_fulfillment_orders,write_order_edits"
)
SANDBOX_ADMIN_ORIGIN = "http://127.0.0.1:8765/shops/{shop}"


class ConfigError(RuntimeError):
    """A setting needed to start is missing or unusable."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    instance_dir: Path = PROJECT_ROOT / "instance"
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str = ""
    shopify_api_key: str = "powerpact-dev-key"
    shopify_api_secret: str = ""
    shopify_scopes: str = DEFAULT_SCOPES
    shopify_api_version: str = "2026-07"
    shopify_admin_origin: str = SANDBOX_ADMIN_ORIGIN
    app_url: str = "http://127.0.0.1:5000"
    retail_shop: str = "bubbly-retail.myshopify.com"
    token_encryption_keys: tuple[str, ...] = field(default_factory=tuple)
    delivery_sweep_after_seconds: int = 180
    partner_search_lag_seconds: float = 10.0

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build the settings; in production, refuse to start without what it needs."""
        env = os.environ if environ is None else environ
        mode = env.get("POWERPACT_ENV", "development").strip().lower()
        instance_dir = Path(env.get("POWERPACT_INSTANCE_DIR") or PROJECT_ROOT / "instance")
        if mode == "production":
            dev_secrets: dict[str, str] = {}
        else:
            dev_secrets = _development_secrets(instance_dir)
        keys = env.get("TOKEN_ENCRYPTION_KEYS") or dev_secrets.get("token_encryption_key", "")
        settings = cls(
            env=mode,
            instance_dir=instance_dir,
            database_url=normalise_database_url(
                env.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'powerpact.db'}"
            ),
            redis_url=env.get("REDIS_URL") or None,
            secret_key=env.get("SECRET_KEY") or dev_secrets.get("secret_key", ""),
            shopify_api_key=env.get("SHOPIFY_API_KEY") or cls.shopify_api_key,
            shopify_api_secret=env.get("SHOPIFY_API_SECRET")
            or dev_secrets.get("shopify_api_secret", ""),
            shopify_scopes=env.get("SHOPIFY_SCOPES") or DEFAULT_SCOPES,
            shopify_api_version=env.get("SHOPIFY_API_VERSION") or cls.shopify_api_version,
            shopify_admin_origin=env.get("SHOPIFY_ADMIN_ORIGIN") or SANDBOX_ADMIN_ORIGIN,
            app_url=(env.get("APP_URL") or cls.app_url).rstrip("/"),
            retail_shop=env.get("RETAIL_SHOP") or cls.retail_shop,
            token_encryption_keys=tuple(k.strip() for k in keys.split(",") if k.strip()),
            delivery_sweep_after_seconds=int(
                env.get("DELIVERY_SWEEP_AFTER_SECONDS") or cls.delivery_sweep_after_seconds
            ),
            partner_search_lag_seconds=float(
                env.get("PARTNER_SEARCH_LAG_SECONDS") or cls.partner_search_lag_seconds
            ),
        )
        if settings.is_production:
            problems = production_problems(settings, env)
            if problems:
                raise ConfigError(
                    "PowerPact cannot start in production: " + "; ".join(problems) + "."
                )
        return settings

    def flask_config(self) -> dict[str, object]:
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            "SESSION_COOKIE_SECURE": self.is_production,
            "SESSION_COOKIE_SAMESITE": "None" if self.is_production else "Lax",
            "POWERPACT": self,
        }


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs (as Render gives them) at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def production_problems(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """Name every required production setting that is missing or weak."""
    problems = [
        f"{name} is not set"
        for name in (
            "DATABASE_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "SHOPIFY_API_KEY",
            "SHOPIFY_API_SECRET",
            "SHOPIFY_ADMIN_ORIGIN",
            "APP_URL",
            "RETAIL_SHOP",
            "TOKEN_ENCRYPTION_KEYS",
        )
        if not env.get(name, "").strip()
    ]
    if env.get("SECRET_KEY") and len(settings.secret_key) < 32:
        problems.append("SECRET_KEY is weak (use at least 32 random characters)")
    if env.get("SHOPIFY_API_SECRET") and len(settings.shopify_api_secret) < 16:
        problems.append("SHOPIFY_API_SECRET looks truncated (under 16 characters)")
    if env.get("DATABASE_URL") and not settings.database_url.startswith("postgresql"):
        problems.append("DATABASE_URL must point at PostgreSQL in production")
    if env.get("APP_URL") and not settings.app_url.startswith("https://"):
        problems.append("APP_URL must be an https:// address")
    if env.get("RETAIL_SHOP") and not SHOP_DOMAIN_RE.match(settings.retail_shop):
        problems.append("RETAIL_SHOP must be a *.myshopify.com domain")
    for key in settings.token_encryption_keys:
        try:
            Fernet(key)
        except ValueError:
            problems.append("TOKEN_ENCRYPTION_KEYS holds a key that is not a Fernet key")
            break
    return problems


def _development_secrets(instance_dir: Path) -> dict[str, str]:
    """Generate local-only secrets once and keep them, so encrypted tokens stay readable."""
    path = instance_dir / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    instance_dir.mkdir(parents=True, exist_ok=True)
    generated = {
        "secret_key": secrets.token_urlsafe(48),
        "shopify_api_secret": secrets.token_urlsafe(32),
        "token_encryption_key": Fernet.generate_key().decode(),
    }
    path.write_text(json.dumps(generated, indent=2))
    path.chmod(0o600)
    return generated
