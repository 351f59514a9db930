"""docs/lifecycle.md shows the transition table exactly as the code has it."""

from __future__ import annotations

from pathlib import Path

from chalicelib.services.lifecycle import TRANSITIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md"
BEGIN, END = "<!-- transitions: begin -->", "<!-- transitions: end -->"


def rendered() -> str:
    rows = ["| transition | from | to | what changes with it |", "|---|---|---|---|"]
    for t in TRANSITIONS:
        sources = ", ".join(f"`{s}`" for s in t.sources)
        rows.append(f"| `{t.name}` | {sources} | `{t.target}` | {t.effects} |")
    return "\n".join(rows)


def test_the_documented_table_is_the_code_s_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert documented == rendered(), (
        "docs/lifecycle.md is out of date; replace its table with:\n" + rendered()
    )


if __name__ == "__main__":
    print(rendered())
