"""A sample developer's package: converts lengths with factors from its own data file."""
