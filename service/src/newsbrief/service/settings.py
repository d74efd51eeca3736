"""All settings of the service in one typed tree.

Every field is overridable by environment: ``NEWSBRIEF_<FIELD>`` at the top level and
``NEWSBRIEF_<SECTION>__<FIELD>`` below it (e.g. ``NEWSBRIEF_LIMITS__MAX_TEXT_CHARS=50000``).
An optional TOML, YAML or JSON file named by ``NEWSBRIEF_CONFIG_FILE`` (or ``--config``) gives
values that the environment overrides: explicit arguments > environment > file > defaults.
:func:`load_settings` (what the server runs at start) refuses a key of the file or a
``NEWSBRIEF_*`` variable that names no setting, naming the nearest valid one: a misspelt
setting is an error, never silently ignored. Nothing else in the service reads ``os.environ``.
"""

from __future__ import annotations

import contextvars
import difflib
import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

CONFIG_FILE_ENV = "NEWSBRIEF_CONFIG_FILE"
ENV_PREFIX = "NEWSBRIEF_"
#: ``NEWSBRIEF_*`` variables that belong to other newsbrief tools, not to the server's settings:
#: the config file itself, the client CLI's target and API key, and the test suite's evaluation
#: data folder, fuzzing scale and browser-test switch.
OTHER_VARIABLES = frozenset(
    {
        CONFIG_FILE_ENV,
        "NEWSBRIEF_TARGET",
        "NEWSBRIEF_API_KEY",
        "NEWSBRIEF_DATA_DIR",
        "NEWSBRIEF_FUZZ_SCALE",
        "NEWSBRIEF_BROWSER_TEST",
        "NEWSBRIEF_CHROMIUM",
        "NEWSBRIEF_CHROMEDRIVER",
        "NEWSBRIEF_DEPLOY_TOOLS",
    }
)
_config_file: contextvars.ContextVar[str] = contextvars.ContextVar(
    "newsbrief_config_file", default=""
)


class LimitsSettings(BaseModel):
    """Bounds on what one request may carry."""

    max_text_chars: int = Field(100_000, gt=0, description="Longest article text, in characters.")
    max_html_bytes: int = Field(2_000_000, gt=0, description="Largest HTML page, in UTF-8 bytes.")
    max_title_chars: int = Field(1_000, gt=0, description="Longest title, in characters.")
    max_target_languages: int = Field(4, gt=0, description="Most target languages in one request.")
    max_translate_texts: int = Field(64, gt=0, description="Most texts in one Translate call.")
    max_client_reference_chars: int = Field(
        256, gt=0, description="Longest client_reference, in characters."
    )
    max_sentences: int = Field(20, gt=0, description="Largest sentence budget a caller may ask.")
    max_words: int = Field(1_000, gt=0, description="Largest word budget a caller may ask.")
    max_key_points: int = Field(10, gt=0, description="Most key points a caller may ask.")


class BriefSettings(BaseModel):
    """The built-in extractive brief."""

    short_sentences: int = Field(2, gt=0, description="Summary sentences for length=short.")
    medium_sentences: int = Field(3, gt=0, description="Summary sentences for length=medium.")
    long_sentences: int = Field(5, gt=0, description="Summary sentences for length=long.")
    short_words: int = Field(60, gt=0, description="Word budget for length=short.")
    medium_words: int = Field(100, gt=0, description="Word budget for length=medium.")
    long_words: int = Field(180, gt=0, description="Word budget for length=long.")
    key_points: int = Field(3, ge=0, description="Default number of key points.")
    headline_max_words: int = Field(
        20, gt=0, description="Headlines longer than this are shortened at a clause boundary."
    )
    lead_bonus: float = Field(
        1.0, ge=0, description="Weight of an article's lead: higher prefers early sentences more."
    )
    max_candidate_sentences: int = Field(
        1000,
        gt=0,
        description="Only an article's first this many sentences are candidates for the brief "
        "(a news article has far fewer): bounds the brief's work on huge or hostile texts.",
    )
    summary_window: int = Field(
        15,
        gt=0,
        description="The summary is chosen among the article's first this many sentences that "
        "are not page furniture (news puts the essentials first).",
    )
    position_decay: float = Field(
        0.5,
        ge=0,
        description="How much a later sentence of the window is discounted in the summary's "
        "choice: its gain is divided by 1 + position_decay * rank.",
    )
    length_exponent: float = Field(
        0.75,
        ge=0,
        description="A sentence's gain in the summary's choice is divided by its length to this "
        "power: higher prefers shorter sentences.",
    )
    redundancy_threshold: float = Field(
        0.6,
        gt=0,
        le=1,
        description="Sentences at least this similar (token Jaccard) to a chosen one are skipped.",
    )


