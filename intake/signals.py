"""Signals of the intake app for writes that bypass ``Appeal.save`` (bulk SQL).

The model signals tell the apps above intake (analytics counts appeals per day and unit) about
every saved appeal; a bulk insert in SQL (the COPY import) sends ``appeals_written`` instead, with
``appeal_ids`` (the rows written) and ``using`` (the database alias), inside the writer's
transaction. Intake never knows who listens.
"""

from django.dispatch import Signal

appeals_written = Signal()
