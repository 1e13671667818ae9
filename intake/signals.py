"""Signals of the intake app for writes that bypass ``Appeal.save`` (bulk SQL).

The model signals tell the apps above intake (analytics counts appeals per day and unit) about
every saved appeal; a bulk insert in SQL (the COPY import) sends ``appeals_written`` instead, with
``appeal_ids`` (the rows written) and ``using`` (the database alias), inside the writer's
transaction. A large write sends it once per chunk of ids (10,000 for the import), so that no
list of every id is held: a receiver must expect several sends for one write, and a day or unit
that comes back in a later chunk. Intake never knows who listens.
"""

from django.dispatch import Signal

appeals_written = Signal()