class LanguageSettings(BaseModel):
    """Language detection."""

    supported: list[str] = Field(
        default_factory=lambda: ["en", "ko", "ms", "id"],
        description="BCP-47 codes the detector chooses among and the brief accepts.",
    )
    translation_targets: list[str] = Field(
        default_factory=lambda: ["en", "ko", "ms", "id"],
        description="BCP-47 codes accepted as translation targets (needs a translator).",
    )
    min_confidence: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Below this the language is reported as 'und' with a warning.",
    )
    mixed_threshold: float = Field(
        0.7,
        gt=0,
        le=1,
        description="A text whose main language holds less than this share of its letters is "
        "'mixed': reported as 'und' with a LANGUAGE_MIXED warning.",
    )
    min_letters: int = Field(
        4,
        ge=1,
        description="Texts with fewer letters than this (a word or two) are 'und': too short to "
        "tell (Korean text counts its syllables).",
    )
    malay_prior: float = Field(
        -0.04,
        ge=-0.5,
        le=0.5,
        description="Lean towards Malay (positive) or Indonesian (negative) when no word in the "
        "text tells Malay from Indonesian (added to Malay's share of their joint score; the "
        "default offsets the detector's slight lean to Malay on single sentences).",
    )
    unsupported_margin: float = Field(
        0.1,
        ge=0,
        le=1,
        description="A text is in an unsupported language (reported with its own code and a "
        "LANGUAGE_UNSUPPORTED warning; the brief is extractive) when, over all the languages "
        "the detector knows, that language scores at least this much above all the supported "
        "languages together.",
    )
    unsupported_min_letters: int = Field(
        40,
        ge=1,
        description="Texts with fewer letters than this need unsupported_short_margin instead "
        "of unsupported_margin to be called unsupported: the all-languages view (trigram "
        "models) is less reliable on a few words.",
    )
    unsupported_short_margin: float = Field(
        0.6,
        ge=0,
        le=1,
        description="The margin of unsupported_margin for texts under unsupported_min_letters.",
    )
    function_word_shortcut: bool = Field(
        True,
        description="Skip the costly look over all the languages the detector knows (which "
        "tells an unsupported language) for a text that is plainly in a supported one: mostly "
        "Hangul, or 40 words or more of which English, or Malay/Indonesian, function words make "
        "a share no other language reaches. Off: every text is looked at over all languages.",
    )


class IntakeSettings(BaseModel):
    """Article intake: removal of page furniture from scraped text and extracted HTML."""

    clean_text: bool = Field(
        True,
        description="Remove page furniture (repeated headline, captions, UI words, timestamps, "
        "promotions, comments) and the stories listed after the main one from plain text.",
    )
    clean_html: bool = Field(
        True, description="Apply the same cleaning to the main text extracted from HTML."
    )
    page_dump_lines: int = Field(
        30,
        ge=1,
        description="Plain text of at least this many lines is treated as a whole page dumped "
        "to text (a scraper's output): only its lines that read as prose are kept before the "
        "furniture cleaning.",
    )
    page_dump_max_lines: int = Field(
        2000,
        ge=1,
        description="... and at most this many (real pages have a few hundred): jusText's "
        "classification grows faster than linearly on many short lines, so longer text is "
        "only cleaned by the furniture rules.",
    )
    min_kept_chars: int = Field(
        80,
        ge=0,
        description="When cleaning would leave fewer letters than this, the original text is "
        "kept (with a BOILERPLATE_KEPT warning).",
    )
    min_kept_ratio: float = Field(
        0.05,
        ge=0,
        le=1,
        description="... or less than this share of the original's letters.",
    )
    max_tag_attributes: int = Field(
        256,
        ge=1,
        description="An HTML tag keeps only its first this many attributes; the rest are dropped "
        "before the page is parsed (the HTML parser's time grows with the square of one tag's "
        "attributes: 30,000 on one tag took seconds; real pages have at most about a hundred).",
    )


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _split_list(value: Any) -> Any:
    """A list setting given in the environment as a JSON list or a comma-separated string."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part for part in (p.strip() for p in text.split(",")) if part]
    return value


ListSetting = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]
"""A list of strings; in the environment a JSON list or a comma-separated string."""


class AuthSettings(BaseModel):
    """API keys. With no keys configured, the service needs none."""

    api_key_hashes: ListSetting = Field(
        default_factory=list,
        description="SHA-256 hex digests (64 hex digits) of the accepted API keys (sent as "
        "'x-api-key'); in the environment a JSON list or a comma-separated list. A malformed "
        "digest stops the server at start.",
    )
    requests_per_minute: int = Field(
        0,
        ge=0,
        description="Per-key quota per minute (0 = unlimited); each unary call counts one, each "
        "article of a SummarizeStream counts one. For the whole deployment when quota_replicas "
        "is set: see quota_replicas.",
    )
    quota_window_s: float = Field(
        60.0, gt=0, description="Length of the sliding quota window, in seconds."
    )
    quota_replicas: int = Field(
        1,
        ge=1,
        description="Replicas that share requests_per_minute. Counters are kept in each replica "
        "(no shared store on the request path); each replica allows its share, "
        "ceil(requests_per_minute / quota_replicas), which holds a key to its quota when clients "
        "spread calls evenly (round_robin over a headless Service). Set it to the replica count.",
    )

    @property
    def replica_requests_per_minute(self) -> int:
        """This replica's share of the per-key quota (0 = unlimited)."""
        return math.ceil(self.requests_per_minute / self.quota_replicas)

    @field_validator("api_key_hashes")
    @classmethod
    def _hashes_are_sha256(cls, value: list[str]) -> list[str]:
        out = []
        for i, digest in enumerate(value):
            normal = digest.strip().lower()
            if not _SHA256_HEX.fullmatch(normal):
                shown = normal[:16] + ("..." if len(normal) > 16 else "")
                raise ValueError(
                    f"api_key_hashes[{i}] ({shown!r}) is not a SHA-256 hex digest (64 hex digits;"
                    " make one with: printf %s KEY | sha256sum)"
                )
            out.append(normal)
        return out


