"""Typed configuration: sites, devices (the equipment archive), probe settings."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable, Collection, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from monitord.config.centre import CentreSettings
from monitord.config.contracts import Contract
from monitord.config.discovery import DiscoverySettings
from monitord.config.durations import Duration
from monitord.config.frozen import FrozenModel, share_equal
from monitord.config.maintenance import MaintenanceWindow
from monitord.config.notify import NotifySettings
from monitord.config.oauth import OAuthSettings
from monitord.config.onvif import OnvifSettings
from monitord.config.prevention import PreventionSettings
from monitord.config.secrets import SecretRef
from monitord.config.snmp import SnmpSettings, TrapSettings
from monitord.config.tcp import TcpSettings
from monitord.config.zones import TimeZone

_T = TypeVar("_T")
# The protocols a device may have settings for besides ICMP (Device's fields of those names).
Polled = Literal["snmp", "onvif", "tcp"]
PROTOCOLS: tuple[Polled, ...] = ("snmp", "onvif", "tcp")


class DeviceKind(StrEnum):
    CAMERA = "camera"
    NVR = "nvr"
    ACCESS_CONTROLLER = "access_controller"
    SWITCH = "switch"
    OTHER = "other"


class Zone(StrEnum):
    """City sites and outer-county sites have different on-site deadlines (seed 000 §1)."""

    CITY = "city"
    COUNTY = "county"


class Criticality(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


# A dotted quad already in canonical form is what ipaddress would give back; checking that
# with one regex is ~10x cheaper, and 10 000 devices are validated at every full load.
_CANONICAL_V4 = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
                           r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])")  # fmt: skip


def _ip_address(value: str) -> str:
    if _CANONICAL_V4.fullmatch(value):
        return value
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None


IpAddress = Annotated[str, AfterValidator(_ip_address)]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][\w.\-]*$")]
Seconds = Annotated[float, Field(gt=0, le=86_400)]


class _Frozen(FrozenModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IcmpOverrides(_Frozen):
    """ICMP settings that a kind or a device may override; unset fields inherit."""

    enabled: bool | None = None
    interval: Seconds | None = None
    count: Annotated[int, Field(ge=1, le=20)] | None = None
    echo_interval: Annotated[float, Field(ge=0.0, le=5.0)] | None = None
    timeout: Seconds | None = None
    max_attempts: Annotated[int, Field(ge=1, le=20)] | None = None
    retry_interval: Seconds | None = None
    degraded_loss_pct: Annotated[float, Field(gt=0, le=100)] | None = None
    degraded_rtt_ms: Annotated[float, Field(gt=0)] | None = None


class IcmpSettings(_Frozen):
    """Effective ICMP settings of one device.

    Defaults aim at a confirmed outage within ~20 s: a check every 10 s, and after a first
    failure two retries 2 s apart (Zabbix's template needs 2-3 min, Icinga's 2-7 min).
    """

    enabled: bool = True
    interval: Seconds = 10.0
    count: int = 3
    echo_interval: float = 0.2
    timeout: Seconds = 1.0
    max_attempts: int = 3
    retry_interval: Seconds = 2.0
    degraded_loss_pct: float = 20.0
    degraded_rtt_ms: float = 200.0

    @model_validator(mode="after")
    def _fits_interval(self) -> IcmpSettings:
        busy = (self.count - 1) * self.echo_interval + self.timeout
        if busy >= self.interval:
            raise ValueError(
                f"a check lasts up to {busy:g} s (count, echo_interval, timeout) "
                f"but interval is {self.interval:g} s"
            )
        return self


class KindDefaults(_Frozen):
    icmp: IcmpOverrides = IcmpOverrides()


class Site(_Frozen):
    id: Identifier
    name: str
    timezone: TimeZone = "Asia/Shanghai"
    zone: Zone = Zone.CITY
    contract: str | None = None
    acceptance_date: dt.date | None = None  # 工程验收: starts follow-ups and the warranty
    followups_since: dt.date | None = None  # visits owed before this are not counted
    # Who polls the site's devices: "local" (the daemon itself) or an enrolled poller's id.
    poller: Identifier = "local"
    # The site's public address (its router, from outside), pinged by the centre when the
    # poller goes silent: the "site link lost" ticket says whether the line or the box is
    # down (sites/witness.py).
    poller_witness: IpAddress | None = None
    discovery: DiscoverySettings | None = None  # `monitord discover` (issue 17)

    @model_validator(mode="after")
    def _witness_needs_poller(self) -> Site:
        if self.poller_witness is not None and self.poller == "local":
            raise ValueError(
                "poller_witness: only a site with a poller (sites[].poller) has a link to witness"
            )
        return self


class Device(_Frozen):
    """One device of the equipment archive (设备档案) with its probe settings."""

    id: Identifier
    name: str
    kind: DeviceKind
    address: IpAddress
    site: str
    parents: tuple[str, ...] = ()
    criticality: Criticality = Criticality.NORMAL
    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    mac: Annotated[str, Field(pattern=r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")] | None = None
    firmware: str | None = None
    install_date: dt.date | None = None
    warranty_end: dt.date | None = None
    location: str | None = None
    icmp: IcmpOverrides = IcmpOverrides()
    snmp: SnmpSettings | None = None
    onvif: OnvifSettings | None = None
    tcp: TcpSettings | None = None


class MetricsSettings(_Frozen):
    """/metrics binds to loopback unless told otherwise."""

    listen: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 9108
    # Set when a TLS proxy terminates in front of a non-loopback listener; `monitord check`
    # warns about plain HTTP beyond loopback otherwise.
    behind_tls: bool = False


class ApiRole(StrEnum):
    """What an API token may do: see monitord/api/auth.py for the table."""

    ENGINEER = "engineer"
    MANAGER = "manager"
    CUSTOMER = "customer"


class ApiToken(_Frozen):
    """One client of the HTTP API; the token itself is a secret reference, never inline."""

    name: Identifier
    role: ApiRole
    contract: str | None = None  # a customer sees only this contract's tickets
    token: SecretRef

    @model_validator(mode="after")
    def _customer_has_contract(self) -> ApiToken:
        if self.role == ApiRole.CUSTOMER and not self.contract:
            raise ValueError("a customer token needs 'contract' (the tickets it may see)")
        return self


class ApiSettings(_Frozen):
    """The JSON HTTP API: off unless enabled, and on loopback unless told otherwise."""

    enabled: bool = False
    listen: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 9109
    base_url: str | None = None  # e.g. https://noc.example.com, for links in responses
    tokens: tuple[ApiToken, ...] = ()
    # The guard (api/guard.py): a larger body is 413 before it is read whole; more requests
    # in flight at once are 503, so a flood cannot crowd out the daemon's own work.
    max_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = 1024 * 1024
    max_concurrent_requests: Annotated[int, Field(ge=1, le=1024)] = 32
    behind_tls: bool = False  # see MetricsSettings.behind_tls
    # HTTPS (site pollers connect only over it): PEM files, both or neither.
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> ApiSettings:
        names = [t.name for t in self.tokens]
        if len(set(names)) != len(names):
            raise ValueError("api token names must be unique")
        return self


class ConsoleSettings(_Frozen):
    """The web console (monitord/console/): off unless enabled. It is served by the API's
    HTTP server (`api.listen`, `api.port`: loopback unless told otherwise); put it behind a
    reverse proxy with TLS to reach it from phones."""

    enabled: bool = False
    # Cookies carry `Secure` unless this is turned off, which only plain http on loopback
    # (the demo, a test) needs: a browser does not send a Secure cookie over http.
    secure_cookies: bool = True
    session_ttl: Duration = dt.timedelta(hours=12)
    idle_timeout: Duration = dt.timedelta(hours=2)
    # A name is locked for `lockout` after `max_failures` wrong passwords in a row.
    max_failures: Annotated[int, Field(ge=1, le=100)] = 5
    lockout: Duration = dt.timedelta(minutes=15)
    # Sign-in attempts per client address per minute, whatever the name (guessing many names).
    attempts_per_minute: Annotated[int, Field(ge=1, le=1000)] = 20
    # How long the one-time sign-in link in a page to an engineer stays valid (console/links.py).
    link_ttl: Duration = dt.timedelta(hours=24)
    # How long a sign-off or survey link sent to a customer contact stays valid.
    customer_link_ttl: Duration = dt.timedelta(hours=72)
    # Engineer work forms and photos (console/work.py, console/photos.py). A phone's own
    # camera JPEG is 2-6 MB; the page shrinks it to <= 1600 px (~0.3 MB) when JS runs, the
    # cap is for the raw file posted without it. The photo upload route's body cap (api/
    # guard.py) is `upload_bytes`, not api.max_body_bytes.
    photo_max_bytes: Annotated[int, Field(ge=64 * 1024, le=32 * 1024 * 1024)] = 8 * 1024 * 1024
    photos_per_form: Annotated[int, Field(ge=1, le=20)] = 6
    ticket_photos_max_bytes: Annotated[int, Field(ge=64 * 1024)] = 200 * 1024 * 1024
    # Sign-in from the WeCom / DingTalk / Feishu in-app browser (config/oauth.py).
    oauth: OAuthSettings = OAuthSettings()

    @property
    def upload_bytes(self) -> int:
        """The body cap of one work form: its photos plus 64 KiB of text and form framing."""
        return self.photo_max_bytes * self.photos_per_form + 64 * 1024


class FlappingSettings(_Frozen):
    """Icinga's thresholds: flapping starts above `high` % state change, ends below `low` %."""

    high_pct: Annotated[float, Field(gt=0, le=100)] = 30.0
    low_pct: Annotated[float, Field(gt=0, le=100)] = 25.0
    window: Annotated[int, Field(ge=5, le=100)] = 20

    @model_validator(mode="after")
    def _hysteresis(self) -> FlappingSettings:
        if self.low_pct >= self.high_pct:
            raise ValueError("low_pct must be below high_pct (hysteresis)")
        return self


