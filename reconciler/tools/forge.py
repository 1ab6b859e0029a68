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
  On GitHub only an artifact of a run of the named workflow (``--workflow``; by default the
  workflow running this job, from ``GITHUB_WORKFLOW_REF``) for that pull request's head
  commit counts: a workflow file added in a pull request cannot supply the plan. No merged
  request, or no plan of its last commit, exits 4: nothing was reviewed, so nothing is
  applied. (`reconcile apply` then applies it only if it is exactly the plan the merged files
  give.)

Tokens: GitHub ``GITHUB_TOKEN`` (or ``GH_TOKEN``; the workflow's token with
``pull-requests: write``, ``issues: write`` or ``actions: read`` as each job needs); GitLab
``GITLAB_TOKEN``, a project access token (role Reporter, scope ``api``): ``CI_JOB_TOKEN`` may
neither write notes nor list a commit's merge requests. Tokens go only into request headers,
never to another host when a download is redirected (artifacts live in object storage), and
never to another host than the API's: a ``next`` link or a path naming another scheme, host
or port is refused before anything is sent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from reconciler.core.redact import redact, register
from reconciler.tools.forgeapi import (
    Api,
    ForgeError,
    NothingReviewed,
    member_of,
    new_client,
    write_file,
)

MARKER = "<!-- waldur-catalog-reconciler -->"
DRIFT_MARKER = "<!-- waldur-catalog-reconciler:drift -->"
DRIFT_LABEL = "catalog-drift"
#: A comment's limit is 65,536 characters on GitHub (GitLab allows 1,000,000): stay under it.
MAX_BODY = 65_000


def environment_marker(environment: str) -> str:
    """The hidden marker of an environment's own plan comment (`MARKER` without one)."""
    return f"<!-- waldur-catalog-reconciler:env={environment} -->" if environment else MARKER


