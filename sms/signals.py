"""Signals of the SMS layer for the apps above it (the SMS layer imports none of them)."""

from django.dispatch import Signal

# A citizen's message, stored and not yet read (and not an opt-out, which the SMS layer handles
# itself). Sent with ``inbound`` (the ``InboundSms`` row, locked, inside the reader's transaction).
# A receiver that reads it returns an ``InboundOutcome`` value and may set ``inbound.matched_sms``
# (saved by the sender); a receiver that does not recognise it returns "". An exception leaves the
# row unread: the sweeper sends it again a minute later. Nobody answering → ``unmatched``.
inbound_received = Signal()
