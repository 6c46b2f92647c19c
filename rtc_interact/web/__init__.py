"""The browser viewer page the host serves (see routes.py)."""