def compose(body: str, title: str, footer: str, marker: str = MARKER) -> str:
    """The comment: marker, title, body (cut to fit), footer."""
    head = f"{marker}\n### {title}\n\n"
    tail = f"\n\n{footer}\n" if footer else "\n"
    room = MAX_BODY - len(head) - len(tail)
    if len(body) > room:
        cut = "\n\n… (cut to fit the forge's comment limit; the whole plan is in the job's log)"
        body = body[: room - len(cut)] + cut
    return head + body.rstrip("\n") + tail


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

    def comment(self, body: str, number: int | None = None, marker: str = MARKER) -> str:
        number = self._number(number)
        for item in self.api.pages(f"repos/{self.repo}/issues/{number}/comments"):
            if marker in (item.get("body") or ""):
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

    def fetch_plan(self, out: Path, artifact: str, member: str, workflow: str = "") -> str:
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
        workflow = self._workflow(workflow)
        found = self._artifact(workflow, head, artifact)
        if found is None:
            raise NothingReviewed(
                f"pull request #{pull['number']} has no plan artifact '{artifact}' of its last "
                f"commit {head[:12]} from workflow {workflow} (its plan job failed, did not "
                "run, or the artifact expired); re-plan: push to a new pull request, review "
                "its plan, merge"
            )
        run, chosen = found
        data = self.api.download(f"repos/{self.repo}/actions/artifacts/{chosen['id']}/zip")
        write_file(out, member_of(data, member))
        return (
            f"fetched the plan reviewed in pull request #{pull['number']} "
            f"(commit {head[:12]}, workflow {workflow}, run {run}) to {out}"
        )

    def _workflow(self, given: str) -> str:
        """The plan's workflow file name: `given`, or this run's own (GITHUB_WORKFLOW_REF is
        ``owner/repo/.github/workflows/FILE@ref``)."""
        if given:
            return given.rsplit("/", 1)[-1]
        ref = self.env.get("GITHUB_WORKFLOW_REF", "").split("@", 1)[0]
        if "/.github/workflows/" not in ref:
            raise ForgeError(
                "cannot tell which workflow made the reviewed plan (no GITHUB_WORKFLOW_REF): "
                "give --workflow FILE"
            )
        return ref.rsplit("/", 1)[-1]

    def _artifact(
        self, workflow: str, head: str, artifact: str
    ) -> tuple[int, dict[str, Any]] | None:
        """(run id, artifact): the newest `artifact` of the newest pull-request run of
        `workflow` for commit `head`, or None."""
        runs = [
            run
            for run in self.api.pages(
                f"repos/{self.repo}/actions/workflows/{quote(workflow, safe='')}/runs",
                "workflow_runs",
                head_sha=head,
            )
            if run.get("head_sha") == head
            and run.get("event") in ("pull_request", "pull_request_target")
            and str(run.get("path") or "").split("@", 1)[0].rsplit("/", 1)[-1] == workflow
        ]
        runs.sort(key=lambda run: run.get("created_at") or "", reverse=True)
        for run in runs:
            artifacts = [
                a
                for a in self.api.pages(
                    f"repos/{self.repo}/actions/runs/{run['id']}/artifacts",
                    "artifacts",
                    name=artifact,
                )
                if a.get("name") == artifact and not a.get("expired")
            ]
            if artifacts:
                return int(run["id"]), max(artifacts, key=lambda a: a.get("created_at") or "")
        return None


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

    def comment(self, body: str, number: int | None = None, marker: str = MARKER) -> str:
        iid = number or int(self.env.get("CI_MERGE_REQUEST_IID") or 0)
        if not iid:
            raise ForgeError("not a merge-request pipeline (no CI_MERGE_REQUEST_IID)")
        notes = f"projects/{self.project}/merge_requests/{iid}/notes"
        for item in self.api.pages(notes):
            if marker in (item.get("body") or ""):
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
                    write_file(out, data)
                    return (
                        f"fetched the plan reviewed in merge request !{mr['iid']} "
                        f"(commit {head[:12]}, job {found['id']}) to {out}"
                    )
        raise NothingReviewed(
            f"merge request !{mr['iid']} has no successful '{job}' job of its last commit "
            f"{head[:12]} (its plan failed, did not run, or its artifacts expired); re-plan: "
            "open a new merge request, review its plan, merge"
        )


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
    p.add_argument(
        "--environment", default="", help="one comment per environment: this one's (--env NAME)"
    )
    p = sub.add_parser("drift-issue", help="open, update or close the drift issue")
    p.add_argument("--body-file", type=Path, required=True)
    p.add_argument("--title", default="Waldur software catalog drifted from Git")
    p.add_argument("--drifted", action=argparse.BooleanOptionalAction, required=True)
    p = sub.add_parser("fetch-plan", help="download the plan reviewed in the merged request")
    p.add_argument("--out", type=Path, default=Path("plan.json"))
    p.add_argument("--artifact", default="reconcile-plan", help="GitHub: the artifact's name")
    p.add_argument(
        "--workflow",
        default="",
        help="GitHub: the file name of the workflow whose pull-request run made the plan "
        "(default: the workflow running this job)",
    )
    p.add_argument("--job", default="catalog-plan", help="GitLab: the plan job's name")
    p.add_argument("--path", default="plan.json", help="the plan file inside the artifacts")
    return parser


def run(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    args = _parser().parse_args(argv)
    with new_client() as client:
        forge = forge_from_environ(environ, client)
        if args.command == "fetch-plan":
            if isinstance(forge, GitHub):
                return forge.fetch_plan(args.out, args.artifact, args.path, args.workflow)
            return forge.fetch_plan(args.out, args.job, args.path)
        body = redact(args.body_file.read_text(encoding="utf-8"))
        if args.command == "comment":
            if not forge.token:
                return f"warning: no {forge.name} token: the plan is in the job's log only"
            marker = environment_marker(args.environment)
            title = f"{args.title} ({args.environment})" if args.environment else args.title
            return forge.comment(compose(body, title, forge.footer(), marker), args.number, marker)
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
