"""Write a bill back as Markdown in the import format (docs/bill-format.md).

The next version of a bill is built from the current one and the accepted amendments; the
official then edits it by hand as text, and publishing parses that text again. So the text
written here must read back as the same tree: ``parse_bill(write_bill(bill))`` gives the same
divisions, articles, keys, headings and alinéas (tests/bills/test_writer.py checks it).
"""

from __future__ import annotations

from consult.bills.models import ProvisionKind
from consult.bills.parser import ParsedBill, ParsedProvision

MEMORANDUM_HEADING = "# Exposé des motifs"
# Markdown heading level and French name of each level of the tree.
_HEADINGS = {
    ProvisionKind.TITRE: ("#", "TITRE"),
    ProvisionKind.CHAPITRE: ("##", "Chapitre"),
    ProvisionKind.SECTION: ("###", "Section"),
    ProvisionKind.SOUS_SECTION: ("####", "Sous-section"),
    ProvisionKind.ARTICLE: ("#####", "Article"),
}


def heading_line(node: ParsedProvision) -> str:
    """ "##### Article 7 bis : Heading" for an article or a division."""
    marks, name = _HEADINGS[ProvisionKind(node.kind)]
    title = f"{marks} {name} {node.number}"
    return f"{title} : {node.heading}" if node.heading else title


def _write(node: ParsedProvision, blocks: list[str]) -> None:
    if ProvisionKind(node.kind) is ProvisionKind.ALINEA:
        blocks.append(" ".join(node.text.split("\n")))
        return
    blocks.append(heading_line(node))
    for child in node.children:
        _write(child, blocks)


def write_bill(bill: ParsedBill) -> str:
    """The Markdown source of ``bill``: exposé des motifs, then the tree, blocks separated by a
    blank line (a paragraph is an alinéa)."""
    blocks: list[str] = []
    if bill.explanatory_memorandum.strip():
        blocks.append(MEMORANDUM_HEADING)
        blocks.extend(
            paragraph.strip()
            for paragraph in bill.explanatory_memorandum.split("\n\n")
            if paragraph.strip()
        )
    for node in bill.provisions:
        _write(node, blocks)
    return "\n\n".join(blocks) + "\n"
