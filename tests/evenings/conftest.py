"""Fixtures for the evenings tests: the small school of evenings_school.py."""

from evenings_school import evening, school

__all__ = ["evening", "school"]
