"""The checks of what the service writes, each against its source: the faithfulness guard (a
brief against its article, :mod:`.faithfulness`), the extractive guarantee (an extractive brief is
article text word for word, :mod:`.verbatim`) and the translation check (a translation keeps its
source's numbers, dates and names, :mod:`.preservation`)."""
