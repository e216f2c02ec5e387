"""Every relative markdown link in README.md and docs/*.md resolves: the file exists and, with an
``#anchor``, the target page has a heading of that GitHub-style slug. Code blocks and inline code
are not links."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:")


def prose_lines(text: str) -> list[str]:
    """The lines of a markdown text with fenced code blocks blanked (line numbers kept)."""
    lines, fenced = [], False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            lines.append("")
        else:
            lines.append("" if fenced else line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of ``page``'s headings (repeated slugs numbered as GitHub does)."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose_lines(page.read_text()):
        match = HEADING.match(line)
        if match:
            name = slug(match.group(2))
            count = seen.get(name, 0)
            seen[name] = count + 1
            found.add(name if count == 0 else f"{name}-{count}")
    return found


def broken_links(pages: list[Path]) -> list[str]:
    """``page:line: target: reason`` for each relative link of ``pages`` that does not resolve."""
    broken = []
    for page in pages:
        for number, line in enumerate(prose_lines(page.read_text()), 1):
            for match in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
                target = match.group(1)
                if SCHEME.match(target) or target.startswith("//"):
                    continue
                path, _, anchor = target.partition("#")
                dest = (page.parent / path).resolve() if path else page
                where = f"{page.name}:{number}: {target}"
                if not dest.exists():
                    broken.append(f"{where}: no such file")
                elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                    broken.append(f"{where}: no heading #{anchor}")
    return broken


def test_readme_and_docs_links_resolve():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert len(pages) > 5
    assert broken_links(pages) == []


def test_checker_finds_broken_links(tmp_path):
    (tmp_path / "other.md").write_text("# A title\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md#a-title) [gone](missing.md) [bad](other.md#nope) `[code](missing.md)`\n"
                    "```\n[fenced](missing.md)\n```\n[web](https://example.org)\n")
    assert broken_links([page]) == ["page.md:1: missing.md: no such file", "page.md:1: other.md#nope: no heading #nope"]