class TLSSettings(BaseModel):
    """TLS for the listening port; plaintext when no certificate is given. A certificate without
    a key (or the reverse), or a client CA without both, stops the server at start."""

    cert_file: Path | None = Field(None, description="PEM certificate chain.")
    key_file: Path | None = Field(None, description="PEM private key.")
    client_ca_file: Path | None = Field(
        None, description="PEM CA bundle; when set, clients must present a certificate (mTLS)."
    )
    health_ca_file: Path | None = Field(
        None,
        description="CA the health check (`newsbrief-server health`) trusts for cert_file; "
        "default: client_ca_file, else cert_file itself (a self-signed certificate).",
    )
    health_server_name: str = Field(
        "localhost",
        description="Name the health check expects in the server certificate (a DNS SAN).",
    )

    @model_validator(mode="after")
    def _complete_or_none(self) -> TLSSettings:
        if bool(self.cert_file) != bool(self.key_file):
            given, missing = (
                ("cert_file", "key_file") if self.cert_file else ("key_file", "cert_file")
            )
            raise ValueError(
                f"tls.{given} is set but tls.{missing} is not: refusing to serve plaintext; "
                "set both (TLS) or neither (plaintext)"
            )
        if self.client_ca_file and not self.cert_file:
            raise ValueError(
                "tls.client_ca_file (mTLS) needs tls.cert_file and tls.key_file: refusing to "
                "serve plaintext"
            )
        for name in ("cert_file", "key_file", "client_ca_file"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"tls.{name}: {path} is not a readable file")
        return self


class AdmissionSettings(BaseModel):
    """Admission control of the API methods (health and reflection are never limited). A call
    over a limit is refused at once with RESOURCE_EXHAUSTED and a RetryInfo delay; while the
    server drains, new calls get UNAVAILABLE with a RetryInfo delay."""

    summarize: int = Field(64, gt=0, description="Summarize calls handled at once.")
    translate: int = Field(32, gt=0, description="Translate calls handled at once.")
    summarize_stream: int = Field(32, gt=0, description="SummarizeStream calls open at once.")
    server_info: int = Field(16, gt=0, description="GetServerInfo calls handled at once.")
    streams_per_connection: int = Field(
        8, gt=0, description="SummarizeStream calls open at once on one client connection."
    )
    stream_idle_timeout_s: float = Field(
        60.0,
        gt=0,
        description="A stream with no article in flight that sends no new article for this long "
        "is ended with DEADLINE_EXCEEDED (its slot is freed).",
    )
    retry_after_s: float = Field(
        1.0, ge=0, description="Retry delay suggested to callers refused by a limit."
    )
    draining_retry_after_s: float = Field(
        0.5, ge=0, description="Retry delay suggested to callers that arrive while draining."
    )


