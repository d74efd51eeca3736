"""What the tests, the soak (``make soak``) and the benchmark (``make bench``) share: a server as
a process of its own (:mod:`.server`) and the load generator (:mod:`.load`)."""
