"""Authentication: one Connection (instance URL + session id) from whichever credentials the user has.

Ways in, in the order they are tried:
  --target-org ALIAS                          an org the sf CLI knows (``sf org display --json``)
  --client-id + --jwt-key-file + --username   OAuth JWT bearer
  --client-id (+ SF_CLIENT_SECRET)            OAuth client credentials against the org's My Domain
  --username (+ SF_PASSWORD, SF_SECURITY_TOKEN) SOAP login
  --instance-url (+ SF_ACCESS_TOKEN)          an access token the caller already has
  none of these                               sf's default org: SF_TARGET_ORG, then ``target-org`` of the
                                              project's .sf/config.json, then of the user's (as sf resolves it)
The Dev Hub of the 2GP commands is named and found as sf's package commands find it: --target-dev-hub, then
SF_TARGET_DEV_HUB, then ``target-dev-hub`` of the same config files (``LoginOptions.dev_hub``).
Secrets come from the environment, a file or a prompt, never from a flag. The session id lives only in
Connection.session_id, which no message, log line or repr includes.

``plan_login`` checks the options and reads the secrets without a network call, so a command can refuse
missing credentials before it does any other work; ``open_connection`` then logs in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from apexgen.errors import ApexgenError, ExitCode, UsageError, one_line
from apexgen.salesforce import API_VERSION
from apexgen.untrusted import json_loads
from apexgen.web import https_url

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
JWT_LIFETIME_SECONDS = 180


TARGET_ORG_VARIABLE = "SF_TARGET_ORG"
# sf's names of the org flag, its variable and its config key (sfdx-core envVars.ts, orgConfigProperties.ts), for
# an org and for a Dev Hub (sf-plugins-core's requiredHub flag)
ORG_NAMES = {
    False: ("--target-org", TARGET_ORG_VARIABLE, "target-org"),
    True: ("--target-dev-hub", "SF_TARGET_DEV_HUB", "target-dev-hub"),
}
SF_CONFIG_FILE = Path(".sf") / "config.json"  # sfdx-core's Config: the project's (local) and the user's (global)


class AuthenticationFailed(ApexgenError):
    exit_code = ExitCode.CONNECTION


@dataclass
class LoginOptions:
    target_org: str | None = None
    instance_url: str | None = None
    username: str | None = None
    client_id: str | None = None
    jwt_key_file: Path | None = None
    client_secret_file: Path | None = None
    login_url: str = DEFAULT_LOGIN_URL
    api_version: str = API_VERSION
    http_timeout: float = 60.0
    project_root: Path | None = None  # where the project's .sf/config.json is looked for
    dev_hub: bool = False  # target_org names a Dev Hub: sf's default is its target-dev-hub, not its target-org


@dataclass
class Connection:
    """An authenticated org: where it is, the session, and the HTTP sessions calls go through."""

    instance_url: str
    session_id: str = field(repr=False)
    api_version: str
    method: str  # how we logged in, for status lines: never holds a secret
    timeout: tuple[float, float]
    polling_http: Any = field(repr=False)  # requests.Session with retries, for idempotent calls
    once_http: Any = field(repr=False)  # requests.Session without retries, for calls that start work
    login: Callable[[], tuple[str, str]] | None = field(default=None, repr=False)
    log: Callable[[str], None] = field(default=lambda message: None, repr=False)

    @property
    def can_reauthenticate(self) -> bool:
        return self.login is not None

    def reauthenticate(self) -> None:
        if self.login is None:
            raise AuthenticationFailed(f"the session expired and {self.method} cannot log in again")
        self.log(f"session expired; logging in again ({self.method})")
        self.session_id, self.instance_url = self.login()

    def rest(self, *, idempotent: bool) -> Any:
        """A simple-salesforce client on this session for REST and Tooling calls; only idempotent ones retry."""
        from simple_salesforce.api import Salesforce

        return Salesforce(
            instance_url=self.instance_url,
            session_id=self.session_id,
            version=self.api_version,
            session=self.polling_http if idempotent else self.once_http,
        )


def _http_sessions() -> tuple[Any, Any]:
    from requests.adapters import HTTPAdapter

    from apexgen.web import credential_session_class, lenient_retry

    polling = credential_session_class()()
    retry = lenient_retry()(
        total=4,
        connect=4,
        read=4,
        status=4,
        backoff_factor=0.25,
        backoff_max=2.0,
        status_forcelist=(502, 503, 504),
        allowed_methods=None,  # every method: only idempotent calls use this session
        raise_on_status=True,
    )
    polling.mount("https://", HTTPAdapter(max_retries=retry))
    return polling, credential_session_class()()


def normalise_url(flag: str, url: str) -> str:
    return f"https://{https_url(flag, url).netloc}"


def read_secret(
    name: str, environ: dict[str, str], file: Path | None, prompt: Callable[[str], str] | None, flag: str
) -> str:
    """A secret from a file (when its flag is given), the environment variable ``name``, or a prompt."""
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"{flag}: cannot read {file} ({exc.strerror})") from None
    if name in environ:
        return environ[name]
    if prompt is not None:
        return prompt(name)
    raise UsageError(f"set the environment variable {name}" + (f" or pass {flag}" if flag else ""))


def _jwt_audience(login_url: str) -> str:
    host = urlsplit(login_url).hostname or ""
    if host.endswith(".sandbox.my.salesforce.com"):
        return "https://test.salesforce.com"
    if host.endswith(".my.salesforce.com"):
        return DEFAULT_LOGIN_URL
    return login_url


def _token_login(
    http: Any, login_url: str, data: dict[str, str], client_id: str, headers: dict[str, str] | None
) -> tuple[str, str]:
    from simple_salesforce.login import token_login

    # simple-salesforce's SalesforceLogin only builds https://{domain}.salesforce.com URLs; token_login takes the
    # token endpoint as given, so a sandbox, My Domain or any other login URL works the same way.
    token, instance = token_login(f"{login_url}/services/oauth2/token", data, login_url, client_id, headers, None, http)
    return token, f"https://{instance}"


def default_target_org(
    environ: dict[str, str], project_root: Path | None, home: Path, dev_hub: bool = False
) -> tuple[str, str] | None:
    """The org sf uses when no --target-org is given, and where it was set: SF_TARGET_ORG, then
    ``target-org`` of the project's .sf/config.json, then of the user's (sfdx-core's ConfigAggregator
    order: environment, local, global); for a Dev Hub, SF_TARGET_DEV_HUB and ``target-dev-hub``. A config file
    that cannot be read or parsed is skipped, as by sf."""
    _, variable, key = ORG_NAMES[dev_hub]
    if environ.get(variable):
        return environ[variable], variable
    for folder in (project_root, home):
        if folder is None:
            continue
        path = folder / SF_CONFIG_FILE
        try:
            value = json_loads(path.read_text(encoding="utf-8")).get(key)
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(value, str) and value:
            return value, str(path)
    return None


@dataclass
class LoginPlan:
    """How to log in, checked and with its secrets read, before any network call."""

    method: str  # for status lines: never holds a secret
    login: Callable[[Any, str], tuple[str, str]] | None = field(repr=False)  # (http session, API version)
    session: tuple[str, str] | None = field(default=None, repr=False)  # an access token the caller gave


def plan_login(
    options: LoginOptions,
    environ: dict[str, str] | None = None,
    prompt: Callable[[str], str] | None = None,
    home: Path | None = None,
) -> LoginPlan:
    """The first way in the options allow; raises UsageError for missing or unreadable input."""
    environ = dict(os.environ if environ is None else environ)
    login_url = normalise_url("--login-url", options.login_url)
    flag, variable, config_key = ORG_NAMES[options.dev_hub]
    target, source = options.target_org, flag
    token_given = bool(options.instance_url) and "SF_ACCESS_TOKEN" in environ
    if not target and not (options.client_id or options.username or token_given):
        found = default_target_org(
            environ, options.project_root, Path.home() if home is None else home, options.dev_hub
        )
        if found is not None:
            target, source = found

    if target:
        executable = _sf_executable(target, source)
        shown = target if source == flag else f"{target} (from {source})"
        return LoginPlan(f"sf CLI org {shown}", lambda http, version: _sf_org_display(executable, target, source))
    if options.client_id and options.jwt_key_file:
        if not options.username:
            raise UsageError("--jwt-key-file: JWT bearer login also needs --username")
        try:
            key = options.jwt_key_file.read_bytes()
        except OSError as exc:
            raise UsageError(f"--jwt-key-file: cannot read {options.jwt_key_file} ({exc.strerror})") from None
        client_id, username = options.client_id, options.username
        return LoginPlan(
            f"JWT bearer as {username}", lambda http, version: _jwt_login(http, login_url, client_id, username, key)
        )
    if options.client_id:
        my_domain = my_domain_url(options)
        secret = read_secret("SF_CLIENT_SECRET", environ, options.client_secret_file, None, "--client-secret-file")
        client_id = options.client_id
        return LoginPlan(
            f"OAuth client credentials of {client_id}",
            lambda http, version: _client_credentials_login(http, my_domain, client_id, secret),
        )
    if options.username:
        password = read_secret("SF_PASSWORD", environ, None, prompt, "")
        token = read_secret("SF_SECURITY_TOKEN", environ, None, prompt, "")
        username = options.username
        return LoginPlan(
            f"username {username}",
            lambda http, version: _soap_login(http, login_url, username, password, token, version),
        )
    if options.instance_url:
        if not token_given:
            raise UsageError("--instance-url: set the environment variable SF_ACCESS_TOKEN to the access token")
        session = (environ["SF_ACCESS_TOKEN"], normalise_url("--instance-url", options.instance_url))
        return LoginPlan("access token", None, session)
    raise UsageError(
        f"no org to connect to: pass {flag} ALIAS (or -{'v' if options.dev_hub else 'o'}; or set {variable}, or sf's "
        f"{config_key} config), "
        "or --instance-url with SF_ACCESS_TOKEN set, or --username (SF_PASSWORD, SF_SECURITY_TOKEN), or "
        "--client-id with --jwt-key-file or SF_CLIENT_SECRET"
    )


def my_domain_url(options: LoginOptions) -> str:
    """Where OAuth client credentials are asked for: the org's My Domain, named by --instance-url (or
    SF_INSTANCE_URL), else by a --login-url that is one; login.salesforce.com cannot grant them."""
    flag, url = ("--instance-url", options.instance_url) if options.instance_url else ("--login-url", options.login_url)
    url = normalise_url(flag, url)
    if (urlsplit(url).hostname or "") in ("login.salesforce.com", "test.salesforce.com"):
        raise UsageError(
            f"{flag}: OAuth client credentials need the org's My Domain URL (--instance-url or SF_INSTANCE_URL), "
            "such as https://acme.my.salesforce.com"
        )
    return url


def open_connection(
    plan: LoginPlan, options: LoginOptions, log: Callable[[str], None] = lambda message: None
) -> Connection:
    """Log in as ``plan`` says (an access token is used as given) and return the connection."""
    polling_http, once_http = _http_sessions()
    plan_login_call = plan.login
    login = (lambda: plan_login_call(once_http, options.api_version)) if plan_login_call is not None else None
    if login is not None:
        log(f"logging in: {plan.method}")
        session = login()
    else:
        assert plan.session is not None
        session = plan.session
    session_id, instance_url = session
    return Connection(
        instance_url=instance_url,
        session_id=session_id,
        api_version=options.api_version,
        method=plan.method,
        timeout=(10.0, options.http_timeout),
        polling_http=polling_http,
        once_http=once_http,
        login=login,
        log=log,
    )


def connect(
    options: LoginOptions,
    environ: dict[str, str] | None = None,
    prompt: Callable[[str], str] | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> Connection:
    """Log in with the first way the options allow; raises UsageError for missing input, AuthenticationFailed else."""
    return open_connection(plan_login(options, environ, prompt), options, log)


def _authentication_errors(login_url: str) -> Any:
    """Turn library and network failures of a login into one line without a secret."""
    import contextlib
    from xml.parsers.expat import ExpatError

    import requests
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed

    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        try:
            yield
        except SalesforceAuthenticationFailed as exc:
            reason = getattr(exc, "auth_message", None) or str(exc)  # auth_message: simple-salesforce >= 1.12.10
            # the reason may be a whole HTML page: one line, and short
            said = one_line(f"{exc.code}: {reason}")
            raise AuthenticationFailed(f"login at {login_url} failed: {said[:300]}") from None
        except requests.RequestException:
            raise AuthenticationFailed(f"login at {login_url} failed: cannot reach it") from None
        except (ExpatError, UnicodeDecodeError, ValueError, KeyError, AttributeError):
            # simple-salesforce reads the answer without checking it: empty, not XML or JSON, no session
            raise AuthenticationFailed(f"login at {login_url} failed: its answer is not a login result") from None

    return guard()


def _soap_login(http: Any, login_url: str, username: str, password: str, token: str, version: str) -> tuple[str, str]:
    from simple_salesforce.login import SalesforceLogin

    with _authentication_errors(login_url):
        # scratch_url is simple-salesforce's way to name the SOAP login host in full (any login URL works).
        session_id, instance = SalesforceLogin(
            username=username,
            password=password,
            security_token=token,
            sf_version=version,
            session=http,
            scratch_url=login_url,
        )
    return session_id, f"https://{instance}"


def _jwt_login(http: Any, login_url: str, client_id: str, username: str, key: bytes) -> tuple[str, str]:
    import jwt

    claims = {
        "iss": client_id,
        "sub": username,
        "aud": _jwt_audience(login_url),
        "exp": int(time.time()) + JWT_LIFETIME_SECONDS,
    }
    try:
        assertion = jwt.encode(claims, key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError):  # PyJWTError: InvalidKeyError for text that is no key
        raise UsageError("--jwt-key-file: not a PEM RSA private key") from None
    data = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
    with _authentication_errors(login_url):
        return _token_login(http, login_url, data, client_id, None)


def _client_credentials_login(http: Any, login_url: str, client_id: str, secret: str) -> tuple[str, str]:
    import base64

    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    with _authentication_errors(login_url):
        return _token_login(
            http, login_url, {"grant_type": "client_credentials"}, client_id, {"Authorization": f"Basic {basic}"}
        )


def _sf_executable(alias: str, source: str) -> str:
    executable = shutil.which("sf")
    if executable is None:
        raise UsageError(
            f"{source}: the org {alias} is one the sf CLI knows, and sf is not on PATH "
            "(install @salesforce/cli or use another login)"
        )
    return executable


def org_instance_url(
    options: LoginOptions, environ: dict[str, str] | None = None, home: Path | None = None
) -> str | None:
    """The org's URL for a command that needs only that (the Models API's token endpoint): --instance-url or
    SF_INSTANCE_URL, else the instance URL of --target-org or sf's default org, as ``sf org display`` says."""
    if options.instance_url:
        return options.instance_url  # checked where it is used
    environ = dict(os.environ if environ is None else environ)
    target, source = options.target_org, "--target-org"
    if not target:
        found = default_target_org(environ, options.project_root, Path.home() if home is None else home, False)
        if found is None:
            return None
        target, source = found
    return _sf_org_display(_sf_executable(target, source), target, source)[1]


def _sf_org_display(executable: str, alias: str, source: str) -> tuple[str, str]:
    where = f"{source} {alias}" if source.startswith("--") else f"{source}: target org {alias}"
    completed = subprocess.run(
        [executable, "org", "display", "--target-org", alias, "--json"], capture_output=True, text=True, check=False
    )
    try:
        document = json_loads(completed.stdout)
    except ValueError:
        raise AuthenticationFailed(f"{where}: sf org display gave no JSON (exit {completed.returncode})") from None
    result = document.get("result") or {}
    if completed.returncode != 0 or not result.get("accessToken") or not result.get("instanceUrl"):
        reason = document.get("message") or document.get("name") or f"exit {completed.returncode}"
        raise AuthenticationFailed(f"{where}: sf org display failed: {reason}")
    return result["accessToken"], normalise_url("--target-org", result["instanceUrl"])