class HttpSettings(BaseModel):
    """Bounds of the HTTP/JSON port (and of the /metrics port, served the same way)."""

    max_connections: int = Field(
        0,
        ge=0,
        description="Connections open at once on the port; one more is accepted and closed at "
        "once. 0 = a quarter of the process's open-file limit after a reserve of 128 (256 at a "
        "limit of 1,152... 16,352 at 65,536), so that the HTTP and metrics ports at their caps "
        "leave half the files to the gRPC port and the rest of the server.",
    )
    keep_alive_timeout_s: float = Field(
        5.0,
        gt=0,
        description="An idle connection (no request in progress) is closed after this; it also "
        "bounds the time a client has to send a request's headers.",
    )
    read_timeout_s: float = Field(
        30.0,
        gt=0,
        description="The longest silence from a client while its request is read or its stream "
        "is open (whole seconds); the connection is closed after it.",
    )
    body_timeout_s: float = Field(
        30.0,
        gt=0,
        description="A unary call's whole body must arrive within this (else 408), however "
        "slowly it trickles in.",
    )
    h2_max_concurrent_streams: int = Field(
        100, gt=0, description="HTTP/2 streams open at once on one connection."
    )
    refusal_log_interval_s: float = Field(
        60.0, gt=0, description="Refused connections (over the cap) are logged at most this often."
    )
    allowed_hosts: ListSetting = Field(
        default_factory=list,
        description="Host names the port answers for (the Host header; '*.example.org' "
        "wildcards; '*' = any). IP addresses and localhost are always answered. Empty = any name "
        "when API keys are configured, else none (a page that rebinds a DNS name to this server "
        "cannot reach a keyless one); in the environment a JSON list or a comma-separated list.",
    )


class WebhookSettings(BaseModel):
    """Delivery of a finished job to its callback URL: a signed POST, retried with exponential
    backoff and jitter for a bounded time (at least once: a receiver drops repeats by the
    delivery id). Callback hosts are refused unless listed in ``allowed_hosts``."""

    secret: SecretStr = Field(
        SecretStr(""),
        description="Key of the HMAC-SHA256 signature of every delivery (header "
        "Newsbrief-Signature: v1=hex(HMAC(secret, timestamp + '.' + body))). Empty = jobs with a "
        "callback URL are refused (FAILED_PRECONDITION): deliveries are never sent unsigned.",
    )
    allowed_hosts: ListSetting = Field(
        default_factory=list,
        description="Where callbacks may go (empty = nowhere): host names ('cms.example.com'), "
        "subdomain wildcards ('*.example.com'), IP addresses or CIDR networks ('10.0.0.0/8'). "
        "A callback host must match an entry, and every address it resolves to must be public "
        "unless it lies in a listed address or network (so 'localhost' needs '127.0.0.1' too). "
        "In the environment a JSON list or a comma-separated list.",
    )
    timeout_s: float = Field(
        10.0, gt=0, description="Time limit of one delivery attempt (connect + answer)."
    )
    max_age_s: float = Field(
        3600.0,
        gt=0,
        description="Attempts stop this long after the first one; the delivery is then 'failed'.",
    )
    initial_backoff_s: float = Field(
        1.0, gt=0, description="Wait after the first failed attempt; doubled after each one."
    )
    max_backoff_s: float = Field(300.0, gt=0, description="Longest wait between two attempts.")
    jitter: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Each wait is drawn uniformly within this share of itself (0.2: +/-20%), so "
        "receivers that came back are not hit by every replica at once.",
    )
    concurrency: int = Field(4, gt=0, description="Deliveries sent at once by one replica.")


class JobsSettings(BaseModel):
    """Background jobs (JobService): durable in a database, run by every replica that shares it.
    SQLite (one file under ``state_dir``) is the default for one replica; several replicas share
    a PostgreSQL database (``url = "postgresql://..."``) and claim jobs with row locks."""

    enabled: bool = Field(
        True,
        description="Serve JobService and run jobs; when off, its calls are FAILED_PRECONDITION.",
    )
    url: str = Field(
        "",
        description="Database of the jobs: 'sqlite:///PATH' or 'postgresql://USER:PASSWORD@HOST"
        "/DB' (driver psycopg 3); empty = sqlite:///<state_dir>/jobs.sqlite3.",
    )
    concurrency: int = Field(2, gt=0, description="Jobs one replica runs at once.")
    article_concurrency: int = Field(4, gt=0, description="Articles of one job briefed at once.")
    max_articles: int = Field(1000, gt=0, description="Most articles in one job.")
    max_idempotency_key_chars: int = Field(
        128, gt=0, description="Longest idempotency key, in characters."
    )
    max_callback_url_chars: int = Field(
        2048, gt=0, description="Longest callback URL, in characters."
    )
    retention_s: float = Field(
        7 * 24 * 3600.0,
        gt=0,
        description="A finished job, its results and its idempotency key are deleted this long "
        "after it finished.",
    )
    lease_s: float = Field(
        30.0,
        gt=0,
        description="A replica renews its hold on a running job every lease_s / 3; a job whose "
        "replica stopped renewing (killed) is taken over by another after this long. Replicas' "
        "clocks must agree to well within it.",
    )
    poll_s: float = Field(
        1.0, gt=0, description="How often an idle replica looks for queued jobs and deliveries."
    )
    article_timeout_s: float = Field(
        120.0, gt=0, description="Deadline of one article's brief (DEADLINE_EXCEEDED after it)."
    )
    article_max_attempts: int = Field(
        5,
        gt=0,
        description="An article started this many times without an outcome (transient errors, "
        "replicas that died while briefing it) fails with UNAVAILABLE; a quota wait does not "
        "count.",
    )
    retry_delay_s: float = Field(
        1.0,
        ge=0,
        description="Wait before an article that failed transiently (server busy, worker lost) "
        "runs again, when the error gives no delay of its own.",
    )
    cleanup_interval_s: float = Field(60.0, gt=0, description="How often expired jobs are deleted.")
    max_page_size: int = Field(500, gt=0, description="Most jobs in one ListJobs page.")
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)


