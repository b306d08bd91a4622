"""Closed forms (Erlang, Bass) and fits of outputs, used by the summary, the reports and the
tests."""
