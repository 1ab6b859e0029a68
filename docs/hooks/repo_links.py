"""MkDocs hook: a relative link from a page to a repository file outside docs/ (bench/README.md,
as such links work when browsing the repository) becomes a link to that file in the repository
on the forge (`extra.repository` in mkdocs.yml), if the file exists; a link to a file that does not
exist is left alone, so that `mkdocs build --strict` reports it."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

_LINK = re.compile(r"(\]\()([^)\s#]+)(#[^)\s]*)?(\))")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs = Path(os.path.normpath(config["docs_dir"]))
    root = docs.parent
    base = str(config["extra"].get("repository", "")).rstrip("/")
    here = (docs / page.file.src_path).parent

    def link(m: re.Match[str]) -> str:
        target = m.group(2)
        if "://" in target or target.startswith(("/", "mailto:")):
            return m.group(0)
        path = Path(os.path.normpath(here / target))
        if path.is_relative_to(docs) or not path.is_relative_to(root) or not path.exists():
            return m.group(0)
        kind = "tree" if path.is_dir() else "blob"
        url = f"{base}/{kind}/main/{path.relative_to(root).as_posix()}"
        return f"{m.group(1)}{url}{m.group(3) or ''}{m.group(4)}"

    return _LINK.sub(link, markdown)