class LoggingSettings(BaseModel):
    level: str = Field("INFO", description="Root log level.")
    json_lines: bool = Field(False, description="Write logs as JSON lines.")
    access_log: bool = Field(True, description="Log one line per RPC.")
    request_id_max_chars: int = Field(
        128,
        ge=1,
        le=1024,
        description="Longest request id taken from a caller (x-request-id); an id that is "
        "longer, or holds a character outside A-Z a-z 0-9 . _ : / + = @ -, is replaced by one "
        "made here (returned in x-request-id), never cut or cleaned.",
    )


class TracingSettings(BaseModel):
    """OpenTelemetry traces: one span per RPC (the caller's W3C ``traceparent`` is its parent),
    one per pipeline stage and one per model batch. Off by default: nothing is imported then."""

    enabled: bool = Field(False, description="Record traces (needs the tracing extra).")
    otlp_endpoint: str = Field(
        "",
        description="OTLP/gRPC collector address (e.g. http://otel-collector:4317); empty = "
        "spans are recorded for in-process exporters only.",
    )
    otlp_insecure: bool = Field(True, description="Plaintext to the collector (no TLS).")
    service_name: str = Field("newsbrief", description="The service.name resource attribute.")
    sample_ratio: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Share of new traces recorded; a caller's sampling decision is followed.",
    )


class DecodingSettings(BaseModel):
    """Decoding of a neural model; unset fields take the preset's defaults
    (``newsbrief.service.models.presets``). Deterministic unless sampling is added."""

    num_beams: int | None = Field(None, gt=0, description="Beam size (1 = greedy).")
    length_penalty: float | None = Field(None, description="Beam length penalty.")
    no_repeat_ngram_size: int | None = Field(None, ge=0, description="Forbid repeated n-grams.")
    max_new_tokens: int | None = Field(None, gt=0, description="Most tokens generated.")
    min_new_tokens: int | None = Field(None, ge=0, description="Fewest tokens generated.")


class BatchingSettings(BaseModel):
    """Micro-batching of one model's calls across concurrent requests
    (``newsbrief.service.models.batching``). Items of the same kind (e.g. one language pair) are
    grouped into one model call; the number of batches run at once is the slot's
    ``inter_threads``."""

    enabled: bool = Field(True, description="Group concurrent requests into shared model calls.")
    max_batch_size: int = Field(16, gt=0, description="Most items (texts) in one model call.")
    max_wait_ms: float = Field(
        50.0,
        ge=0,
        description="Longest a partial batch waits for more items while a worker is free, from "
        "its oldest item (while another batch runs, from when a batch last finished if that is "
        "later: a worker just freed waits for the clients its answers bring back). 0 runs it at "
        "once (batches then form only from the items that queue while every worker is busy).",
    )
    max_gap_ms: float = Field(
        10.0,
        ge=0,
        description="While no batch of the model runs, a partial batch also closes once no "
        "item has joined it for this long: a burst of requests is gathered into one batch, and "
        "a lone request waits only this long. While a batch runs, or while calls in progress "
        "have yet to send their texts, only max_wait_ms counts (under load, the requests of "
        "clients answered together arrive further apart). 0 = only max_wait_ms counts.",
    )
    max_batch_tokens: int = Field(
        4096,
        gt=0,
        description="Token budget of one batch, counted padded: items x the longest item's "
        "tokens. A single longer item still runs, alone.",
    )
    max_queue: int = Field(
        512,
        gt=0,
        description="Items waiting for a worker; beyond it requests get RESOURCE_EXHAUSTED "
        "with a retry delay.",
    )
    similar_lengths: bool = Field(
        True, description="Batch items of similar length together (less padding)."
    )
    retry_after_s: float = Field(
        1.0, ge=0, description="Retry delay suggested to callers refused because the queue is full."
    )
    shutdown_timeout_s: float = Field(
        10.0, ge=0, description="On stop: how long running batches may take to finish."
    )


