"""The evening itself, while it runs: teachers running late, the teacher's live page and
the organiser's live view (docs/evening-live.md)."""
