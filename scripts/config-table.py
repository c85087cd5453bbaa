#!/usr/bin/env python3
"""Prints config/default.toml as a Markdown table (key, default, meaning) for the README,
so the defaults file stays the one place where keys are written down."""
import pathlib
import re

src = pathlib.Path(__file__).resolve().parent.parent / "config" / "default.toml"
section, notes = "", []
print("| key (env `PAYCHAT_<KEY>`) | default | meaning |")
print("|---|---|---|")
for line in src.read_text().splitlines():
    line = line.strip()
    m = re.match(r"# --- (.+) ---", line)
    if m:
        section, notes = m.group(1), []
        print(f"| **{section}** | | |")
    elif line.startswith("#"):
        notes.append(line.lstrip("# ").replace("|", "\\|"))
    elif "=" in line and section:
        key, value = (p.strip() for p in line.split("=", 1))
        print(f"| `{key}` | `{value.replace('|', '/')}` | {' '.join(notes)} |")
        notes = []
    else:
        notes = []