class TranslationCacheSettings(BaseModel):
    """In-process LRU cache of single translated texts (``newsbrief.service.caching.translations``):
    a sentence already translated by the same model (id, revision, engine, decoding) between the
    same two languages is not sent to the model again, whatever request it comes in. Within one
    request identical texts are always translated once, with this cache on or off."""

    enabled: bool = Field(True, description="Reuse translations of texts seen before.")
    max_entries: int = Field(
        20_000, ge=0, description="Most translated texts kept (0 = no translation cache)."
    )
    max_bytes: int = Field(
        16 * 1024 * 1024,
        ge=0,
        description="Most bytes kept: UTF-8 size of the source texts plus their translations.",
    )


class CacheSettings(BaseModel):
    """In-process LRU cache of whole results (``newsbrief.service.caching.results``): the key
    covers the normalised input, every option that changes the output, and the models' ids and
    revisions."""

    enabled: bool = Field(True, description="Serve repeated requests from the cache.")
    max_entries: int = Field(1024, ge=0, description="Most results kept (0 = no cache).")
    max_bytes: int = Field(
        64 * 1024 * 1024, ge=0, description="Most bytes of results kept (serialised size)."
    )
    translations: TranslationCacheSettings = Field(
        default_factory=TranslationCacheSettings,
        description="Sentence-level cache of translations.",
    )
    shared_across_keys: bool = Field(
        False,
        description="Let every API key be answered from results and translations cached for "
        "another key. Off, each key (tenant) has its own entries in both caches: a key cannot "
        "learn, from cached: true, the timings or the translation counts, that another key sent "
        "the same article (an embargoed story), at the price of briefing and translating an "
        "article once per key that sends it. Without API keys all callers share one tenant.",
    )


class ModelSlotSettings(BaseModel):
    """One model role (summariser or translator): which preset, from where, on which engine."""

    preset: str = Field(
        description="Preset name (see `newsbrief-server models list`); 'none' = off."
    )
    path: str = Field(
        "", description="Local model directory; overrides the preset's Hugging Face id."
    )
    revision: str = Field("", description="Hub revision; empty = the preset's pinned revision.")
    engine: Literal["transformers", "ctranslate2"] = Field(
        "transformers", description="Inference engine."
    )
    device: str = Field("cpu", description="'cpu' or 'cuda' (transformers engine).")
    threads: int = Field(
        0, ge=0, description="Intra-op threads (0 = the cores, shared among the inter_threads)."
    )
    inter_threads: int = Field(
        2,
        ge=1,
        description="Parallel batches (CTranslate2 inter_threads / worker count). Two batches "
        "side by side, each on half the cores (the default), won make bench's thread-layout "
        "sweep on 2 cores at beam 4: the most translations per second at 16 clients, and a "
        "lone request answered sooner than by one batch on both cores; each batch holds its "
        "own working memory (README: Choosing a thread layout).",
    )
    compute_type: str = Field("int8", description="CTranslate2 compute type (int8, float32...).")
    decoding: DecodingSettings = Field(default_factory=DecodingSettings)
    batching: BatchingSettings = Field(default_factory=BatchingSettings)


DEFAULT_PRESETS = {"summarizer": "extractive", "translator": "m2m100-418m"}


class ModelsSettings(BaseModel):
    """Neural models. Weights come from the Hugging Face cache (``newsbrief-server models
    download``) or a local directory; a configured model that is absent leaves the server up,
    serving what it can."""

    summarizer: ModelSlotSettings = Field(
        default_factory=lambda: ModelSlotSettings.model_validate({"preset": "extractive"}),
        description="Summariser: 'extractive' (built in), 'distilbart-cnn', 'mt5-xlsum'.",
    )
    translator: ModelSlotSettings = Field(
        default_factory=lambda: ModelSlotSettings.model_validate({"preset": "m2m100-418m"}),
        description="Translator: 'm2m100-418m' (default), 'nllb-600m', 'madlad400-3b', 'none'.",
    )
    cache_dir: Path | None = Field(
        None, description="Hugging Face cache directory (default: the hub's own default)."
    )
    ct2_dir: Path = Field(
        Path("models/ct2"), description="Where converted CTranslate2 models are kept."
    )
    download_on_start: bool = Field(
        False, description="Fetch missing weights at start-up (needs network access)."
    )

    @model_validator(mode="before")
    @classmethod
    def _role_default_presets(cls, data: Any) -> Any:
        """A slot given without a preset (e.g. only ``NEWSBRIEF_MODELS__TRANSLATOR__PATH``)
        keeps its role's default preset."""
        if isinstance(data, dict):
            for role, preset in DEFAULT_PRESETS.items():
                slot = data.get(role)
                if isinstance(slot, dict) and "preset" not in slot:
                    data = {**data, role: {"preset": preset, **slot}}
        return data


