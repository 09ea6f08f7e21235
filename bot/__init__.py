"""Relais: a Telegram bot that gets a young person harassed online to real help.

The package is layered so each part knows as little as it can:
``flows``/``locales``/``resources`` hold data and its validation, ``engine`` is the
pure dialogue logic, ``storage`` persists state, and ``telegram``/``console`` are the
channels that carry it to a person.
"""

__version__ = "0.1.0"
