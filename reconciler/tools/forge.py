"""The forge's side of a GitOps pipeline: GitHub's and GitLab's REST APIs, from inside their CI.

    python -m reconciler.tools.forge comment --body-file plan.md     # the sticky plan comment
    python -m reconciler.tools.forge drift-issue --body-file plan.md --drifted|--no-drift
    python -m reconciler.tools.forge fetch-plan --out plan.json      # the merged PR's plan

The forge is the CI it runs in: GitHub when ``GITHUB_ACTIONS=true``, GitLab when
``GITLAB_CI=true``; everything else comes from the CI's own variables.

- **comment**: one comment per pull request (GitHub) or note per merge request (GitLab),
  found again by the hidden `MARKER` and edited in place on every push, never a new one.
- **drift-issue**: the scheduled drift check opens one issue (found again by `DRIFT_MARKER`)
  when the live catalog drifted, updates it while it stays drifted, and closes it with a
  comment when a check finds no drift.
- **fetch-plan**: on the main branch, the plan that was reviewed: the pull/merge request this
  commit merged, the last successful plan of that request's head commit, its saved plan file.
  No merged request, or no plan of its last commit, exits 4: nothing was reviewed, so nothing
  is applied.

Tokens: GitHub ``GITHUB_TOKEN`` (or ``GH_TOKEN``; the workflow's token with
``pull-requests: write``, ``issues: write`` or ``actions: read`` as each job needs); GitLab
``GITLAB_TOKEN``, a project access token (role Reporter, scope ``api``): ``CI_JOB_TOKEN`` may
neither write notes nor list a commit's merge requests. Tokens go only into request headers,
and never to another host when a download is redirected (artifacts live in object storage).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from reconciler.core.redact import redact, register

MARKER = "<!-- waldur-catalog-reconciler -->"
DRIFT_MARKER = "<!-- waldur-catalog-reconciler:drift -->"
DRIFT_LABEL = "catalog-drift"
#: A comment's limit is 65,536 characters on GitHub (GitLab allows 1,000,000): stay under it.
MAX_BODY = 65_000
TIMEOUT = 30.0


class ForgeError(Exception):
    """Something the forge answered or lacks; exit 1 unless `exit_code` says otherwise."""

    exit_code = 1


class NothingReviewed(ForgeError):
    """No reviewed plan for this commit: refuse (exit 4, as a stale saved plan)."""

    exit_code = 4


def compose(body: str, title: str, footer: str, marker: str = MARKER) -> str:
    """The comment: marker, title, body (cut to fit), footer."""
    head = f"{marker}\n### {title}\n\n"
    tail = f"\n\n{footer}\n" if footer else "\n"
    room = MAX_BODY - len(head) - len(tail)
    if len(body) > room:
        cut = "\n\n… (cut to fit the forge's comment limit; the whole plan is in the job's log)"
        body = body[: room - len(cut)] + cut
    return head + body.rstrip("\n") + tail


@dataclass
class Api:
    """A small REST client: JSON in and out, ``Link: rel="next"`` pagination (both forges)."""

    base: str
    headers: dict[str, str]
    client: httpx.Client

    def url(self, path: str) -> str:
        return path if "://" in path else self.base.rstrip("/") + "/" + path.lstrip("/")

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        try:
            response = self.client.request(
                method, self.url(path), headers=self.headers, json=body, params=params or None
            )
        except httpx.HTTPError as exc:
            raise ForgeError(f"{method} {self.url(path)}: {exc}") from None
        if response.status_code >= 400:
            raise ForgeError(
                f"{method} {self.url(path)}: HTTP {response.status_code}: {response.text[:300]}"
            )
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, **params).json()

    def send(self, method: str, path: str, body: Any) -> Any:
        return self.call(method, path, body).json()

    def pages(self, path: str, key: str = "", **params: Any) -> Iterator[Any]:
        """Every item of a listing: the answer's list, or its `key` (GitHub's artifacts)."""
        url: str | None = path
        query: dict[str, Any] = {**params, "per_page": 100}
        for _ in range(100):  # at most 10,000 items: enough for comments, issues, artifacts
            if url is None:
                return
            response = self.call("GET", url, **query)
            data = response.json()
            yield from data[key] if key else data
            url = response.links.get("next", {}).get("url")
            query = {}  # the next link carries the query

    def download(self, path: str) -> bytes:
        """GET, following redirects by hand: the token goes to the API's host only."""
        url = self.url(path)
        origin = urlsplit(url)[:2]
        for _ in range(5):
            headers = self.headers if urlsplit(url)[:2] == origin else {}
            try:
                response = self.client.get(url, headers=headers)
            except httpx.HTTPError as exc:
                raise ForgeError(f"GET {url}: {exc}") from None
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code >= 400:
                raise ForgeError(f"GET {url}: HTTP {response.status_code}")
            return response.content
        raise ForgeError(f"GET {path}: too many redirects")


