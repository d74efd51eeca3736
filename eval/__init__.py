"""Offline evaluation of the service's own code (``make eval``); not part of any distribution."""