class Settings(BaseSettings):
    """The whole configuration of one newsbrief server."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBRIEF_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    host: str = Field("[::]", description="Address to listen on.")
    port: int = Field(50051, ge=0, le=65535, description="Port to listen on (0 = any free port).")
    http_port: int = Field(
        8080,
        ge=-1,
        le=65535,
        description="Port of the HTTP/JSON front end on the same host (every RPC as JSON, "
        "/healthz, /readyz, /openapi.json, the editor's page at /); 0 = off, -1 = any free port.",
    )
    max_message_bytes: int = Field(
        4 * 1024 * 1024,
        gt=0,
        description="Largest gRPC message accepted or sent. A larger request gets "
        "RESOURCE_EXHAUSTED with its request id; past twice this size grpc refuses it before "
        "the server reads it (no request id then).",
    )
    max_concurrent_rpcs: int = Field(
        256,
        gt=0,
        description="API calls (all methods together, gRPC and HTTP together; health and "
        "reflection not counted) handled at once; more are refused with RESOURCE_EXHAUSTED and a "
        "retry delay.",
    )
    max_call_seconds: float = Field(
        120.0,
        gt=0,
        description="The longest a call may run when its client sets no deadline (a shorter "
        "client deadline wins); in a stream, each article's bound. Work still running past it is "
        "stopped and the call ends DEADLINE_EXCEEDED.",
    )
    stream_concurrency: int = Field(
        4, gt=0, description="Articles of one SummarizeStream briefed at once."
    )
    workers: int = Field(
        2,
        gt=0,
        description="Worker processes for the CPU-bound pipeline stages (HTML extraction, "
        "cleaning, language detection, sentence splitting, the extractive brief and its checks), "
        "so that no input slows the answers to other calls; they share one copy of the language "
        "models (see workers_share_models).",
    )
    workers_share_models: bool = Field(
        True,
        description="Load the language models (about 130 MB) once, in the process the worker "
        "processes are forked from, and share them among the workers copy-on-write, rather "
        "than once per worker (Linux and other systems with the forkserver start method).",
    )
    language_models_at_start: bool = Field(
        True,
        description="Load the language models when the server starts (shared by the workers: "
        "see workers_share_models). Off: none is loaded until a call without source_language "
        "needs a text's language detected; each worker process then loads the models it needs "
        "itself, unshared, and its first detection is slower (a second or so). For a server "
        "whose callers name the source language (a Translate-only service): it saves the "
        "models' memory, about 100 MiB.",
    )
    workers_kill_grace_s: float = Field(
        0.5,
        ge=0,
        description="A stage still running in a worker process this long after its call's "
        "deadline is stopped: the worker process is killed and a new one started (it loads its "
        "language models in the background) and the call gets DEADLINE_EXCEEDED, so no input "
        "holds a worker past its caller's deadline.",
    )
    grace_seconds: float = Field(
        10.0, ge=0, description="On SIGTERM: how long in-flight RPCs may finish before the stop."
    )
    drain_seconds: float = Field(
        1.0,
        ge=0,
        description="On SIGTERM: how long health says NOT_SERVING before the port closes.",
    )
    refuse_seconds: float = Field(
        0.3,
        ge=0,
        description="On SIGTERM, after the drain: how long new calls are refused with "
        "UNAVAILABLE and a retry delay before the port closes, so calls already queued inside "
        "grpc get an answer clients retry instead of being cancelled by the close.",
    )
    max_connection_age_s: float = Field(
        300.0,
        gt=0,
        description="Connections are recycled after this, so load rebalances: the client is "
        "asked to reconnect for new calls; calls open on the old connection (long streams "
        "included) are never cut by the rotation.",
    )
    reflection: bool = Field(True, description="Serve gRPC server reflection.")
    state_dir: Path = Field(
        default_factory=lambda: Path.home() / ".local" / "state" / "newsbrief",
        description="The server's data directory: where it keeps what must outlive it (the "
        "jobs database by default). Created at start when jobs need it.",
    )
    metrics_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="Port of the Prometheus /metrics endpoint (HTTP); 0 = no metrics.",
    )
    metrics_host: str = Field("0.0.0.0", description="Address the /metrics endpoint listens on.")
    models_dir: Path | None = Field(
        None,
        description="One folder for all model files (a container's models volume): the Hugging "
        "Face cache goes to <models_dir>/hf/hub and converted models to <models_dir>/ct2, unless "
        "models.cache_dir or models.ct2_dir are set.",
    )
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    brief: BriefSettings = Field(default_factory=BriefSettings)
    language: LanguageSettings = Field(default_factory=LanguageSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    tls: TLSSettings = Field(default_factory=TLSSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    models: ModelsSettings = Field(default_factory=ModelsSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    admission: AdmissionSettings = Field(default_factory=AdmissionSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)

    @property
    def jobs_url(self) -> str:
        """The jobs database URL: ``jobs.url``, or the SQLite file under ``state_dir``."""
        return self.jobs.url or f"sqlite:///{self.state_dir / 'jobs.sqlite3'}"

    @field_validator("host")
    @classmethod
    def _host_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("host must not be empty")
        return value

    @model_validator(mode="after")
    def _models_under_models_dir(self) -> Settings:
        if self.models_dir is not None:
            given = self.models.model_fields_set
            if "cache_dir" not in given:
                self.models.cache_dir = self.models_dir / "hf" / "hub"
            if "ct2_dir" not in given:
                self.models.ct2_dir = self.models_dir / "ct2"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_file.get() or os.environ.get(CONFIG_FILE_ENV, "")
        return (init_settings, env_settings, _FileSource(settings_cls, path))


class _FileSource(PydanticBaseSettingsSource):
    """Settings from a TOML, YAML or JSON file (lowest precedence)."""

    def __init__(self, settings_cls: type[BaseSettings], path: str) -> None:
        super().__init__(settings_cls)
        self._data = load_config_file(Path(path)) if path else {}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a config file; the format follows the suffix (.toml, .yaml/.yml, .json)."""
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    data: Any
    if suffix == ".toml":
        import tomllib

        data = tomllib.loads(text)
    elif suffix in (".yaml", ".yml"):
        import yaml  # PyYAML is a dependency of the service

        data = yaml.safe_load(text) or {}
    elif suffix == ".json":
        data = json.loads(text)
    else:
        raise ValueError(f"config file {path}: use .toml, .yaml, .yml or .json")
    if not isinstance(data, dict):
        raise ValueError(f"config file {path} must hold a table of settings")
    return data


