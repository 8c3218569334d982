"""Revisions: the next version of a bill, built from accepted amendments, with the provenance
of every change, diffs between versions, and contributions re-attached to the new text."""
