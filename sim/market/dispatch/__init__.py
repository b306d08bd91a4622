"""Matching requests to drivers, channel by channel: the dispatcher routes each request to its
channel's matcher."""
