"""Abstract bases for the seed's tables: the UUID key and the database-defaulted timestamps.

The defaults live in the database (``gen_random_uuid()``, the transaction's time) because the
practice's other clients insert into these tables without Django; Django's own defaults are
kept too so an unsaved instance already has its id. The columns are nullable as in the seed.
"""

import uuid

from django.contrib.postgres.functions import RandomUUID, TransactionNow
from django.db import models


class UUIDModel(models.Model):
    """``id UUID PRIMARY KEY DEFAULT gen_random_uuid()``."""

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False
    )

    class Meta:
        abstract = True


class TimestampedModel(UUIDModel):
    """Also ``created_at`` and ``updated_at``, both ``TIMESTAMPTZ DEFAULT NOW()``.

    ``NOW()`` is the transaction's start time, hence ``TransactionNow`` (Django's ``Now`` is
    the statement's). ``updated_at`` is kept by a trigger as well (``core.db``), for writers
    that bypass Django.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_default=TransactionNow(), null=True)
    updated_at = models.DateTimeField(auto_now=True, db_default=TransactionNow(), null=True)

    class Meta:
        abstract = True