def _client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False)


def _write(out: Path, data: bytes) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)


class GitHub:
    """GitHub's REST API from inside GitHub Actions."""

    name = "GitHub"

    def __init__(self, environ: Mapping[str, str], client: httpx.Client) -> None:
        self.env = environ
        self.repo = environ.get("GITHUB_REPOSITORY", "")
        self.token = environ.get("GITHUB_TOKEN") or environ.get("GH_TOKEN") or ""
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "waldur-catalog-reconciler",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.api = Api(environ.get("GITHUB_API_URL", "https://api.github.com"), headers, client)

    def footer(self) -> str:
        server = self.env.get("GITHUB_SERVER_URL", "https://github.com")
        run = self.env.get("GITHUB_RUN_ID")
        sha = self.env.get("GITHUB_SHA", "")[:12]
        link = f"[workflow run]({server}/{self.repo}/actions/runs/{run})" if run else ""
        return " · ".join(p for p in (f"commit `{sha}`" if sha else "", link) if p)

    def _number(self, number: int | None) -> int:
        if number:
            return number
        event_path = self.env.get("GITHUB_EVENT_PATH")
        if event_path and Path(event_path).is_file():
            event = json.loads(Path(event_path).read_text(encoding="utf-8"))
            found = (event.get("pull_request") or {}).get("number") or event.get("number")
            if found:
                return int(found)
        raise ForgeError("not a pull request (no pull_request in the event): give --number")

    def comment(self, body: str, number: int | None = None) -> str:
        number = self._number(number)
        for item in self.api.pages(f"repos/{self.repo}/issues/{number}/comments"):
            if MARKER in (item.get("body") or ""):
                self.api.send(
                    "PATCH", f"repos/{self.repo}/issues/comments/{item['id']}", {"body": body}
                )
                return f"updated the plan comment on pull request #{number}"
        self.api.send("POST", f"repos/{self.repo}/issues/{number}/comments", {"body": body})
        return f"commented the plan on pull request #{number}"

    def drift_issue(self, body: str, title: str, drifted: bool) -> str:
        found = next(
            (
                item
                for item in self.api.pages(f"repos/{self.repo}/issues", state="open")
                if "pull_request" not in item and DRIFT_MARKER in (item.get("body") or "")
            ),
            None,
        )
        if drifted and found:
            self.api.send("PATCH", f"repos/{self.repo}/issues/{found['number']}", {"body": body})
            return f"updated drift issue #{found['number']}"
        if drifted:
            made = self.api.send(
                "POST", f"repos/{self.repo}/issues", {"title": title, "body": body}
            )
            return f"opened drift issue #{made['number']}"
        if found:
            number = found["number"]
            note = f"No drift any more: the live catalog matches the files. {self.footer()}"
            self.api.send("POST", f"repos/{self.repo}/issues/{number}/comments", {"body": note})
            self.api.send(
                "PATCH",
                f"repos/{self.repo}/issues/{number}",
                {"state": "closed", "state_reason": "completed"},
            )
            return f"closed drift issue #{number}"
        return "no drift, no drift issue open"

    def fetch_plan(self, out: Path, artifact: str, member: str) -> str:
        sha = self.env.get("GITHUB_SHA", "")
        pulls = [
            p for p in self.api.get(f"repos/{self.repo}/commits/{sha}/pulls") if p.get("merged_at")
        ]
        pulls.sort(key=lambda p: p.get("merge_commit_sha") != sha)  # the one it merged first
        if not pulls:
            raise NothingReviewed(
                f"commit {sha[:12]} merged no pull request, so no plan of it was reviewed; "
                "change the catalog through a pull request (its plan is applied after the merge)"
            )
        pull = pulls[0]
        head = pull["head"]["sha"]
        candidates = [
            a
            for a in self.api.pages(
                f"repos/{self.repo}/actions/artifacts", "artifacts", name=artifact
            )
            if a.get("name") == artifact
            and not a.get("expired")
            and (a.get("workflow_run") or {}).get("head_sha") == head
        ]
        if not candidates:
            raise NothingReviewed(
                f"pull request #{pull['number']} has no plan artifact '{artifact}' of its last "
                f"commit {head[:12]} (its plan job failed, did not run, or the artifact expired); "
                "re-plan: push to a new pull request, review its plan, merge"
            )
        newest = max(candidates, key=lambda a: a.get("created_at") or "")
        data = self.api.download(f"repos/{self.repo}/actions/artifacts/{newest['id']}/zip")
        _write(out, _member(data, member))
        run = (newest.get("workflow_run") or {}).get("id")
        return (
            f"fetched the plan reviewed in pull request #{pull['number']} "
            f"(commit {head[:12]}, workflow run {run}) to {out}"
        )


