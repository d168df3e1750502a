from django.db import transaction

from providers.models import ProviderCM


@transaction.atomic
def provider_cm_create(*, first_name: str, last_name: str, **fields) -> ProviderCM:
    provider = ProviderCM(first_name=first_name, last_name=last_name, **fields)
    provider.full_clean()
    provider.save()
    return provider
