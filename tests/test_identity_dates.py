"""identity.dates.date_of_birth_variants: the slips the matcher blocks on, and their kinds."""

import datetime

from identity import dates
from identity.validators import EARLIEST_DATE_OF_BIRTH


def kind(value: str, other: str) -> str:
    parse = datetime.date.fromisoformat
    return dates.compare_dates(parse(value), parse(other))


def test_the_same_date_is_exact():
    assert kind("1992-03-22", "1992-03-22") == dates.EXACT


def test_day_and_month_read_the_other_way_round_are_swapped():
    assert kind("1992-03-11", "1992-11-03") == dates.DAY_MONTH_SWAPPED


def test_two_neighbouring_digits_exchanged_are_transposed():
    assert kind("1987-05-13", "1987-05-31") == dates.TRANSPOSED
    assert kind("1978-05-14", "1987-05-14") == dates.TRANSPOSED


def test_one_digit_of_the_month_day_or_year_off_is_one_digit():
    assert kind("1987-05-14", "1987-05-24") == dates.ONE_DIGIT
    assert kind("1987-05-14", "1987-06-14") == dates.ONE_DIGIT
    assert kind("1987-05-14", "1988-05-14") == dates.ONE_DIGIT


def test_a_wrong_decade_century_or_millennium_digit_is_its_own_kind():
    assert kind("1987-05-14", "1997-05-14") == dates.DECADE_DIGIT
    assert kind("1987-05-14", "1907-05-14") == dates.DECADE_DIGIT
    assert kind("2001-05-14", "1001-05-14") == dates.DIFFERENT  # before the earliest birth date


def test_a_slip_that_is_also_a_swap_keeps_the_first_kind_found():
    # 01 <-> 10 is both the day and month read the other way and two digits exchanged.
    assert kind("1990-01-10", "1990-10-01") == dates.DAY_MONTH_SWAPPED


def test_dates_two_slips_away_differ():
    assert kind("1987-05-14", "1987-06-15") == dates.DIFFERENT


def test_variants_are_real_dates_only():
    variants = dates.date_of_birth_variants(datetime.date(1992, 2, 19))
    assert datetime.date(1992, 2, 29) in variants  # 1992 is a leap year
    assert all(isinstance(value, datetime.date) for value in variants)
    leap_free = dates.date_of_birth_variants(datetime.date(1993, 2, 19))
    assert not any(value.month == 2 and value.day > 28 for value in leap_free)


def test_no_variant_is_before_the_earliest_date_of_birth():
    variants = dates.date_of_birth_variants(datetime.date(1900, 1, 5))
    assert min(variants) >= EARLIEST_DATE_OF_BIRTH