class GitLab:
    """GitLab's REST API (v4) from inside GitLab CI."""

    name = "GitLab"

    def __init__(self, environ: Mapping[str, str], client: httpx.Client) -> None:
        self.env = environ
        self.project = quote(environ.get("CI_PROJECT_ID", ""), safe="")
        self.token = environ.get("GITLAB_TOKEN", "")
        headers = {"User-Agent": "waldur-catalog-reconciler"}
        if self.token:
            headers["PRIVATE-TOKEN"] = self.token
        self.api = Api(environ.get("CI_API_V4_URL", ""), headers, client)

    def footer(self) -> str:
        sha = self.env.get("CI_COMMIT_SHA", "")[:12]
        job = self.env.get("CI_JOB_URL")
        return " · ".join(
            p for p in (f"commit `{sha}`" if sha else "", f"[job]({job})" if job else "") if p
        )

    def comment(self, body: str, number: int | None = None) -> str:
        iid = number or int(self.env.get("CI_MERGE_REQUEST_IID") or 0)
        if not iid:
            raise ForgeError("not a merge-request pipeline (no CI_MERGE_REQUEST_IID)")
        notes = f"projects/{self.project}/merge_requests/{iid}/notes"
        for item in self.api.pages(notes):
            if MARKER in (item.get("body") or ""):
                self.api.send("PUT", f"{notes}/{item['id']}", {"body": body})
                return f"updated the plan note on merge request !{iid}"
        self.api.send("POST", notes, {"body": body})
        return f"noted the plan on merge request !{iid}"

    def drift_issue(self, body: str, title: str, drifted: bool) -> str:
        issues = f"projects/{self.project}/issues"
        found = next(
            (
                item
                for item in self.api.pages(issues, state="opened", labels=DRIFT_LABEL)
                if DRIFT_MARKER in (item.get("description") or "")
            ),
            None,
        )
        if drifted and found:
            self.api.send("PUT", f"{issues}/{found['iid']}", {"description": body})
            return f"updated drift issue #{found['iid']}"
        if drifted:
            made = self.api.send(
                "POST", issues, {"title": title, "description": body, "labels": DRIFT_LABEL}
            )
            return f"opened drift issue #{made['iid']}"
        if found:
            iid = found["iid"]
            note = f"No drift any more: the live catalog matches the files. {self.footer()}"
            self.api.send("POST", f"{issues}/{iid}/notes", {"body": note})
            self.api.send("PUT", f"{issues}/{iid}", {"state_event": "close"})
            return f"closed drift issue #{iid}"
        return "no drift, no drift issue open"

    def fetch_plan(self, out: Path, job: str, member: str) -> str:
        sha = self.env.get("CI_COMMIT_SHA", "")
        if not self.token:
            raise ForgeError(
                "GITLAB_TOKEN is not set: a project access token (Reporter, scope api) is "
                "needed to find the merge request this commit merged"
            )
        base = f"projects/{self.project}"
        merged = [
            m
            for m in self.api.get(f"{base}/repository/commits/{sha}/merge_requests")
            if m.get("state") == "merged"
        ]
        merged.sort(
            key=lambda m: sha not in (m.get("merge_commit_sha"), m.get("squash_commit_sha"))
        )
        if not merged:
            raise NothingReviewed(
                f"commit {sha[:12]} merged no merge request, so no plan of it was reviewed; "
                "change the catalog through a merge request (its plan is applied after the merge)"
            )
        mr = merged[0]
        head = mr.get("sha") or ""
        for pipeline in self.api.pages(f"{base}/merge_requests/{mr['iid']}/pipelines"):
            if pipeline.get("sha") != head:
                continue
            jobs = self.api.pages(f"{base}/pipelines/{pipeline['id']}/jobs", scope="success")
            for found in jobs:
                if found.get("name") == job:
                    data = self.api.download(f"{base}/jobs/{found['id']}/artifacts/{quote(member)}")
                    _write(out, data)
                    return (
                        f"fetched the plan reviewed in merge request !{mr['iid']} "
                        f"(commit {head[:12]}, job {found['id']}) to {out}"
                    )
        raise NothingReviewed(
            f"merge request !{mr['iid']} has no successful '{job}' job of its last commit "
            f"{head[:12]} (its plan failed, did not run, or its artifacts expired); re-plan: "
            "open a new merge request, review its plan, merge"
        )


