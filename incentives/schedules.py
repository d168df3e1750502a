"""The demo schedule: California's Recovery Incentives Program (CalAIM, DHCS BHIN 23-040) in
points of 50 cents. An example only: the clinic must confirm its own numbers before use."""

DEMO_SCHEDULE = {
    "name": "Stimulant CM (example modelled on CalAIM)",
    "weeks": [
        {"first_week": 1, "last_week": 12, "tests_per_week": 2},
        {"first_week": 13, "last_week": 24, "tests_per_week": 1},
    ],
    "cents_per_point": 50,
    "base_points": 20,  # $10.00
    "step_points": 3,  # +$1.50 per consecutive negative
    "max_points": 53,  # $26.50
    "cap_points": 1198,  # $599 per calendar year, under the $600 tax-reporting threshold
    "cap_period": "calendar_year",
    "recovery_after": 2,
    "missed_resets": True,
    "target_analytes": ["cocaine", "methamphetamine", "amphetamine"],
    "citation": (
        "DHCS BHIN 23-040, California Recovery Incentives Program (CalAIM): 24 weeks; "
        "$10 rising to $26.50 per stimulant-negative test; at most $599 per person per year."
    ),
    "is_example": True,
    "notes": "Example numbers: the clinic must confirm them (and its funder's limits) first.",
}
