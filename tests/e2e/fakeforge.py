"""A loopback stand-in for the parts of GitHub's and GitLab's REST APIs the pipelines use.

It keeps comments, notes, issues, merged pull/merge requests, pipelines and artifacts in memory,
answers with the forges' shapes, paginates with ``Link: rel="next"`` (``per_page``/``page``),
checks the token (GitHub ``Authorization: Bearer``, GitLab ``PRIVATE-TOKEN``), and serves
artifact downloads as a redirect to another origin (``localhost`` instead of ``127.0.0.1``),
as the forges send them to object storage. Every request is recorded.
"""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

GITHUB_TOKEN = "ghs-fake-token"
GITLAB_TOKEN = "glpat-fake-token"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    authorised: bool
    body: Any = None


@dataclass
class State:
    repo: str = "acme/catalog"
    project: str = "42"
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # PR → comments
    issues: list[dict[str, Any]] = field(default_factory=list)
    pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # commit → PRs
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)  # workflow runs
    next_base: str = ""  # another origin for `next` links (a hostile forge)
    blobs: dict[int, bytes] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # MR → notes
    mrs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # commit → MRs
    pipelines: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # MR → pipelines
    jobs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # pipeline → jobs
    job_files: dict[tuple[int, str], bytes] = field(default_factory=dict)
    gitlab_issues: list[dict[str, Any]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    next_id: int = 1000

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


def zip_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


class FakeForge:
    def __init__(self) -> None:
        self.state = State()
        self.lock = threading.Lock()
        forge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                with forge.lock:
                    status, payload, headers = forge.route(
                        self.command, parts.path, query, body, self.headers
                    )
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeForge:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- routing -------------------------------------------------------------------------

    def _page(self, items: list[Any], path: str, query: dict[str, str]) -> tuple:
        per_page = int(query.get("per_page", 30))
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {"Content-Type": "application/json"}
        if page * per_page < len(items):
            rest = {**query, "page": str(page + 1)}
            link = "&".join(f"{k}={v}" for k, v in rest.items())
            headers["Link"] = f'<{self.state.next_base or self.base}{path}?{link}>; rel="next"'
        return 200, chunk, headers

    def route(self, method: str, path: str, query: dict[str, str], body: Any, headers: Any):
        s = self.state
        json_h = {"Content-Type": "application/json"}
        if path.startswith("/blob/"):
            s.seen.append(Seen(method, path, query, "authorization" in headers, body))
            return 200, s.blobs[int(path.rsplit("/", 1)[1])], {"Content-Type": "application/zip"}
        if path.startswith("/api/v4/"):
            ok = headers.get("PRIVATE-TOKEN") == GITLAB_TOKEN
            s.seen.append(Seen(method, path, query, ok, body))
            if not ok:
                return 401, {"message": "401 Unauthorized"}, json_h
            return self.gitlab(method, path[len("/api/v4/") :], query, body)
        ok = headers.get("Authorization") == f"Bearer {GITHUB_TOKEN}"
        s.seen.append(Seen(method, path, query, ok, body))
        if not ok:
            return 401, {"message": "Bad credentials"}, json_h
        return self.github(method, path, query, body)

    def github(self, method: str, path: str, query: dict[str, str], body: Any):
        s = self.state
        json_h = {"Content-Type": "application/json"}
        prefix = f"/repos/{s.repo}/"
        if not path.startswith(prefix):
            return 404, {"message": "Not Found"}, json_h
        rest = path[len(prefix) :]
        if m := re.fullmatch(r"issues/(\d+)/comments", rest):
            number = int(m.group(1))
            if method == "GET":
                return self._page(s.comments.get(number, []), path, query)
            item = {"id": s.new_id(), "body": body["body"]}
            s.comments.setdefault(number, []).append(item)
            return 201, item, json_h
        if m := re.fullmatch(r"issues/comments/(\d+)", rest):
            for comments in s.comments.values():
                for item in comments:
                    if item["id"] == int(m.group(1)):
                        item["body"] = body["body"]
                        return 200, item, json_h
            return 404, {"message": "Not Found"}, json_h
        if rest == "issues":
            if method == "GET":
                state = query.get("state", "open")
                return self._page([i for i in s.issues if i["state"] == state], path, query)
            number = len(s.issues) + 1
            item = {"number": number, "title": body["title"], "body": body["body"], "state": "open"}
            s.issues.append(item)
            return 201, item, json_h
        if m := re.fullmatch(r"issues/(\d+)", rest):
            item = s.issues[int(m.group(1)) - 1]
            item.update(body)
            return 200, item, json_h
        if m := re.fullmatch(r"commits/([0-9a-f]+)/pulls", rest):
            return 200, s.pulls.get(m.group(1), []), json_h
        if rest == "actions/artifacts":
            found = [a for a in s.artifacts if a["name"] == query.get("name", a["name"])]
            page = self._page(found[::-1], path, query)  # newest first
            return page[0], {"total_count": len(found), "artifacts": page[1]}, page[2]
        if m := re.fullmatch(r"actions/workflows/([^/]+)/runs", rest):
            found = [
                r
                for r in s.runs
                if r["path"].rsplit("/", 1)[-1] == m.group(1)
                and r["head_sha"] == query.get("head_sha", r["head_sha"])
            ]
            page = self._page(found[::-1], path, query)
            return page[0], {"total_count": len(found), "workflow_runs": page[1]}, page[2]
        if m := re.fullmatch(r"actions/runs/(\d+)/artifacts", rest):
            found = [
                a
                for a in s.artifacts
                if a["workflow_run"]["id"] == int(m.group(1))
                and a["name"] == query.get("name", a["name"])
            ]
            page = self._page(found[::-1], path, query)
            return page[0], {"total_count": len(found), "artifacts": page[1]}, page[2]
        if m := re.fullmatch(r"actions/artifacts/(\d+)/zip", rest):
            location = f"http://localhost:{self.port}/blob/{m.group(1)}"
            return 302, b"", {"Location": location}
        return 404, {"message": "Not Found"}, json_h

    def gitlab(self, method: str, path: str, query: dict[str, str], body: Any):
        s = self.state
        json_h = {"Content-Type": "application/json"}
        prefix = f"projects/{s.project}/"
        if not path.startswith(prefix):
            return 404, {"message": "404 Project Not Found"}, json_h
        rest = path[len(prefix) :]
        if m := re.fullmatch(r"merge_requests/(\d+)/notes", rest):
            iid = int(m.group(1))
            if method == "GET":
                return self._page(s.notes.get(iid, []), "/api/v4/" + path, query)
            item = {"id": s.new_id(), "body": body["body"]}
            s.notes.setdefault(iid, []).append(item)
            return 201, item, json_h
        if m := re.fullmatch(r"merge_requests/(\d+)/notes/(\d+)", rest):
            for item in s.notes.get(int(m.group(1)), []):
                if item["id"] == int(m.group(2)):
                    item["body"] = body["body"]
                    return 200, item, json_h
            return 404, {"message": "404 Not found"}, json_h
        if m := re.fullmatch(r"repository/commits/([0-9a-f]+)/merge_requests", rest):
            return 200, s.mrs.get(m.group(1), []), json_h
        if m := re.fullmatch(r"merge_requests/(\d+)/pipelines", rest):
            return self._page(s.pipelines.get(int(m.group(1)), []), "/api/v4/" + path, query)
        if m := re.fullmatch(r"pipelines/(\d+)/jobs", rest):
            jobs = [
                j
                for j in s.jobs.get(int(m.group(1)), [])
                if j["status"] == query.get("scope", j["status"])
            ]
            return self._page(jobs, "/api/v4/" + path, query)
        if m := re.fullmatch(r"jobs/(\d+)/artifacts/(.+)", rest):
            data = s.job_files.get((int(m.group(1)), m.group(2)))
            if data is None:
                return 404, {"message": "404 Not Found"}, json_h
            return 200, data, {"Content-Type": "application/octet-stream"}
        if rest == "issues":
            if method == "GET":
                wanted = [
                    i
                    for i in s.gitlab_issues
                    if i["state"] == query.get("state", i["state"])
                    and query.get("labels", "") in (*i["labels"], "")
                ]
                return self._page(wanted, "/api/v4/" + path, query)
            labels = [x for x in body.get("labels", "").split(",") if x]
            item = {
                "iid": len(s.gitlab_issues) + 1,
                "title": body["title"],
                "description": body["description"],
                "labels": labels,
                "state": "opened",
                "notes": [],
            }
            s.gitlab_issues.append(item)
            return 201, item, json_h
        if m := re.fullmatch(r"issues/(\d+)", rest):
            item = s.gitlab_issues[int(m.group(1)) - 1]
            if body.get("state_event") == "close":
                item["state"] = "closed"
            if "description" in body:
                item["description"] = body["description"]
            return 200, item, json_h
        if m := re.fullmatch(r"issues/(\d+)/notes", rest):
            item = s.gitlab_issues[int(m.group(1)) - 1]
            item["notes"].append(body["body"])
            return 201, {"id": s.new_id(), "body": body["body"]}, json_h
        return 404, {"message": "404 Not Found"}, json_h


WORKFLOW = ".github/workflows/catalog.yml"


def upload(forge: FakeForge, data: bytes, head_sha: str, workflow: str = WORKFLOW) -> int:
    """A pull-request run of `workflow` for `head_sha` that uploaded `data` as the plan
    artifact (what actions/upload-artifact does); its run id."""
    state = forge.state
    run_id, artifact_id = state.new_id(), state.new_id()
    stamp = f"2026-01-01T00:{artifact_id // 60 % 60:02d}:{artifact_id % 60:02d}Z"
    state.runs.append(
        {
            "id": run_id,
            "path": workflow,
            "event": "pull_request",
            "head_sha": head_sha,
            "created_at": stamp,
        }
    )
    state.blobs[artifact_id] = zip_of("plan.json", data)
    state.artifacts.append(
        {
            "id": artifact_id,
            "name": "reconcile-plan",
            "expired": False,
            "created_at": stamp,
            "workflow_run": {"id": run_id, "head_sha": head_sha},
        }
    )
    return run_id
