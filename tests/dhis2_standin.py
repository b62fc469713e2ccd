"""A local HTTP stand-in for a DHIS2 server, for tests (no DHIS2 can run here).

It follows DHIS2's documented request and response formats for the endpoints C2P
uses, under one pinned API version (`/api/40/`; other versions are 404):

- auth: `Authorization: ApiToken <token>` or basic auth, else 401;
- `GET /api/40/organisationUnits/{id}`: the unit, or 404 with a web message;
- `GET /api/40/organisationUnits?filter=path:like:<id>&paging=true&page=&pageSize=`:
  `{"pager": {"page", "pageCount", "total", "pageSize"}, "organisationUnits": [...]}`;
- `POST /api/40/dataValueSets` (JSON, `dryRun`, `importStrategy`, the id schemes):
  a web message wrapping an `ImportSummary` (`importCount`: imported / updated /
  ignored / deleted, `conflicts`: object, objects, value, errorCode, property,
  indexes); 200 when every value went in, 409 when there are conflicts (as DHIS2
  2.38+ answers: unknown data element, org unit, category option combo, bad
  period or non-numeric value).

It records every request (`requests`), stores data values (`values`), and can be
told to be down (503), slow (`delay_s`) or to refuse (`status_override`).
Runs in a thread of the test process (werkzeug's server).
"""
from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from c2p.sandbox import free_port

DEFAULT_COC = {"id": "HllvX50cXC0", "code": "default"}
PERIOD = re.compile(r"^\d{4}(0[1-9]|1[0-2])$")


@dataclass
class Recorded:
    method: str
    path: str
    args: dict
    headers: dict
    body: object


