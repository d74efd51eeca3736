"""The transformers (torch) engine: translation and summarisation."""
