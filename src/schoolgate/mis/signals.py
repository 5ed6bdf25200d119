"""Signals of the mis app that apps above it listen to (mis imports none of them)."""

from django.dispatch import Signal

# Sent by mis.demo once the demo school's mirror and sign-ins exist, inside its
# set-up: the evenings app adds its demo evening (schoolgate.evenings.demo).
demo_school_ready = Signal()
