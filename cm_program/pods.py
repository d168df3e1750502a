"""Pods: a list per CM program that supervisors keep (issue 12, dead end 10).

Enrollments keep the pod's name in the seed's ``pod_assignment`` column; every writer goes
through ``pod_for_enrollment`` so "Pod A", "pod a" and "POD  A" are one pod.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from cm_program.models import ContingencyManagement, Enrollment, Pod

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