def unknown_keys(
    data: Mapping[str, Any], model: type[BaseModel] | None = None, where: str = ""
) -> list[str]:
    """Each key of ``data`` (a config file's table) that names no setting, with the nearest
    valid key: ``"limits.max_text_char (did you mean limits.max_text_chars?)"``."""
    model = model or Settings
    problems: list[str] = []
    for key, value in data.items():
        path = f"{where}{key}"
        child = _child_model(model, str(key))
        if str(key) not in model.model_fields:
            problems.append(_unknown(path, str(key), model, where, "."))
        elif child is not None and isinstance(value, Mapping):
            problems.extend(unknown_keys(value, child, f"{path}."))
    return problems


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """Each ``NEWSBRIEF_*`` variable of ``environ`` that names no setting (nor another newsbrief
    tool's variable), with the nearest valid name."""
    problems: list[str] = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in OTHER_VARIABLES:
            continue
        model: type[BaseModel] | None = Settings
        where = ENV_PREFIX
        for part in upper[len(ENV_PREFIX) :].lower().split("__"):
            if model is None:  # below a plain field: pydantic-settings would not read it
                problems.append(f"{name} (no setting has parts below {where.rstrip('_')})")
                break
            if part not in model.model_fields:
                problems.append(_unknown(name, part, model, where, "__", upper=True))
                break
            where = f"{where}{part.upper()}__"
            model = _child_model(model, part)
    return problems


def _child_model(model: type[BaseModel], key: str) -> type[BaseModel] | None:
    field = model.model_fields.get(key)
    annotation = field.annotation if field is not None else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _unknown(
    path: str, key: str, model: type[BaseModel], where: str, sep: str, *, upper: bool = False
) -> str:
    valid = list(model.model_fields)
    near = difflib.get_close_matches(key.lower(), valid, n=1, cutoff=0.6)
    if near:
        suggestion = f"{where}{near[0].upper() if upper else near[0]}"
        return f"{path} (did you mean {suggestion}?)"
    names = ", ".join(f"{where}{v.upper() if upper else v}" for v in valid[:6])
    more = ", ..." if len(valid) > 6 else ""
    return f"{path} (valid here: {names}{more})"


def load_settings(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings: explicit ``overrides`` > environment > config file > defaults.
    ``config_file`` (else ``NEWSBRIEF_CONFIG_FILE``) names the file. An unknown key in the file
    or an unknown ``NEWSBRIEF_*`` variable is a ValueError naming it and the nearest valid one.
    ``environ`` is only checked (default: the process environment, which pydantic-settings
    reads)."""
    env = os.environ if environ is None else environ
    problems = unknown_variables(env)
    path = str(config_file) if config_file is not None else env.get(CONFIG_FILE_ENV, "")
    if path:
        problems += [
            f"{path}: {key}" for key in unknown_keys(load_config_file(Path(path)), Settings)
        ]
    if problems:
        raise ValueError("unknown setting(s): " + "; ".join(problems))
    token = _config_file.set(path)
    try:
        return Settings(**overrides)
    finally:
        _config_file.reset(token)
