"""Transport-free stages of the brief pipeline: normalise, detect language, segment, summarise."""
