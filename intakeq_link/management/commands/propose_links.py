"""manage.py propose_links: feed the review queues, nightly.

Runs the matcher for every canonical patient without an IntakeQ link (IntakeQ pairs and possible
duplicate canonical patients) and for the IntakeQ rows created since the last finished run, and
links or queues what it finds (intakeq_link.services). Safe to rerun: a pair is queued once and a
rejected pair never again.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.audit_context import command_context
from identity.models import PatientCanonical
from intakeq_link.models import IntakeQPatient, ProposeLinksRun
from intakeq_link.services import propose_links_for, propose_links_for_intakeq


class Command(BaseCommand):
    help = (
        "Match canonical patients without an IntakeQ link, and IntakeQ rows new since the last "
        "run, and link or queue for review what is found. Safe to rerun; run it nightly."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Do everything in transactions that are rolled back; print what would happen.",
        )
        parser.add_argument(
            "--batch-size", type=int, default=500, help="People per transaction (default 500)."
        )

    def handle(self, *args, **options):
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        self.dry_run = options["dry_run"]
        self.counts = {"people": 0, "linked": 0, "queued": 0, "duplicates": 0}
        # Pairs, not rows: both passes may meet the same pair, and a dry run rolls rows back.
        self.pairs, self.duplicate_pairs = set(), set()
        last = ProposeLinksRun.objects.filter(finished_at__isnull=False).first()
        since = last.intakeq_until if last else None
        until = IntakeQPatient.objects.from_intakeq().aggregate(Max("created_at"))[
            "created_at__max"
        ]
        with command_context("propose_links", dry_run=self.dry_run):
            canonical = PatientCanonical.objects.filter(
                intakeq_link__isnull=True, merged_into__isnull=True
            )
            self._pass("canonical", canonical, batch_size, self._canonical_one)
            intakeq = IntakeQPatient.objects.from_intakeq().filter(
                canonical_link__isnull=True, date_of_birth__isnull=False
            )
            if since is not None:
                intakeq = intakeq.filter(created_at__gt=since)
            if until is not None:
                intakeq = intakeq.filter(created_at__lte=until)
            self._pass("IntakeQ", intakeq, batch_size, self._intakeq_one)
            if not self.dry_run:
                ProposeLinksRun.objects.create(
                    finished_at=timezone.now(), intakeq_until=until or since, counts=self.counts
                )
        c = self.counts
        self.stdout.write(
            f"{'Dry run: would have ' if self.dry_run else ''}matched {c['people']} people: "
            f"{c['linked']} linked automatically, {c['queued']} IntakeQ pairs and "
            f"{c['duplicates']} possible duplicates waiting for review."
        )

    def _pass(self, label, queryset, batch_size, one):
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        total = len(ids)
        for start in range(0, total, batch_size):
            with transaction.atomic():
                chunk = queryset.model.objects.filter(pk__in=ids[start : start + batch_size])
                for person in chunk.order_by("pk"):
                    one(person)
                transaction.set_rollback(self.dry_run)
            done = min(start + batch_size, total)
            self.stdout.write(f"  {label}: {done}/{total} ({100 * done // total}%)")

    def _tally(self, outcome):
        self.counts["people"] += 1
        self.counts["linked"] += outcome.link is not None
        self.pairs.update((p.canonical_patient_id, p.intakeq_patient_id) for p in outcome.queued)
        self.duplicate_pairs.update((d.first_id, d.second_id) for d in outcome.duplicates)
        self.counts["queued"] = len(self.pairs)
        self.counts["duplicates"] = len(self.duplicate_pairs)

    def _canonical_one(self, patient):
        self._tally(propose_links_for(canonical_patient=patient, include_duplicates=True))

    def _intakeq_one(self, intakeq_patient):
        self._tally(propose_links_for_intakeq(intakeq_patient=intakeq_patient))
