"""Engines behind small Protocols: summarisers and translators."""
