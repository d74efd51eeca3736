"""In-process caches over one byte-bounded LRU (:mod:`.lru`): whole results (:mod:`.results`)
and single translated texts (:mod:`.translations`)."""
