"""The router sends reads to the replica only inside replica_reads(), and only when one is configured.

tests/test_replica.py proves the same on a real PostgreSQL streaming replica.
"""

import pytest
from django.db import transaction

from encounters.models import Encounter
from outreach import replica
from outreach.replica import ReplicaRouter, read_connection, replica_reads


@pytest.fixture
def with_replica(monkeypatch):
    monkeypatch.setattr(replica, "replica_configured", lambda: True)


def test_without_a_replica_every_read_goes_to_the_primary():
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_read(Encounter) == "default"
    assert read_connection(Encounter).alias == "default"


def test_report_reads_go_to_the_replica_and_other_reads_to_the_primary(with_replica):
    router = ReplicaRouter()
    assert router.db_for_read(Encounter) == "default"
    with replica_reads():
        assert router.db_for_read(Encounter) == "replica"
        # Writes never go there.
        assert router.db_for_write(Encounter) == "default"
    assert router.db_for_read(Encounter) == "default"


@pytest.mark.django_db
def test_a_transaction_on_the_primary_reads_the_primary(with_replica):
    router = ReplicaRouter()
    with replica_reads(), transaction.atomic():
        assert router.db_for_read(Encounter) == "default"


def test_the_replica_is_never_migrated():
    router = ReplicaRouter()
    assert router.allow_migrate("default", "encounters") is True
    assert router.allow_migrate("replica", "encounters") is False