class HistorySettings(_Frozen):
    """The rolled-up metric history behind early warnings: hourly min/avg/max, pruned."""

    retention: Duration = dt.timedelta(days=35)
    flush_every: Seconds = 300.0
    evaluate_every: Seconds = 3600.0


class Config(_Frozen):
    state_dir: Path = Path("/var/lib/monitord")
    database: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    icmp_mode: Literal["auto", "raw", "dgram"] = "auto"
    max_in_flight: Annotated[int, Field(ge=1, le=100_000)] = 5000
    metrics: MetricsSettings = MetricsSettings()
    api: ApiSettings = ApiSettings()
    console: ConsoleSettings = ConsoleSettings()
    notify: NotifySettings = NotifySettings()
    flapping: FlappingSettings = FlappingSettings()
    icmp: IcmpOverrides = IcmpOverrides()
    traps: TrapSettings | None = None
    probe_defaults: dict[DeviceKind, KindDefaults] = Field(default_factory=dict)
    include: tuple[str, ...] = ()
    contracts: tuple[Contract, ...] = ()
    sites: tuple[Site, ...] = ()
    devices: tuple[Device, ...] = ()
    maintenance: tuple[MaintenanceWindow, ...] = ()
    history: HistorySettings = HistorySettings()
    prevention: PreventionSettings = PreventionSettings()
    # A site poller silent this long: its devices show UNKNOWN and one ticket opens.
    poller_silence: Seconds = 60.0
    centre: CentreSettings = CentreSettings()  # HA of the centre's singleton work (off)

    def remote_sites(self) -> frozenset[str]:
        """Sites polled by a site poller, not by this daemon."""
        return self._memo(
            "_remote", lambda: frozenset(s.id for s in self.sites if s.poller != "local")
        )

    def polled_here(self) -> tuple[Device, ...]:
        """The devices this daemon probes itself: not those a site poller watches."""
        remote = self.remote_sites()
        return self._memo("_here", lambda: tuple(d for d in self.devices if d.site not in remote))

    def by_id(self) -> Mapping[str, Device]:
        """Every device by its id (read-only: one dict shared by all who ask)."""
        return self._memo("_by_id", lambda: {d.id: d for d in self.devices})

    def devices_at(self, sites: Collection[str]) -> list[Device]:
        """The devices of these sites, in configuration order (a scan of 20 000 devices per
        push or per silent poller dominated a centre of 200 sites: bench/pollers.py)."""
        by_site = self._memo("_by_site", lambda: _by_site(self.devices))
        if len(sites) == 1:
            return list(by_site.get(next(iter(sites)), ()))
        wanted = set(sites)
        return [d for d in self.devices if d.site in wanted]

    def polled_by(self, protocol: Polled) -> Mapping[str, Device]:
        """The devices polled here that have `protocol`'s settings, by id (shared, read-only)."""
        return self._memo(
            f"_by_{protocol}",
            lambda: {d.id: d for d in self.polled_here() if getattr(d, protocol) is not None},
        )

    def intervals_of(self, protocol: Polled) -> dict[str, float]:
        """How often each of `polled_by(protocol)` is polled (a copy: the caller's own)."""
        found = self._memo(
            f"_every_{protocol}",
            lambda: {i: getattr(d, protocol).interval for i, d in self.polled_by(protocol).items()},
        )
        return dict(found)

    def settle(self) -> Config:
        """Work out what the daemon's parts ask of a new configuration (the devices polled
        here, by id) where it was loaded, off the event loop: each of them walked the
        10 000 devices again on the loop during a reload (bench/reload.py). And make the
        devices' equal settings one object (config/frozen.py): the daemon keeps them for
        its lifetime, while a command that exits at once need not pay for the walk (0.12 s
        of `monitord check`'s 1.2 s at 10 000 devices). Once per configuration: the memo
        travels with it from the loader's child, and the daemon's start settles again
        only what was not (0.2 s at 10 000 devices)."""
        self._memo("_settled", self._settle_now)
        return self

    def _settle_now(self) -> bool:
        share_equal(self.devices)
        self.by_id()
        for protocol in PROTOCOLS:
            self.intervals_of(protocol)
        return True

    def _memo(self, name: str, make: Callable[[], _T]) -> _T:
        # Kept beside the fields (pydantic ignores non-fields in equality and dumps), for
        # these very devices and sites: model_copy(update=...) copies it along.
        held = self.__dict__.get(name)
        if held is None or held[0] is not self.devices or held[1] is not self.sites:
            held = self.__dict__[name] = (self.devices, self.sites, make())
        value: _T = held[2]
        return value

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.state_dir / 'monitord.db'}"

    def icmp_for(self, device: Device) -> IcmpSettings:
        """Global defaults <- kind defaults <- the device's own overrides."""
        kind = self.probe_defaults.get(device.kind, KindDefaults())
        merged = {
            **self.icmp.model_dump(exclude_none=True),
            **kind.icmp.model_dump(exclude_none=True),
            **device.icmp.model_dump(exclude_none=True),
        }
        return IcmpSettings(**merged)


def _by_site(devices: tuple[Device, ...]) -> dict[str, tuple[Device, ...]]:
    grouped: dict[str, list[Device]] = {}
    for d in devices:
        grouped.setdefault(d.site, []).append(d)
    return {site: tuple(ds) for site, ds in grouped.items()}
