"""Talking to a DHIS2 server (Mali's national HMIS): one client for every C2P part.

- Every path goes through the pinned API version (`/api/40/...`,
  `C2P_DHIS2_API_VERSION`), so a DHIS2 upgrade cannot silently change a format.
- Authentication from settings: a personal access token
  (`Authorization: ApiToken d2pat_...`) when `C2P_DHIS2_TOKEN` is set, else basic
  auth with `C2P_DHIS2_USERNAME` / `C2P_DHIS2_PASSWORD`.
- Failures are ordinary outcomes with one type each: `Dhis2Unavailable` (down,
  timed out, 5xx: try again later), `Dhis2Refused` (401/403/404 and other 4xx
  that are not import summaries: a setting or an id to fix). A 409 with an
  import summary is not an error at all: it is DHIS2's answer, parsed.
- Reads (GET) are retried a few times by urllib3's `Retry` with back-off on
  connection errors and 502/503/504; writes are not retried here: the caller
  keeps what it has not been able to send and tries again later.

Built on `requests` (pinned), nothing DHIS2-specific beyond the documented
formats: paging (`pager.page`, `pager.pageCount`) and import summaries
(`importCount`, `conflicts`, in a `response` wrapper from 2.38 on).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


class Dhis2Error(Exception):
    """DHIS2 could not be used for this request; `kind` says why, for the logs."""
    kind = "error"


class Dhis2Unavailable(Dhis2Error):
    """Down, unreachable, too slow or failing (5xx): retry later, nothing is lost."""
    kind = "unavailable"


class Dhis2Refused(Dhis2Error):
    """DHIS2 answered but refused (bad credentials, no access, unknown object)."""
    kind = "refused"

    def __init__(self, message, status_code=None):
        super().__init__(message)
        self.status_code = status_code


class Dhis2NotConfigured(Dhis2Error):
    kind = "not_configured"


@dataclass
class Conflict:
    """One conflict of an import summary: what object, why, which values."""
    object: str
    value: str
    error_code: str = ""
    property: str = ""
    indexes: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"object": self.object, "reason": self.value, "error_code": self.error_code,
                "property": self.property, "indexes": list(self.indexes)}


@dataclass
class ImportSummary:
    """DHIS2's answer to an import (`POST /api/dataValueSets`)."""
    status: str                  # SUCCESS | WARNING | ERROR
    http_status: int
    imported: int = 0
    updated: int = 0
    ignored: int = 0
    deleted: int = 0
    conflicts: list = field(default_factory=list)
    description: str = ""

    def as_dict(self) -> dict:
        return {"status": self.status, "http_status": self.http_status,
                "imported": self.imported, "updated": self.updated, "ignored": self.ignored,
                "deleted": self.deleted, "description": self.description,
                "conflicts": [c.as_dict() for c in self.conflicts]}


def parse_import_summary(body, http_status: int) -> ImportSummary:
    """Read an import summary: DHIS2 2.38+ wraps it in a web message
    (`{"httpStatus": ..., "response": {"responseType": "ImportSummary", ...}}`),
    earlier versions answer it bare. Raises ValueError if it is neither."""
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    summary = body.get("response") if isinstance(body.get("response"), dict) else body
    if "importCount" not in summary and "status" not in summary:
        raise ValueError("no importCount or status in DHIS2's answer")
    count = summary.get("importCount") or {}
    conflicts = []
    for raw in summary.get("conflicts") or []:
        if not isinstance(raw, dict):
            continue
        objects = raw.get("objects") if isinstance(raw.get("objects"), dict) else {}
        conflicts.append(Conflict(
            object=str(raw.get("object") or next(iter(objects.values()), "") or ""),
            value=str(raw.get("value") or ""), error_code=str(raw.get("errorCode") or ""),
            property=str(raw.get("property") or next(iter(objects), "") or ""),
            indexes=[i for i in raw.get("indexes") or [] if isinstance(i, int)]))
    return ImportSummary(
        status=str(summary.get("status") or body.get("status") or "ERROR").upper(),
        http_status=http_status, imported=int(count.get("imported") or 0),
        updated=int(count.get("updated") or 0), ignored=int(count.get("ignored") or 0),
        deleted=int(count.get("deleted") or 0), conflicts=conflicts,
        description=str(summary.get("description") or body.get("message") or ""))