def _member(data: bytes, name: str) -> bytes:
    """The file `name` (or the only file) of a zip archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            chosen = next((n for n in names if Path(n).name == Path(name).name), None)
            if chosen is None and len(names) == 1:
                chosen = names[0]
            if chosen is None:
                raise ForgeError(f"the artifact holds no {name} (it holds {', '.join(names)})")
            return archive.read(chosen)
    except zipfile.BadZipFile:
        raise ForgeError("the artifact is not a zip archive") from None


def forge_from_environ(environ: Mapping[str, str], client: httpx.Client) -> GitHub | GitLab:
    if environ.get("GITHUB_ACTIONS") == "true":
        return GitHub(environ, client)
    if environ.get("GITLAB_CI") == "true":
        return GitLab(environ, client)
    raise ForgeError("neither GitHub Actions (GITHUB_ACTIONS) nor GitLab CI (GITLAB_CI)")


#: The tokens a forge job may hold.
_SECRETS = ("GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "WALDUR_API_TOKEN")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reconciler.tools.forge",
        description="Post plans to pull/merge requests, keep a drift issue, fetch the "
        "reviewed plan: from inside GitHub Actions or GitLab CI.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("comment", help="create or update the request's one plan comment")
    p.add_argument("--body-file", type=Path, required=True)
    p.add_argument("--title", default="Waldur software catalog: plan")
    p.add_argument("--number", type=int, help="the pull/merge request (default: this CI's)")
    p = sub.add_parser("drift-issue", help="open, update or close the drift issue")
    p.add_argument("--body-file", type=Path, required=True)
    p.add_argument("--title", default="Waldur software catalog drifted from Git")
    p.add_argument("--drifted", action=argparse.BooleanOptionalAction, required=True)
    p = sub.add_parser("fetch-plan", help="download the plan reviewed in the merged request")
    p.add_argument("--out", type=Path, default=Path("plan.json"))
    p.add_argument("--artifact", default="reconcile-plan", help="GitHub: the artifact's name")
    p.add_argument("--job", default="catalog-plan", help="GitLab: the plan job's name")
    p.add_argument("--path", default="plan.json", help="the plan file inside the artifacts")
    return parser


def run(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    args = _parser().parse_args(argv)
    with _client() as client:
        forge = forge_from_environ(environ, client)
        if args.command == "fetch-plan":
            which = args.artifact if isinstance(forge, GitHub) else args.job
            return forge.fetch_plan(args.out, which, args.path)
        body = redact(args.body_file.read_text(encoding="utf-8"))
        if args.command == "comment":
            if not forge.token:
                return f"warning: no {forge.name} token: the plan is in the job's log only"
            return forge.comment(compose(body, args.title, forge.footer()), args.number)
        text = compose(body, args.title, forge.footer(), DRIFT_MARKER)
        return forge.drift_issue(text, args.title, args.drifted)


def main(argv: Sequence[str] | None = None) -> int:
    for name in _SECRETS:  # masked in the comment posted and in everything printed
        register(os.environ.get(name))
    try:
        sys.stdout.write(redact(run(sys.argv[1:] if argv is None else argv, os.environ)) + "\n")
    except ForgeError as exc:
        sys.stderr.write(f"error: {redact(str(exc))}\n")
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
