"""How the tests run a notebook, and what its outputs must not hold, for
tests/test_notebooks.py (which executes the notebooks with nbclient) and tests/test_release.py
(whose nbgrader autograde run executes every graded notebook: the source and the students'
edition, each handed in as a submission).

``NO_NETWORK``: a ``sitecustomize.py`` for the kernel's ``PYTHONPATH``: sockets may reach
loopback only, so a notebook that would need the internet in a classroom fails in the tests.
``failing_line(out)``: the line of its cell at which an error output's traceback left it.

``output_problems(nb)``: error outputs, tracebacks on stderr and figures printed as text,
each named by its cell; and the stderr lines that are only warnings. ``source_checks_not_passed``:
the graded cells of an executed source (with the solutions) that do not show a passing check.
"""
from __future__ import annotations

import re

# Loaded by the kernel's Python at start-up (PYTHONPATH): sockets may reach loopback only.
NO_NETWORK = '''
import socket

def _refuse(host):
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host)
    if host in ("", "localhost", "::1") or host.startswith("127."):
        return
    raise OSError(f"the notebook tests run without network: refused to reach {host!r}")

_connect, _connect_ex, _getaddrinfo = (socket.socket.connect, socket.socket.connect_ex,
                                       socket.getaddrinfo)

def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse(address[0])
    return _connect(self, address)

def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse(address[0])
    return _connect_ex(self, address)

def getaddrinfo(host, *args, **kwargs):
    if host is not None:
        _refuse(host)
    return _getaddrinfo(host, *args, **kwargs)

socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = (connect, connect_ex,
                                                                       getaddrinfo)
'''



def cell_label(i: int, cell) -> str:
    text = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    first = text.strip().splitlines()[0][:60] if text.strip() else ""
    return f"cell {i} ({first!r})"


def output_problems(nb) -> tuple[list[str], list[str]]:
    """(problems, warnings) of an executed notebook (an nbformat node or its dict)."""
    problems, warnings = [], []
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":      # a cell tagged raises-exception, say
                problems.append(f"{cell_label(i, cell)}: {out.get('ename')}: {out.get('evalue')}")
            elif kind == "stream" and out.get("name") == "stderr":
                text = out.get("text", "")
                text = text if isinstance(text, str) else "".join(text)
                if "Traceback" in text:
                    problems.append(f"{cell_label(i, cell)}: a traceback on stderr:\n{text}")
                else:
                    warnings.append(f"{cell_label(i, cell)} wrote on stderr: {text.strip()}")
            data = out.get("data", {})
            plain = data.get("text/plain", "")
            plain = plain if isinstance(plain, str) else "".join(plain)
            if plain.startswith(("<Figure size", "Figure(")) and "image/png" not in data:
                # a matplotlib Figure that IPython could only print as text: no picture
                problems.append(f"{cell_label(i, cell)}: a figure shown as text ({plain!r}), "
                                "not as a picture")
    return problems, warnings


def failing_line(out) -> int | None:
    """The line (from 1) of the cell at which an error output's traceback left the cell
    (IPython's "Cell In[7], line 4"), or None."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(out.get("traceback", [])))
    found = re.search(r"Cell In\[\d+\], line (\d+)", text)
    return int(found.group(1)) if found else None


def source_checks_not_passed(nb) -> list[str]:
    """The graded cells (nbgrader ``grade: true`` code cells) of an executed source notebook
    whose output is not a passing check: each must show "✓ Right." and no "Not yet"."""
    failed = []
    for i, cell in enumerate(nb["cells"]):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] != "code" or not meta.get("grade"):
            continue
        texts = []
        for out in cell.get("outputs", []):
            for part in (out.get("text", ""), out.get("data", {}).get("text/plain", "")):
                texts.append(part if isinstance(part, str) else "".join(part))
        text = "\n".join(texts)
        if "✓ Right." not in text or "Not yet" in text:
            failed.append(f"{cell_label(i, cell)} [{meta.get('grade_id')}]: {text.strip()[:200]!r}")
    return failed
