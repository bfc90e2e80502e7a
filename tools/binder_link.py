"""The README's "Launch on Binder" badge, made from the repository's git remote.

    python tools/binder_link.py                 # print the badge for the remote `origin`
    python tools/binder_link.py --write         # and put it on README.md's Binder line
    python tools/binder_link.py --remote URL [--branch BRANCH] [--readme PATH] [--write]

mybinder.org builds a public repository from its URL: ``/v2/gh/OWNER/REPO/BRANCH`` for
GitHub, ``/v2/gl/GROUP%2FREPO/BRANCH`` for GitLab, ``/v2/git/URL/BRANCH`` for any other
public git host. ``?urlpath=lab/tree/notebooks/00-start-here.ipynb`` opens the course's
first notebook in JupyterLab. The link is only as right as the remote: it must be the
repository's public URL (a local path, or a remote nobody can read, gives no link).

The README's Binder line is the line after ``<!-- binder-badge -->``; ``--write`` replaces
only that line. Without a remote it writes nothing and exits 1: no link may point at a
repository that does not exist.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
BINDER = "https://mybinder.org"
BADGE_IMAGE = f"{BINDER}/badge_logo.svg"
URLPATH = "lab/tree/notebooks/00-start-here.ipynb"
MARKER = "<!-- binder-badge -->"

# https://github.com/OWNER/REPO(.git), git@github.com:OWNER/REPO(.git),
# ssh://git@github.com/OWNER/REPO(.git); the same for gitlab.com
HOSTED = re.compile(r"^(?:https?://(?:[^@/]+@)?|ssh://git@|git@)(?P<host>github\.com|gitlab\.com)"
                    r"[:/](?P<path>[^?#]+?)(?:\.git)?/?$")


def binder_url(remote: str, branch: str = "main") -> str:
    """The mybinder.org URL that builds ``remote`` at ``branch`` and opens the first notebook."""
    remote = remote.strip()
    hosted = HOSTED.match(remote)
    if hosted:
        path = hosted["path"]
        if hosted["host"] == "github.com":
            if path.count("/") != 1:
                raise ValueError(f"not a GitHub repository URL (OWNER/REPO): {remote!r}")
            spec = f"gh/{path}"
        else:
            spec = f"gl/{quote(path, safe='')}"
    elif re.match(r"^https?://[^/]+/.+", remote):
        spec = f"git/{quote(remote, safe='')}"
    else:
        raise ValueError(f"not a public repository URL that Binder can build: {remote!r} "
                         "(use the https:// URL of the published repository)")
    return f"{BINDER}/v2/{spec}/{quote(branch, safe='')}?urlpath={URLPATH}"


def badge(url: str) -> str:
    return f"[![Launch on Binder]({BADGE_IMAGE})]({url})"


def git_remote(repo: Path, name: str = "origin") -> str | None:
    done = subprocess.run(["git", "-C", str(repo), "remote", "get-url", name],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def write_badge(readme: Path, line: str) -> bool:
    """Put ``line`` after the README's marker; True if the file changed."""
    lines = readme.read_text(encoding="utf-8").split("\n")
    if MARKER not in lines:
        raise ValueError(f"{readme} has no {MARKER} line to put the badge after")
    at = lines.index(MARKER) + 1
    if at < len(lines) and lines[at] == line:
        return False
    if at < len(lines) and (lines[at].startswith("[![Launch on Binder]") or not lines[at].strip()
                            or lines[at].startswith("*Binder:")):
        lines[at] = line
    else:
        lines.insert(at, line)
    readme.write_text("\n".join(lines), encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--remote", help="the repository's public URL (default: git remote origin)")
    parser.add_argument("--branch", default="main", help="the branch Binder builds (default: main)")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    parser.add_argument("--write", action="store_true", help="put the badge in the README")
    args = parser.parse_args(argv)
    remote = args.remote or git_remote(args.readme.parent)
    if remote is None:
        print(f"{args.readme.parent} has no git remote 'origin': push the course to its public "
              "repository first, or give --remote URL (no link may point at a repository that "
              "does not exist)", file=sys.stderr)
        return 1
    try:
        line = badge(binder_url(remote, args.branch))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(line)
    if args.write:
        try:
            changed = write_badge(args.readme, line)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"{args.readme}: {'written' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
