"""One factory per model. Names are fictional; dates of birth are in the past."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from cm_program.models import ContingencyManagement, Enrollment, PatientCM
from identity.models import PatientCanonical
from intakeq_link.models import IntakeQPatient, PatientIntakeQLink
from providers.models import Provider, ProviderCM


class UserFactory(factory.django.DjangoModelFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")

    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]


class PatientCanonicalFactory(factory.django.DjangoModelFactory):
    first_name = factory.Faker("first_name")
    last_name = factory.Sequence(lambda n: f"Testperson{n}")
    date_of_birth = factory.Faker(
        "date_between", start_date=datetime.date(1950, 1, 1), end_date=datetime.date(2005, 12, 31)
    )

    class Meta:
        model = PatientCanonical


class ContingencyManagementFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"CM program {n}")
    # Each program's list of pods (issue 12): the forms offer these.
    pod_a = factory.RelatedFactory("tests.factories.PodFactory", "cm_program", name="Pod A")
    pod_b = factory.RelatedFactory("tests.factories.PodFactory", "cm_program", name="Pod B")

    class Meta:
        model = ContingencyManagement
        skip_postgeneration_save = True


class PodFactory(factory.django.DjangoModelFactory):
    cm_program = factory.SubFactory(ContingencyManagementFactory, pod_a=None, pod_b=None)
    name = factory.Sequence(lambda n: f"Pod {n}")

    class Meta:
        model = "cm_program.Pod"


class PatientCMFactory(factory.django.DjangoModelFactory):
    canonical_patient = factory.SubFactory(PatientCanonicalFactory)
    phone = "(801) 555-0100"
    email = factory.Sequence(lambda n: f"participant{n}@example.com")
    insurance_primary = "Utah Medicaid"
    enrollment_source = PatientCM.EnrollmentSource.ACUTE_CARE
    smartphone_access = PatientCM.SmartphoneAccess.YES

    class Meta:
        model = PatientCM


class ProviderFactory(factory.django.DjangoModelFactory):
    """A row of the practice's legacy `providers` table."""

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = "psychiatrist"
    credentials = "MD"

    class Meta:
        model = Provider


class ProviderCMFactory(factory.django.DjangoModelFactory):
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"cpss{n}@example.com")
    role = ProviderCM.Role.CPSS
    credentials = "CPSS-I"

    class Meta:
        model = ProviderCM


class EnrollmentFactory(factory.django.DjangoModelFactory):
    cm_patient = factory.SubFactory(PatientCMFactory)
    canonical_patient = factory.SelfAttribute("cm_patient.canonical_patient")
    cm_program = factory.SubFactory(ContingencyManagementFactory)
    cpss_provider = factory.SubFactory(ProviderCMFactory)

    class Meta:
        model = Enrollment


class IntakeQPatientFactory(factory.django.DjangoModelFactory):
    intakeq_client_id = factory.Sequence(lambda n: f"IQ-{100000 + n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Sequence(lambda n: f"Emrperson{n}")
    date_of_birth = factory.Faker(
        "date_between", start_date=datetime.date(1950, 1, 1), end_date=datetime.date(2005, 12, 31)
    )
    phone = "(801) 555-0199"
    email = factory.Sequence(lambda n: f"emr{n}@example.com")

    class Meta:
        model = IntakeQPatient


class PatientIntakeQLinkFactory(factory.django.DjangoModelFactory):
    canonical_patient = factory.SubFactory(PatientCanonicalFactory)
    intakeq_patient = factory.SubFactory(IntakeQPatientFactory)
    confidence_score = Decimal("1.00")

    class Meta:
        model = PatientIntakeQLink


# --- CPSS pages (issue 4) ---


def staff_group(name: str):
    """The named staff group with its permissions, also after a transactional test's flush."""
    from django.contrib.auth.models import Group, Permission

    from staff.groups import GROUP_PERMISSIONS

    group, created = Group.objects.get_or_create(name=name)
    if created or not group.permissions.exists():
        codenames = GROUP_PERMISSIONS[name]
        if codenames == "__all__":
            group.permissions.set(Permission.objects.all())
        else:
            group.permissions.set(
                [
                    Permission.objects.get(content_type__app_label=app, codename=codename)
                    for app, codename in (dotted.split(".") for dotted in codenames)
                ]
            )
    return group


class StaffUserFactory(UserFactory):
    """A login in one staff group: ``StaffUserFactory(group="CPSS Supervisor")``."""

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def group(obj, create, extracted, **kwargs):
        if create:
            obj.groups.add(staff_group(extracted or "CPSS"))


class CPSSFactory(ProviderCMFactory):
    """An active CPSS with a login in the CPSS group."""

    user = factory.SubFactory(StaffUserFactory)


class LinkProposalFactory(factory.django.DjangoModelFactory):
    """A pending canonical ↔ IntakeQ pair in the review queue (intakeq_link)."""

    canonical_patient = factory.SubFactory(PatientCanonicalFactory)
    intakeq_patient = factory.SubFactory(IntakeQPatientFactory)
    score = Decimal("0.90")
    reasons = factory.LazyFunction(lambda: ["nickname"])

    class Meta:
        model = "intakeq_link.LinkProposal"


def admin_user(**kwargs):
    """A staff member of the Admin group, who may review IntakeQ links."""
    from django.contrib.auth.models import Group

    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name="Admin"))
    return user


class SupervisorRequestFactory(factory.django.DjangoModelFactory):
    """A pending enrollment request in the supervisor queue (cm_program, issue 11)."""

    kind = "enrollment"
    requested_by = factory.SubFactory(UserFactory)
    first_name = "Jessica"
    last_name = factory.Sequence(lambda n: f"Requested{n}")
    date_of_birth = datetime.date(1992, 3, 22)
    cm_program = factory.SubFactory(ContingencyManagementFactory)
    enrollment_source = "acute_care"

    class Meta:
        model = "cm_program.SupervisorRequest"
