"""Pods: a list per CM program that supervisors keep (issue 12, dead end 10).

Enrollments keep the pod's name in the seed's ``pod_assignment`` column; every writer goes
through ``pod_for_enrollment`` so "Pod A", "pod a" and "POD  A" are one pod.
"""

from collections import Counter, defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.db.models.functions import Lower

from cm_program.models import ContingencyManagement, Enrollment, Pod, SupervisorRequest

MANAGE_PERMISSION = "cm_program.manage_pods"


def pod_name_key(name: str) -> str:
    """Spaces folded, case ignored: the key two spellings of one pod share."""
    return " ".join((name or "").split()).lower()


def pod_for_enrollment(*, cm_program: ContingencyManagement, name: str | None) -> str | None:
    """The program's own spelling of an active pod, None for no pod; refused when not listed."""
    key = pod_name_key(name or "")
    if not key:
        return None
    pod = (
        Pod.objects.annotate(key=Lower("name"))
        .filter(cm_program=cm_program, key=key, is_active=True)
        .first()
    )
    if pod is None:
        raise ValidationError(
            {"pod_assignment": f"{' '.join(name.split())} is not one of {cm_program}'s pods."}
        )
    return pod.name


def enrollment_pod_choices(enrollment) -> list[tuple[str, str]]:
    """The pods an enrollment may move to: its program's active pods, "No pod", and the pod it
    is in now even when that one is no longer listed (kept until someone picks another)."""
    names = list(
        Pod.objects.filter(cm_program=enrollment.cm_program_id, is_active=True).values_list(
            "name", flat=True
        )
    )
    current = enrollment.pod_assignment
    if current and current not in names:
        names.append(current)
    return [("", "No pod"), *((name, name) for name in names)]


def pods_offered():
    """Active pods of open programs, for the enrollment forms."""
    return Pod.objects.filter(is_active=True, cm_program__is_active=True).select_related(
        "cm_program"
    )


@transaction.atomic
def pod_create(*, cm_program: ContingencyManagement, name: str, actor) -> Pod:
    pod = Pod(cm_program=cm_program, name=" ".join((name or "").split()))
    pod.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            pod.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"name": f"{cm_program} already has a pod named {pod.name}."}
        ) from exc
    return pod


@transaction.atomic
def pod_update(*, pod: Pod, actor, name: str | None = None, is_active: bool | None = None) -> Pod:
    """Rename (the program's enrollments follow) or retire a pod; no change, no write."""
    pod = Pod.objects.select_for_update().get(pk=pod.pk)
    old_name = pod.name
    new_name = " ".join(name.split()) if name is not None else old_name
    active = pod.is_active if is_active is None else is_active
    if (new_name, active) == (old_name, pod.is_active):
        return pod
    pod.name, pod.is_active = new_name, active
    pod.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            pod.save(update_fields=["name", "is_active", "updated_at"])
    except IntegrityError as exc:
        raise ValidationError(
            {"name": f"{pod.cm_program} already has a pod named {new_name}."}
        ) from exc
    if new_name != old_name:
        Enrollment.objects.filter(cm_program=pod.cm_program_id, pod_assignment=old_name).update(
            pod_assignment=new_name
        )
    return pod


def pods_fold(
    *,
    pod_model=Pod,
    enrollment_model=Enrollment,
    request_model=SupervisorRequest,
    program_ids=None,
) -> int:
    """Turn free-text pods into each program's list: spellings that differ only in case or
    spaces become one pod, named by the most used spelling (ties: the first in sort order, so
    reruns agree); enrollments and pending requests are rewritten to it. Returns rows rewritten.

    Used by migration 0008 (with its historical models) and by the legacy migration.
    """
    enrollments = enrollment_model.objects.exclude(pod_assignment__isnull=True).exclude(
        cm_program__isnull=True
    )
    requests = (
        request_model.objects.filter(status="pending")
        .exclude(pod_assignment__isnull=True)
        .exclude(cm_program__isnull=True)
    )
    if program_ids is not None:
        enrollments = enrollments.filter(cm_program_id__in=program_ids)
        requests = requests.filter(cm_program_id__in=program_ids)
    used = defaultdict(Counter)  # (program id, key) -> spellings and how often
    for rows in (enrollments, requests):
        counts = rows.values_list("cm_program_id", "pod_assignment").annotate(n=Count("pk"))
        for program_id, value, n in counts.order_by():
            if pod_name_key(value):
                used[(program_id, pod_name_key(value))][" ".join(value.split())] += n
    listed = {
        (pod.cm_program_id, pod_name_key(pod.name)): pod.name for pod in pod_model.objects.all()
    }
    for (program_id, key), spellings in used.items():
        if (program_id, key) not in listed:
            name = sorted(spellings.items(), key=lambda item: (-item[1], item[0]))[0][0]
            listed[(program_id, key)] = pod_model.objects.create(
                cm_program_id=program_id, name=name
            ).name
    rewritten = 0
    for rows in (enrollments, requests):
        pairs = rows.values_list("cm_program_id", "pod_assignment").distinct().order_by()
        for program_id, value in list(pairs):
            folded = listed.get((program_id, pod_name_key(value)))
            if folded != value:
                rewritten += rows.filter(cm_program_id=program_id, pod_assignment=value).update(
                    pod_assignment=folded
                )
    return rewritten
