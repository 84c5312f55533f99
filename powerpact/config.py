"""Settings, read from the environment (docs/design.md, "Stable interfaces").

Local use needs none of them: the embedded default keeps its database, its
queue and a generated development key under ``instance/``. In production
(``POWERPACT_ENV=production``) a missing or weak required setting stops
start-up with one line for each offender; so does a ``POWERPACT_ENV`` that is
neither ``production`` nor ``development`` (a typo must not run development,
with its sign-in page, on a public address).

What production refuses (``production_problems``):

1. a required setting that is missing;
2. a development default: the key and secret the code ships for local use
   (``DEVELOPMENT_DEFAULTS``) as ``SECRET_KEY``, ``SHOPIFY_API_KEY`` or ``SHOPIFY_API_SECRET``;
3. a weak secret (``SECRET_KEY``, ``SHOPIFY_API_SECRET``): under 32 characters,
   fewer than 8 different characters, or one shorter piece repeated (``secret_weakness``);
   a Fernet key whose 32 bytes hold fewer than 16 different values, or repeat a piece;
4. a plain-http or shop-less ``SHOPIFY_ADMIN_ORIGIN``, a plain-http ``APP_URL``,
   a database that is not PostgreSQL, a ``RETAIL_SHOP`` that is not a shop domain.

The variety thresholds are far below what a generated secret has, so that a real one
is never refused: 32 hex characters (Shopify's older app secrets, the smallest
alphabet in use) hold fewer than 8 different ones about once in 30 million, 32 random
bytes fewer than 16 different values less than once in 10^14.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import AnyStr
from urllib.parse import parse_qs, unquote, urlsplit

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
ENVIRONMENTS = ("production", "development")
DEVELOPMENT_API_KEY = "powerpact-dev-key"
# The key and secret the code ships for local use: this module's and the sandbox's
# (powerpact/sandbox/config.py; tests/test_config.py keeps the two lists in step).
DEVELOPMENT_DEFAULTS = frozenset({DEVELOPMENT_API_KEY, "sandbox-secret-change-me-0123456789"})
MIN_SECRET_LENGTH = 32
MIN_SECRET_CHARACTERS = 8
MIN_KEY_BYTE_VALUES = 16


class ConfigError(RuntimeError):
    """A setting needed to start is missing or unusable: one line for each problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


SMTP_TLS_MODES = ("starttls", "ssl", "none")
SMTP_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class SmtpSettings:
    """Where notification emails go: ``SMTP_URL`` (``smtp://user:pass@host:port?tls=starttls``,
    ``smtps://`` for TLS from the start) or ``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USER``,
    ``SMTP_PASSWORD``, ``SMTP_TLS`` (starttls, ssl or none; default starttls). The password
    is never shown: not in ``repr``, not in a log line."""

    host: str
    port: int
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: str = "starttls"
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings | None:
        url = env.get("SMTP_URL", "").strip()
        if url:
            return cls.from_url(url)
        host = env.get("SMTP_HOST", "").strip()
        if not host:
            return None
        tls = smtp_tls_mode(env.get("SMTP_TLS") or "starttls")
        return cls(
            host=host,
            port=smtp_port(env.get("SMTP_PORT") or str(SMTP_DEFAULT_PORTS[tls])),
            user=env.get("SMTP_USER") or None,
            password=env.get("SMTP_PASSWORD") or None,
            tls=tls,
        )

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError(
                ["SMTP_URL must look like smtp://user:password@host:port?tls=starttls"]
            )
        query = parse_qs(parts.query)
        default_tls = "ssl" if parts.scheme == "smtps" else "starttls"
        tls = smtp_tls_mode((query.get("tls") or [default_tls])[0])
        try:
            port = parts.port or SMTP_DEFAULT_PORTS[tls]
        except ValueError:
            raise ConfigError(["SMTP_URL has a port that is not a number"]) from None
        return cls(
            host=parts.hostname,
            port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )


def smtp_tls_mode(text: str) -> str:
    mode = text.strip().lower()
    if mode not in SMTP_TLS_MODES:
        raise ConfigError([f"SMTP TLS must be one of {', '.join(SMTP_TLS_MODES)}, not {text!r}"])
    return mode