class Dhis2Client:
    """A DHIS2 server at `base_url` (without `/api`), one API version, one account."""

    def __init__(self, base_url: str, api_version: int = 40, token: str = "",
                 username: str = "", password: str = "", timeout_s: float = 30,
                 read_retries: int = 3):
        if not base_url:
            raise Dhis2NotConfigured("C2P_DHIS2_URL is not set: no DHIS2 server to talk to")
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json",
                                     "User-Agent": "C2P-HMIS/1"})
        if token:
            self.session.headers["Authorization"] = f"ApiToken {token}"
        elif username:
            self.session.auth = (username, password)
        retry = Retry(total=read_retries, connect=read_retries, read=read_retries,
                      status=read_retries, backoff_factor=0.5,
                      status_forcelist=(502, 503, 504), allowed_methods=("GET",),
                      raise_on_status=False)
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    @classmethod
    def from_settings(cls, settings) -> "Dhis2Client":
        return cls(settings.dhis2_url, settings.dhis2_api_version, token=settings.dhis2_token,
                   username=settings.dhis2_username, password=settings.dhis2_password,
                   timeout_s=settings.dhis2_timeout_s)

    def url(self, path: str) -> str:
        return f"{self.base_url}/api/{self.api_version}/{path.lstrip('/')}"

    def close(self):
        self.session.close()

    def _request(self, method, path, **kwargs) -> requests.Response:
        try:
            response = self.session.request(method, self.url(path), timeout=self.timeout_s,
                                            **kwargs)
        except requests.Timeout as exc:
            raise Dhis2Unavailable(f"DHIS2 did not answer within {self.timeout_s} s "
                                   f"({method} {path})") from exc
        except requests.RequestException as exc:
            raise Dhis2Unavailable(f"DHIS2 is unreachable: {exc.__class__.__name__}: "
                                   f"{exc}"[:500]) from exc
        if response.status_code >= 500:
            raise Dhis2Unavailable(f"DHIS2 answered {response.status_code} to {method} "
                                   f"{path}: {response.text[:300]}")
        if response.status_code in (401, 403):
            raise Dhis2Refused(f"DHIS2 refused the credentials ({response.status_code}): "
                               "check C2P_DHIS2_TOKEN or C2P_DHIS2_USERNAME/C2P_DHIS2_PASSWORD and the "
                               "account's authorities", response.status_code)
        return response

    def get(self, path: str, params=None) -> dict:
        response = self._request("GET", path, params=params)
        if response.status_code == 404:
            raise Dhis2Refused(f"DHIS2 has no {path} (404)", 404)
        if response.status_code >= 400:
            raise Dhis2Refused(f"DHIS2 answered {response.status_code} to GET {path}: "
                               f"{response.text[:300]}", response.status_code)
        try:
            return response.json()
        except ValueError:
            raise Dhis2Unavailable(f"DHIS2 answered GET {path} with something that is not "
                                   "JSON (a login page or a proxy?)") from None

    def pages(self, path: str, collection: str, params=None, page_size: int = 500):
        """Yield (page number, page count, total, items) for each page of a list."""
        page = 1
        while True:
            body = self.get(path, {**(params or {}), "paging": "true", "page": page,
                                   "pageSize": page_size})
            pager = body.get("pager") or {}
            items = body.get(collection) or []
            page_count = int(pager.get("pageCount") or 1)
            total = int(pager.get("total") or len(items))
            yield page, page_count, total, items
            if page >= page_count or not items:
                return
            page += 1

    def post_data_values(self, payload: dict, dry_run: bool = False,
                         data_element_scheme: str = "UID", org_unit_scheme: str = "UID",
                         category_option_combo_scheme: str = "UID") -> ImportSummary:
        """POST /api/dataValueSets (JSON), CREATE_AND_UPDATE: sending the same values
        again changes nothing, so a retry after an unknown outcome is safe."""
        params = {"dryRun": "true" if dry_run else "false",
                  "importStrategy": "CREATE_AND_UPDATE",
                  "dataElementIdScheme": data_element_scheme,
                  "orgUnitIdScheme": org_unit_scheme,
                  "categoryOptionComboIdScheme": category_option_combo_scheme,
                  "idScheme": data_element_scheme,
                  "async": "false"}
        response = self._request("POST", "dataValueSets", params=params, json=payload)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code < 300 or response.status_code == 409:
            try:
                return parse_import_summary(body, response.status_code)
            except ValueError as exc:
                if response.status_code < 300:
                    raise Dhis2Unavailable(f"DHIS2 accepted the data values but its answer "
                                           f"is not an import summary ({exc})") from None
        raise Dhis2Refused(f"DHIS2 answered {response.status_code} to POST dataValueSets: "
                           f"{response.text[:300]}", response.status_code)
