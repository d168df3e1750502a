"""The lists' paginator."""

from django.core.paginator import Paginator as DjangoPaginator


def first_if_below_one(number):
    """A page number below 1 (``?page=0``) as page 1: Django's ``get_page`` gives the last
    page for it, while a number that is not one (``?page=x``) already gives the first."""
    try:
        return 1 if int(number) < 1 else number
    except (TypeError, ValueError):
        return number


class Paginator(DjangoPaginator):
    def get_page(self, number):
        return super().get_page(first_if_below_one(number))
