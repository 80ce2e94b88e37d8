"""xcc-sessions: webshop clickstream to customer sessions, in SQL, behind a metrics API."""

from importlib.metadata import version

__version__ = version("xcc-sessions")
