"""Configuration from `QUORUM_*` environment variables (README.md, "Configuration").

Settings are read once, in the entry point, and passed down; nothing reads the environment later.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from meetings.datadir import create_private_file, make_private_dir, secure_data_dir


class ConfigError(ValueError):
    """A setting an operator must fix; its message says what to write."""


DATABASE_URL_HELP = (
    "QUORUM_DATABASE_URL must name SQLite or PostgreSQL: write "
    "sqlite:////absolute/path/quorum.sqlite3 (or sqlite:///relative/path.sqlite3) "
    "or postgresql://user:password@host:5432/dbname"
)
DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
"""The spellings accepted in QUORUM_DATABASE_URL, each mapped to the async driver Quorum uses."""


def normalize_database_url(url: str) -> str:
    """`sqlite:///…`, `postgresql://…` and `postgres://…` (the usual spellings) become the async
    drivers' URLs; an already explicit `+aiosqlite` / `+asyncpg` URL is kept; anything else is a
    `ConfigError` saying what to write."""
    scheme, sep, rest = url.strip().partition("://")
    driver = DRIVERS.get(scheme.lower())
    if not sep or driver is None or not rest:
        got = f"{scheme}://…" if sep else "no scheme"  # never the rest: it may hold a password
        raise ConfigError(f"{DATABASE_URL_HELP} (got {got})")
    return f"{driver}://{rest}"


ARGON2_MIN_MEMORY_KIB = 19456
"""OWASP's minimum for argon2id (Password Storage Cheat Sheet): 19 MiB, 2 passes, 1 lane."""
ARGON2_MIN_TIME_COST = 2


def check_password_cost(settings: Settings) -> None:
    """Refuse a password hashing cost below OWASP's minimum for argon2id."""
    if settings.password_memory_kib < ARGON2_MIN_MEMORY_KIB:
        raise ConfigError(
            f"QUORUM_PASSWORD_MEMORY_KIB must be at least {ARGON2_MIN_MEMORY_KIB} (19 MiB, "
            f"OWASP's minimum for argon2id); got {settings.password_memory_kib}"
        )
    if settings.password_time_cost < ARGON2_MIN_TIME_COST:
        raise ConfigError(
            f"QUORUM_PASSWORD_TIME_COST must be at least {ARGON2_MIN_TIME_COST} (OWASP's "
            f"minimum for argon2id); got {settings.password_time_cost}"
        )