def smtp_port(text: str) -> int:
    if not text.strip().isdigit() or not 0 < int(text) < 65536:
        raise ConfigError([f"SMTP_PORT must be a port number, not {text!r}"])
    return int(text)


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    instance_dir: Path = PROJECT_ROOT / "instance"
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str = ""
    shopify_api_key: str = DEVELOPMENT_API_KEY
    shopify_api_secret: str = ""
    shopify_scopes: str = DEFAULT_SCOPES
    shopify_api_version: str = "2026-07"
    shopify_admin_origin: str = SANDBOX_ADMIN_ORIGIN
    app_url: str = "http://127.0.0.1:5000"
    retail_shop: str = "bubbly-retail.myshopify.com"
    token_encryption_keys: tuple[str, ...] = field(default_factory=tuple)
    delivery_sweep_after_seconds: int = 180
    partner_search_lag_seconds: float = 10.0
    proxy_hops: int = 0
    smtp: SmtpSettings | None = None
    mail_from: str = "PowerPact <notifications@powerpact.invalid>"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build the settings; in production, refuse to start without what it needs."""
        env = os.environ if environ is None else environ
        mode = env.get("POWERPACT_ENV", "").strip().lower() or "development"
        if mode not in ENVIRONMENTS:
            raise ConfigError(
                [
                    f"PowerPact cannot start: POWERPACT_ENV is {env['POWERPACT_ENV']!r}; "
                    "set it to production or development"
                ]
            )
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
            proxy_hops=int(env.get("PROXY_HOPS") or cls.proxy_hops),
            smtp=SmtpSettings.from_env(env),
            mail_from=env.get("MAIL_FROM") or cls.mail_from,
        )
        if settings.is_production:
            problems = production_problems(settings, env)
            if problems:
                raise ConfigError(
                    [f"PowerPact cannot start in production: {problem}" for problem in problems]
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
    for name, value in (
        ("SECRET_KEY", settings.secret_key),
        ("SHOPIFY_API_KEY", settings.shopify_api_key),
        ("SHOPIFY_API_SECRET", settings.shopify_api_secret),
    ):
        if env.get(name) and value in DEVELOPMENT_DEFAULTS:
            problems.append(f"{name} is a development default; set the real one")
    for name, value in (
        ("SECRET_KEY", settings.secret_key),
        ("SHOPIFY_API_SECRET", settings.shopify_api_secret),
    ):
        weakness = secret_weakness(value)
        if env.get(name) and value not in DEVELOPMENT_DEFAULTS and weakness:
            problems.append(f"{name} is weak: {weakness}")
    origin = settings.shopify_admin_origin
    if env.get("SHOPIFY_ADMIN_ORIGIN") and not origin.startswith("https://"):
        problems.append("SHOPIFY_ADMIN_ORIGIN must be an https:// address (https://{shop})")
    elif env.get("SHOPIFY_ADMIN_ORIGIN") and "{shop}" not in origin:
        problems.append("SHOPIFY_ADMIN_ORIGIN must contain {shop} (https://{shop})")
    if env.get("DATABASE_URL") and not settings.database_url.startswith("postgresql"):
        problems.append("DATABASE_URL must point at PostgreSQL in production")
    if env.get("APP_URL") and not settings.app_url.startswith("https://"):
        problems.append("APP_URL must be an https:// address")
    if env.get("RETAIL_SHOP") and not SHOP_DOMAIN_RE.match(settings.retail_shop):
        problems.append("RETAIL_SHOP must be a *.myshopify.com domain")
    for key in settings.token_encryption_keys:
        weakness = fernet_key_weakness(key)
        if weakness:
            problems.append(f"TOKEN_ENCRYPTION_KEYS holds {weakness}")
            break
    return problems


def secret_weakness(value: str) -> str | None:
    """Why a secret is too weak for production, or None (the rule in the module's docstring)."""
    if len(value) < MIN_SECRET_LENGTH:
        return f"under {MIN_SECRET_LENGTH} characters (use a generated secret)"
    return variety_weakness(value, MIN_SECRET_CHARACTERS, "characters")


def fernet_key_weakness(key: str) -> str | None:
    """Why a ``TOKEN_ENCRYPTION_KEYS`` entry is unusable or weak, or None."""
    try:
        Fernet(key)
    except ValueError:
        return "a key that is not a Fernet key"
    weakness = variety_weakness(base64.urlsafe_b64decode(key), MIN_KEY_BYTE_VALUES, "byte values")
    return f"a weak key: {weakness} (use Fernet.generate_key())" if weakness else None


def variety_weakness(value: AnyStr, minimum: int, unit: str) -> str | None:
    """1. fewer than ``minimum`` different characters (or bytes); 2. one piece repeated."""
    if len(set(value)) < minimum:
        return f"fewer than {minimum} different {unit}"
    if value in (value + value)[1:-1]:
        return "one piece repeated"
    return None


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