@dataclass
class Dhis2StandIn:
    token: str = "d2pat_standin0000000000000000000000001"
    username: str = "admin"
    password: str = "district"
    api_version: int = 40
    org_units: dict = field(default_factory=dict)        # uid -> unit (DHIS2 JSON)
    data_elements: dict = field(default_factory=dict)    # uid -> {"id", "code"}
    category_option_combos: dict = field(default_factory=lambda: {DEFAULT_COC["id"]:
                                                                  dict(DEFAULT_COC)})
    values: dict = field(default_factory=dict)   # (de uid, period, ou uid, coc uid) -> value
    requests: list = field(default_factory=list)
    down: bool = False
    delay_s: float = 0.0
    status_override: int | None = None

    # --- life cycle ------------------------------------------------------------

    def start(self) -> "Dhis2StandIn":
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, self._app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- set-up helpers --------------------------------------------------------

    def add_unit(self, uid, name, parent=None, code=None, point=None):
        parent_unit = self.org_units.get(parent) if parent else None
        path = (parent_unit["path"] if parent_unit else "") + "/" + uid
        unit = {"id": uid, "name": name, "path": path, "level": path.count("/")}
        if code:
            unit["code"] = code
        if parent:
            unit["parent"] = {"id": parent}
        if point:
            unit["geometry"] = {"type": "Point", "coordinates": list(point)}
        self.org_units[uid] = unit
        return unit

    def add_data_element(self, uid, code):
        self.data_elements[uid] = {"id": uid, "code": code}

    def posted(self, path_end="dataValueSets") -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith(path_end)]

    # --- the server ------------------------------------------------------------

    def _app(self, environ, start_response):
        request = Request(environ)
        raw = request.get_data()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        self.requests.append(Recorded(request.method, request.path, request.args.to_dict(),
                                      dict(request.headers), body))
        if self.delay_s:
            time.sleep(self.delay_s)
        response = self._answer(request, body)
        return response(environ, start_response)

    def _json(self, payload, status=200):
        return Response(json.dumps(payload), status=status, content_type="application/json")

    def _message(self, status, text):
        names = {401: "Unauthorized", 404: "Not Found", 409: "Conflict", 503: "Unavailable"}
        return self._json({"httpStatus": names.get(status, "Error"), "httpStatusCode": status,
                           "status": "ERROR", "message": text}, status)

    def _authorised(self, request) -> bool:
        header = request.headers.get("Authorization", "")
        if header == f"ApiToken {self.token}":
            return True
        if header.startswith("Basic "):
            given = base64.b64decode(header[6:]).decode("utf-8", "replace")
            return given == f"{self.username}:{self.password}"
        return False

    def _answer(self, request, body):
        if self.down:
            return Response("<html>503 Service Temporarily Unavailable</html>", status=503,
                            content_type="text/html")
        if self.status_override:
            return self._message(self.status_override, "refused by the stand-in")
        if not self._authorised(request):
            return self._message(401, "Unauthorized")
        prefix = f"/api/{self.api_version}/"
        if not request.path.startswith(prefix):
            return self._message(404, f"no such API: {request.path}")
        route = request.path[len(prefix):].strip("/")
        if request.method == "GET" and route == "organisationUnits":
            return self._list_units(request)
        if request.method == "GET" and route.startswith("organisationUnits/"):
            uid = route.split("/", 1)[1]
            unit = self.org_units.get(uid)
            if unit is None:
                return self._message(404, f"OrganisationUnit with id {uid} could not be found.")
            return self._json(unit)
        if request.method == "POST" and route == "dataValueSets":
            return self._data_values(request, body)
        return self._message(404, f"no such resource: {request.path}")

    def _list_units(self, request):
        units = list(self.org_units.values())
        for spec in request.args.getlist("filter"):
            prop, op, value = spec.split(":", 2)
            if prop == "path" and op == "like":
                units = [u for u in units if value in u["path"]]
        units.sort(key=lambda u: (u["level"], u["id"]))
        page = int(request.args.get("page", 1))
        size = int(request.args.get("pageSize", 50))
        total = len(units)
        page_count = max(1, -(-total // size))
        chunk = units[(page - 1) * size: page * size]
        return self._json({"pager": {"page": page, "pageCount": page_count, "total": total,
                                     "pageSize": size},
                           "organisationUnits": chunk})

    def _resolve(self, table, scheme, ref):
        if scheme.upper() != "CODE":
            return ref if ref in table else None
        return next((uid for uid, item in table.items() if item.get("code") == ref), None)

    def _data_values(self, request, body):
        args = request.args
        dry_run = args.get("dryRun", "false") == "true"
        de_scheme = args.get("dataElementIdScheme", args.get("idScheme", "UID"))
        ou_scheme = args.get("orgUnitIdScheme", args.get("idScheme", "UID"))
        coc_scheme = args.get("categoryOptionComboIdScheme", args.get("idScheme", "UID"))
        conflicts: dict = {}
        imported = updated = ignored = 0
        staged = {}

        def conflict(obj, prop, code, text, index):
            key = (obj, code)
            entry = conflicts.setdefault(key, {"object": obj, "objects": {prop: obj},
                                               "value": text, "errorCode": code,
                                               "property": prop, "indexes": []})
            entry["indexes"].append(index)

        for index, value in enumerate((body or {}).get("dataValues") or []):
            de = self._resolve(self.data_elements, de_scheme, value.get("dataElement"))
            ou = self._resolve(self.org_units, ou_scheme, value.get("orgUnit"))
            coc = self._resolve(self.category_option_combos, coc_scheme,
                                value.get("categoryOptionCombo") or (
                                    DEFAULT_COC["code"] if coc_scheme.upper() == "CODE"
                                    else DEFAULT_COC["id"]))
            problem = False
            if de is None:
                conflict(value.get("dataElement"), "dataElement", "E7610",
                         "Data element not found or not accessible", index)
                problem = True
            if ou is None:
                conflict(value.get("orgUnit"), "orgUnit", "E7612",
                         "Organisation unit not found or not accessible", index)
                problem = True
            if coc is None:
                conflict(value.get("categoryOptionCombo"), "categoryOptionCombo", "E7613",
                         "Category option combo not found or not accessible", index)
                problem = True
            if not PERIOD.match(str(value.get("period", ""))):
                conflict(value.get("period"), "period", "E7611", "Period not valid", index)
                problem = True
            try:
                float(value.get("value"))
            except (TypeError, ValueError):
                conflict(value.get("value"), "value", "E7619",
                         "Value must be a number", index)
                problem = True
            if problem:
                ignored += 1
                continue
            key = (de, value["period"], ou, coc)
            if key in self.values or key in staged:
                if self.values.get(key) == str(value["value"]):
                    ignored += 1
                else:
                    updated += 1
            else:
                imported += 1
            staged[key] = str(value["value"])
        if not dry_run:
            self.values.update(staged)
        status = "SUCCESS" if not conflicts else ("WARNING" if imported + updated else "ERROR")
        summary = {"responseType": "ImportSummary", "status": status,
                   "importOptions": {"dryRun": dry_run,
                                     "importStrategy": args.get("importStrategy")},
                   "description": "Import process completed successfully",
                   "importCount": {"imported": imported, "updated": updated,
                                   "ignored": ignored, "deleted": 0},
                   "conflicts": list(conflicts.values()), "dataSetComplete": "false"}
        http = 409 if conflicts else 200
        return self._json({"httpStatus": "Conflict" if conflicts else "OK",
                           "httpStatusCode": http, "status": status if conflicts else "OK",
                           "message": ("One more conflicts encountered, please check import "
                                       "summary.") if conflicts else "Import was successful.",
                           "response": summary}, http)