class Settings(BaseSettings):
    """Everything an operator can set. Defaults run Quorum on a bare machine."""

    model_config = SettingsConfigDict(env_prefix="QUORUM_", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Folder for the database, files, keys.")
    database_url: str = Field(
        default="",
        description="Database URL. Default: SQLite (WAL) at DATA_DIR/quorum.sqlite3. "
        "sqlite:///path or postgresql://user@host/db (postgres:// too; the async drivers "
        "are chosen by Quorum).",
    )
    redis_url: str = Field(default="", description="Redis URL for several workers (scale-out).")
    redis_channel: str = Field(
        default="quorum",
        min_length=1,
        max_length=200,
        description="Redis channel the workers of one deployment share. Two deployments on "
        "one Redis server (a rehearsal beside the real one) each need their own: on the same "
        "channel each would deliver the other's events to its own sittings' rooms.",
    )
    db_pool_size: int = Field(
        default=5,
        ge=1,
        description="PostgreSQL: connections each worker keeps open; a transaction that finds "
        "them all in use waits for one. A worker is one event loop on one core: more "
        "transactions at once only interleave, each holding its locks longer. Keep workers × "
        "(pool + overflow) under the server's max_connections (PostgreSQL's default is 100).",
    )
    db_pool_overflow: int = Field(
        default=0,
        ge=0,
        description="PostgreSQL: connections a worker may open beyond its pool for a burst, "
        "each closed again when it is returned (a new PostgreSQL process, its statements "
        "prepared again).",
    )
    secret_key: str = Field(default="", description="Signs CSRF tokens; generated on first run.")
    max_upload_mb: int = Field(default=100, description="Largest PDF accepted, in MiB.")
    max_pdf_pages: int = Field(default=3000, description="Largest PDF accepted, in pages.")
    pdf_check_workers: int = Field(
        default=2, description="Uploaded PDFs read at once, each in its own limited process."
    )
    pdf_check_seconds: int = Field(
        default=60, description="CPU seconds to read one uploaded PDF (then pdf_too_complex)."
    )
    pdf_check_memory_mb: int = Field(
        default=1024, description="Memory of the process reading one uploaded PDF, in MiB."
    )
    verify_max_mb: int = Field(default=20, description="Largest PDF the public verifier takes.")
    verify_concurrency: int = Field(
        default=2, description="Public verifications at once; more get 503 with Retry-After."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address the public reaches this server at (no trailing slash): the "
        "base of links printed into signed PDFs (their QR codes), the calendar feeds and the "
        "sitemap.",
    )
    session_days: int = Field(default=14, description="Lifetime of a login session / token.")
    cookie_secure: bool = Field(default=False, description="Mark cookies Secure (behind HTTPS).")
    login_attempts: int = Field(
        default=10,
        description="Free failed logins per name and address per 15 min, then growing delays.",
    )
    password_memory_kib: int = Field(
        default=ARGON2_MIN_MEMORY_KIB,
        description="Memory of one argon2id password hash, in KiB; at least 19456 (19 MiB, "
        "OWASP's minimum). Stored hashes made otherwise are redone at the next login.",
    )
    password_time_cost: int = Field(
        default=ARGON2_MIN_TIME_COST,
        description="Passes of one argon2id password hash; at least 2 (OWASP's minimum).",
    )
    password_workers: int = Field(
        default=0,
        ge=0,
        description="Password hashes computed at once, each in its own thread (0: one per core).",
    )
    login_queue: int = Field(
        default=2000,
        ge=1,
        description="Logins that may wait for a password check; one more gets 503 busy.",
    )
    login_wait_s: float = Field(
        default=20.0,
        gt=0,
        description="Longest expected wait for a password check; a login expected to wait "
        "longer gets 503 busy with Retry-After.",
    )
    http_rate: float = Field(
        default=100.0,
        description="REST requests per second per caller (a change counts 5; 0: no limit).",
    )
    http_burst: int = Field(default=1000, description="Burst of REST requests per caller.")
    command_rate: float = Field(default=30.0, description="Socket commands per second per client.")
    command_burst: int = Field(default=60, description="Burst of socket commands per client.")
    user_command_rate: float = Field(
        default=60.0, description="Socket commands per second per user, all connections together."
    )
    user_command_burst: int = Field(default=120, description="Burst of socket commands per user.")
    annotation_quota_count: int = Field(
        default=2000, description="Most annotations per user per document version."
    )
    annotation_quota_mb: float = Field(
        default=5.0, description="Most MB of annotations per user per document version."
    )
    annotation_total_count: int = Field(
        default=20000, description="Most annotations per user in all."
    )
    annotation_total_mb: float = Field(default=50.0, description="Most MB of annotations per user.")
    offline_hours: float = Field(
        default=12.0,
        gt=0,
        description="Hours a confidential document downloaded to a tablet's briefcase stays "
        "readable there without contact with the server.",
    )
    resync_limit: int = Field(default=500, description="Most events replayed on reconnect.")
    allowed_origins: str = Field(
        default="",
        description="Web origins besides the server's own that may open Socket.IO connections "
        "(comma-separated, e.g. https://display.council.example).",
    )
    tally_interval_ms: int = Field(default=50, description="Coalescing window of vote updates.")
    log_level: str = Field(default="info", description="Log level.")
    signing_pkcs12: str = Field(default="", description="Chair's signing key: PKCS#12 file.")
    signing_passphrase: str = Field(default="", description="Passphrase of SIGNING_PKCS12.")
    signing_pkcs11_module: str = Field(
        default="", description="Chair's key on a PKCS#11 token: module path."
    )
    signing_pkcs11_token: str = Field(default="", description="PKCS#11 token label.")
    signing_pkcs11_key: str = Field(default="", description="PKCS#11 key (and certificate) label.")
    signing_pkcs11_pin: str = Field(default="", description="PKCS#11 user PIN.")
    seal_pkcs12: str = Field(default="", description="Council seal: PKCS#12 file (optional).")
    seal_passphrase: str = Field(default="", description="Passphrase of SEAL_PKCS12.")
    signing_extra_certs: str = Field(
        default="", description="Intermediate CA PEM files, ':'-separated."
    )
    tsa_url: str = Field(default="", description="RFC 3161 time-stamp authority (B-T and up).")
    trust_roots: str = Field(default="", description="Trusted root PEM files, ':'-separated.")
    signing_level: str = Field(default="", description="B-B, B-T, B-LT; default: best possible.")
    signing_workers: int = Field(default=1, description="Signing worker processes.")

    @property
    def upload_limit(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'quorum.sqlite3').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    def prepare(self) -> Settings:
        """Create the data folder (owner-only: meetings/datadir.py) and keep a generated secret
        key there on first run.
        A database URL Quorum cannot use, or a password hashing cost below the floor, is
        refused here, before anything starts."""
        if self.database_url:
            normalize_database_url(self.database_url)
        check_password_cost(self)
        secure_data_dir(self.data_dir)
        make_private_dir(self.blob_dir)
        if not self.database_url:  # SQLite makes its -wal and -shm files with the same mode
            create_private_file(self.data_dir / "quorum.sqlite3")
        if not self.secret_key:
            key_file = self.data_dir / "secret.key"
            create_private_file(key_file, secrets.token_urlsafe(48).encode())
            self.secret_key = key_file.read_text().strip()
        return self


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides).prepare()  # type: ignore[arg-type]
