"""MkDocs hooks (mkdocs.yml): the site is docs/ with the repository's README.md as its home page.

The pages are written to be read in the repository, so their relative links are repository paths.
Here a link to README.md or to a page under docs/ becomes a link to that page of the site, and a
link to any other repository file (not part of the site) becomes its repository path in code.
Links in fenced code blocks are left alone.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

HOME = "index.md"
README = "README.md"
LINK = re.compile(r"(!?)\[((?:[^\]\[]|\[[^\]]*\])*)\]\(([^)\s]+)\)")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:")


def _repository(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def _docs_folder(config: MkDocsConfig) -> str:
    """The docs folder as a repository path (``docs``)."""
    return Path(config.docs_dir).resolve().relative_to(_repository(config)).as_posix()


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add README.md as the home page (unless the docs folder has an index.md of its own)."""
    if files.get_file_from_path(HOME) is None:
        files.append(File.generated(config, HOME, abs_src_path=str(_repository(config) / README)))
    return files


def site_link(target: str, page_uri: str, page_folder: str, docs: str) -> str | None:
    """``target`` (relative to the repository folder ``page_folder``) as a link from the site page
    ``page_uri``; None when it points outside the site. External and anchor-only links are kept."""
    if SCHEME.match(target) or target.startswith(("#", "/")):
        return target
    path, hash_sign, anchor = target.partition("#")
    in_repository = posixpath.normpath(posixpath.join(page_folder, path))
    if in_repository == README:
        site_uri = HOME
    elif in_repository.startswith(docs + "/"):
        site_uri = in_repository[len(docs) + 1:]
    else:
        return None
    return posixpath.relpath(site_uri, posixpath.dirname(page_uri) or ".") + hash_sign + anchor


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Rewrite the page's relative links from repository paths to site pages (see the module notes)."""
    docs = _docs_folder(config)
    is_readme = Path(page.file.abs_src_path).resolve() == _repository(config) / README
    page_folder = "" if is_readme else posixpath.join(docs, posixpath.dirname(page.file.src_uri))

    def rewrite(match: re.Match) -> str:
        bang, text, target = match.groups()
        link = site_link(target, page.file.src_uri, page_folder, docs)
        if link is None:
            path = posixpath.normpath(posixpath.join(page_folder, target.partition("#")[0]))
            return f"{text} (`{path}` in the repository)"
        return f"{bang}[{text}]({link})"

    lines, fenced = [], False
    for line in markdown.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        lines.append(line if fenced else LINK.sub(rewrite, line))
    return "\n".join(lines)
