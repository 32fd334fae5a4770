"""User text shown as text: titles, tags, file and owner names, error messages.

Streamlit renders most strings as Markdown (GitHub's, plus its own colours, icons and LaTeX):
a run titled ``![t](http://host/pixel.png)`` would make every viewer's browser fetch that URL.
CommonMark lets any ASCII punctuation be escaped with a backslash, which makes it a literal
character: no link, image, emphasis, HTML, code span, directive or formula can start.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pandas as pd

# The characters that can start Markdown (links, images, emphasis, code, HTML, entities,
# headings, lists, tables, strikethrough, Streamlit's :directives: and $formulas$; "." and ":"
# also break bare-URL autolinks). Others ("/", ",", "@") are left as they are, so plain
# figures such as "n/a" or "1,234" read the same in the page's Markdown source.
_MARKUP = re.compile(r"([\\`*_\[\]()!<>#|~:$&{}=+\-.])")


# Bare URLs and emails become links after escapes are read (GitHub's autolink extension works
# on the text), and so do Streamlit's ":material/<name>:" icon and ":streamlit:" logo (an error
# message drew them, in walks): a word joiner (U+2060, invisible) inside "://", after "www",
# after "@" and after the icon's or logo's first colon keeps them text.
_AUTOLINK = re.compile(r"(:)(?=//)|((?i:www))(?=\.)|(@)|(:)(?=(?i:material)/|(?i:streamlit):)")


def plain(text: object) -> str:
    """``text`` for a Markdown-rendering element, shown as written."""
    joined = _AUTOLINK.sub(lambda m: m.group(0) + "\u2060", str(text))
    return _MARKUP.sub(r"\\\1", joined)


def plain_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for ``st.table`` (whose cells are Markdown too) with every text cell plain:
    a node's string attribute, an error message."""
    return frame.map(lambda value: plain(value) if isinstance(value, str) else value)


# A figure as tables.cell_text writes it ("1,234.5", "12", "n/a"), not a version ("2.21.0").
_FIGURE = re.compile(r"-?\d[\d,]*(\.\d+)?|n/a")


def markdown_table(rows: Sequence[Mapping[str, str]]) -> str:
    """Rows of text as one Markdown table, every cell plain, a column of figures (or n/a)
    right-aligned. One element for the browser: ``st.table`` draws each cell as a Markdown
    element of its own (70 for a four-mode matrix: about 25 ms more in chromium, and its code
    is loaded on a page's first table, 0.3 s)."""
    columns = list(rows[0]) if rows else []

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(plain(c).replace("\n", " ") for c in cells) + " |"

    align = ["---:" if all(_FIGURE.fullmatch(row[c]) for row in rows) else "---"
             for c in columns]
    return "\n".join([line(columns), "|" + "|".join(align) + "|",
                      *(line([row[c] for c in columns]) for row in rows)])
